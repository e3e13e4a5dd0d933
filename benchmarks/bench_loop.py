#!/usr/bin/env python3
"""How much the loop itself costs: per-iteration overhead and its growth, fingerprint time, prompt growth, STOP
reaction, and `--help` start-up. Run from a clone with one command:

    .venv/bin/python benchmarks/bench_loop.py            # ~1-2 minutes; --iterations 200 for a quick look

Everything happens in temporary directories (real git repos, the real loop as a separate process, a tiny /bin/sh
agent that answers at once), which are removed at the end. Prints one table with the targets; `--strict` exits 1
when a target is missed.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # a fresh clone works even before `pip install -e .`

from codex_self_iter.workspace.fingerprint import take_fingerprint  # noqa: E402

STATE = ".codex-self-iter"

# The instant agent: <prompt_file> <workspace> <role> <iteration>. Fixed-width numbers keep every answer the same
# size, so prompt growth measures the loop's history handling, not the agent's verbosity.
AGENT_SH = r"""#!/bin/sh
case "$3" in
  planner) printf '{"next_goal": "goal %06d: keep going", "summary": "plan"}\n' "$4" ;;
  *) printf '%s\n' "$4" >> "$2/work.txt"
     printf '{"status": "continue", "summary": "step %06d done", ' "$4"
     printf '"next_goal": "goal %06d: keep going", "evidence": []}\n' "$4" ;;
esac
if [ -n "${BENCH_AGENT_SLEEP:-}" ]; then touch "$BENCH_MARK"; sleep "$BENCH_AGENT_SLEEP"; fi
if [ -n "${BENCH_AGENT_FAIL:-}" ]; then exit 1; fi
"""

CONFIG = """checks = []
keep_runs = 0  # keep every prompt: the prompt-size rows compare iteration 10 with iteration 1000
max_stagnation = 1000000
no_change_gate = false
heartbeat_sec = 3600
backoff_jitter = 0
backoff_base_sec = 60
"""

NOTES = """how measured:
  iteration wall time = gap between consecutive executor calls in the loop's own journal (logs/iterations.jsonl);
  loop overhead = that gap minus the instant agent's spawn-to-reap time measured alone from Python (~1 ms), i.e.
  everything the loop does per turn: 2 git fingerprints, prompt rendering, state writes (runtime.json fsync'd),
  the agent's call reaper (a fork of the loop per call); growth = median overhead past iteration N / in a fresh
  loop, the two loops taking turns (12 iterations each, 4 rounds) so machine load hits both alike;
  STOP reaction = STOP file written (or signal sent) -> loop process exited. On a shared or busy machine the
  absolute numbers can double between runs; run twice before believing a miss."""


@dataclass
class Row:
    """One line of the report."""

    name: str
    value: float
    unit: str
    target: float | None = None  # the value must be <= target
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.target is None or self.value <= self.target


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if ordered else float("nan")


class Bench:
    """Temp dirs, an isolated environment, and helpers to build repos and run the loop."""

    def __init__(self, root: Path) -> None:
        self.root = root
        home = root / "home"
        home.mkdir()
        self.env = {
            **os.environ,
            "HOME": str(home),
            "CODEX_HOME": str(home / ".codex"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "bench",
            "GIT_AUTHOR_EMAIL": "bench@example.invalid",
            "GIT_COMMITTER_NAME": "bench",
            "GIT_COMMITTER_EMAIL": "bench@example.invalid",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        }
        self.agent = root / "agent.sh"
        self.agent.write_text(AGENT_SH)
        self.agent.chmod(0o755)
        self.config = root / "bench.toml"
        self.config.write_text(CONFIG)
        self.loops: list[subprocess.Popen[bytes]] = []

    def git(self, cwd: Path, *args: str) -> None:
        subprocess.run(["git", *args], cwd=cwd, env=self.env, check=True, capture_output=True)

    def repo(self, name: str) -> Path:
        work = self.root / name
        work.mkdir()
        self.git(work, "init", "-q", "-b", "main")
        (work / "TASK.md").write_text("# Task\nKeep the loop busy.\n")
        (work / "plan.md").write_text("# Plan\n- [ ] iterate\n")
        self.git(work, "add", "-A")
        self.git(work, "commit", "-q", "-m", "init")
        return work

    def loop_argv(self, work: Path, *extra: str) -> list[str]:
        template = f"{self.agent} {{prompt_file}} {{workspace}} {{role}} {{iteration}}"
        argv = [sys.executable, "-m", "codex_self_iter", "run", "--workspace", str(work), "--config", str(self.config)]
        return [*argv, "--agent-command-template", template, "--quiet", *extra]

    def start_loop(self, work: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            self.loop_argv(work, *extra),
            env={**self.env, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.loops.append(proc)
        return proc

    def end_loops(self) -> None:
        """Kill (by pid) any loop this benchmark started that is still running, e.g. after a failed step."""
        for proc in self.loops:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def journal(work: Path) -> list[dict[str, object]]:
    path = work / STATE / "logs" / "iterations.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_until(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("benchmark setup timed out")
        time.sleep(0.005)


def status_state(work: Path) -> object:
    try:
        return json.loads((work / STATE / "status.json").read_text()).get("state")
    except (OSError, ValueError):
        return None


def backing_off(work: Path) -> bool:
    return status_state(work) == "backing_off"


def bench_help(bench: Bench, runs: int = 15) -> list[Row]:
    """Cold start of `--help`: a new interpreter each time (the OS file cache is warm, as it is for a user)."""

    def timed(argv: list[str]) -> float:
        started = time.perf_counter()
        subprocess.run(argv, env=bench.env, check=True, capture_output=True)
        return time.perf_counter() - started

    script = Path(sys.executable).with_name("codex-self-iter")  # the console script of an installed package
    argv = [str(script), "--help"] if script.exists() else [sys.executable, "-m", "codex_self_iter", "--help"]
    shown = "codex-self-iter --help" if script.exists() else "python -m codex_self_iter --help"
    timed(argv)
    help_ms = [timed(argv) * 1000 for _ in range(runs)]
    bare_ms = [timed([sys.executable, "-c", "pass"]) * 1000 for _ in range(runs)]
    return [
        Row(f"`{shown}` cold start, median", median(help_ms), "ms", 300, f"p95 {p95(help_ms):.0f} ms"),
        Row("  of which the bare interpreter (python -c pass)", median(bare_ms), "ms"),
    ]


def bench_fingerprint(bench: Bench, files: int = 10_000, changed: int = 100, runs: int = 15) -> list[Row]:
    """take_fingerprint on a 10,000-file repo with 100 changed tracked files (what the loop does twice a turn)."""
    work = bench.root / "big-repo"
    work.mkdir()
    bench.git(work, "init", "-q", "-b", "main")
    for index in range(files):
        folder = work / f"pkg{index % 100:02d}"
        folder.mkdir(exist_ok=True)
        (folder / f"module_{index:05d}.py").write_text(f"# module {index}\nVALUE = {index}\n" + "x = 1\n" * 20)
    bench.git(work, "add", "-A")
    bench.git(work, "commit", "-q", "-m", "10k files")
    for index in range(0, files, files // changed):
        path = work / f"pkg{index % 100:02d}" / f"module_{index:05d}.py"
        path.write_text(path.read_text() + "# changed\n")
    take_fingerprint(work, STATE)  # let git refresh its index once, as the loop's baseline does
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        fingerprint = take_fingerprint(work, STATE)
        took.append((time.perf_counter() - started) * 1000)
    assert fingerprint.dirty == changed, fingerprint
    return [
        Row(
            f"fingerprint, {files:,} files / {changed} changed, median",
            median(took),
            "ms",
            150,
            f"p95 {p95(took):.0f} ms",
        )
    ]


def agent_alone_ms(bench: Bench, runs: int = 40) -> float:
    """The agent process by itself, spawned and reaped from Python: what an iteration cannot avoid."""
    scratch = bench.root / "agent-alone"
    scratch.mkdir()
    prompt = scratch / "prompt.md"
    prompt.write_text("prompt\n")
    took = []
    for iteration in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [str(bench.agent), str(prompt), str(scratch), "executor", str(iteration)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=True,
        )
        took.append((time.perf_counter() - started) * 1000)
    return median(took)


def gaps(work: Path, alone_ms: float) -> dict[int, tuple[float, float]]:
    """iteration -> (overhead, overhead outside run_process) in ms, for each executor call whose predecessor ran in
    the same loop process (a gap across a restart would time the restart)."""
    result: dict[int, tuple[float, float]] = {}
    previous: dict[str, object] | None = None
    for event in journal(work):
        if event.get("event") == "start":
            previous = None
        elif event.get("event") == "agent_call" and event.get("role") == "executor":
            if previous is not None:
                wall = (float(str(event["ts"])) - float(str(previous["ts"]))) * 1000
                inside = wall - float(str(event["duration_sec"])) * 1000
                result[int(str(event["iteration"]))] = (wall - alone_ms, inside)
            previous = event
    return result


def run_loop(bench: Bench, work: Path, iterations: int) -> float:
    """Run `iterations` more iterations on work; the seconds it took."""
    started = time.perf_counter()
    proc = bench.start_loop(work, "--max-iterations", str(iterations))
    _, err = proc.communicate(timeout=iterations * 2 + 120)
    if proc.returncode != 2:
        raise RuntimeError(f"the loop ended with {proc.returncode}: {err.decode(errors='replace')}")
    return time.perf_counter() - started


def bench_iterations(bench: Bench, iterations: int, rounds: int = 4, chunk: int = 12) -> list[Row]:
    """A long loop with the instant agent, timed from its own journal; then growth, measured fairly: a fresh loop
    and the long loop (now past iteration `iterations`) take turns running `chunk` iterations each, so that both
    see the same machine load."""
    work = bench.repo("iterations")
    total = run_loop(bench, work, iterations)
    alone = agent_alone_ms(bench)
    measured = gaps(work, alone)
    overheads = [overhead for overhead, _ in measured.values()]
    insides = [inside for _, inside in measured.values()]
    prompts = work / STATE / "prompts"
    size_early = (prompts / "00010-executor.md").stat().st_size
    size_late = (prompts / f"{iterations:05d}-executor.md").stat().st_size

    fresh = bench.repo("iterations-fresh")
    for _ in range(rounds):
        run_loop(bench, fresh, chunk)
        run_loop(bench, work, chunk)
    early = [overhead for number, (overhead, _) in gaps(fresh, alone).items() if number >= 3]
    late = [overhead for number, (overhead, _) in gaps(work, alone).items() if number > iterations]
    if len(late) < rounds * (chunk - 2) or len(early) < rounds * (chunk - 3):
        raise RuntimeError("the growth runs did not iterate as expected (did the budget semantics change?)")
    return [
        Row("iteration wall time, median", median(overheads) + alone, "ms", None, f"{iterations} iterations"),
        Row("  the agent alone (spawn to reap, from Python)", alone, "ms"),
        Row("loop overhead per iteration, median", median(overheads), "ms", 30, "wall time minus the agent alone"),
        Row("loop overhead per iteration, p95", p95(overheads), "ms"),
        Row("  outside run_process (wall minus the agent's duration_sec)", median(insides), "ms"),
        Row(
            f"overhead growth, iterations ~{iterations} vs ~10",
            median(late) / median(early),
            "x",
            1.2,
            f"{median(early):.1f} ms at 3-{rounds * chunk}, {median(late):.1f} ms at "
            f"{iterations + 1}-{iterations + rounds * chunk} (interleaved)",
        ),
        Row(
            f"prompt bytes, iteration {iterations} vs 10",
            size_late / size_early,
            "x",
            1.05,
            f"{size_early} B vs {size_late} B",
        ),
        Row("whole run", total, "s", None, f"{iterations / total:.0f} iterations/s incl. start-up"),
    ]


def bench_stop_during_sleep(bench: Bench, runs: int = 5) -> list[Row]:
    """A failing agent puts the loop into a 60 s backoff; then STOP is written. Time until the process has exited."""
    exited, noticed = [], []
    for run in range(runs):
        work = bench.repo(f"stop-sleep-{run}")
        proc = bench.start_loop(work, "--max-iterations", "5", env={"BENCH_AGENT_FAIL": "1"})
        wait_until(functools.partial(backing_off, work), 60)
        time.sleep(0.15)  # well inside the sleep, not at its first slice
        wall_at_stop = time.time()
        started = time.perf_counter()
        (work / STATE / "STOP").write_text("{}")
        proc.communicate(timeout=30)
        exited.append((time.perf_counter() - started) * 1000)
        stop = next(e for e in reversed(journal(work)) if e.get("event") == "stop")
        noticed.append((float(str(stop["ts"])) - wall_at_stop) * 1000)
        if proc.returncode != 5:
            raise RuntimeError(f"STOP during a sleep ended with {proc.returncode}")
    return [
        Row("STOP during a backoff sleep -> process exited, median", median(exited) / 1000, "s", 0.5),
        Row("  STOP during a backoff sleep -> loop decided to stop", median(noticed), "ms"),
    ]


def bench_stop_during_call(bench: Bench, runs: int = 3) -> list[Row]:
    """STOP written while a 1 s agent call runs (honoured when the call ends, by design), SIGTERM (what `stop --now`
    sends: the agent group is ended at once), and the `stop --now` command itself."""
    after_call, sigterm, stop_now = [], [], []
    for run in range(runs):
        for how in ("file", "sigterm", "stop-now"):
            work = bench.repo(f"stop-call-{run}-{how}")
            mark = bench.root / f"mark-{run}-{how}"
            env = {"BENCH_AGENT_SLEEP": "1", "BENCH_MARK": str(mark)}
            proc = bench.start_loop(work, "--max-iterations", "5", env=env)
            wait_until(mark.exists, 60)
            time.sleep(0.2)
            started = time.perf_counter()
            if how == "file":
                (work / STATE / "STOP").write_text("{}")
            elif how == "sigterm":
                proc.send_signal(signal.SIGTERM)
            else:
                stop = [sys.executable, "-m", "codex_self_iter", "stop", "--now", "--workspace", str(work)]
                subprocess.run(stop, env=bench.env, capture_output=True, check=False)
            proc.communicate(timeout=60)
            exited_at = time.time()
            took = time.perf_counter() - started
            if how == "file":
                call = next(e for e in reversed(journal(work)) if e.get("event") == "agent_call")
                after_call.append(exited_at - float(str(call["ts"])))  # from the end of the call to the exit
            elif how == "sigterm":
                sigterm.append(took)
            else:
                stop_now.append(took)
    return [
        Row("STOP file during an agent call -> exited after the call", median(after_call), "s", None, "by design"),
        Row("SIGTERM during an agent call -> agent ended, exited", median(sigterm), "s", 0.5, "what stop --now sends"),
        Row("`stop --now` during an agent call -> loop exited", median(stop_now), "s", None, "incl. its own start-up"),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=1000, help="iterations of the growth run (default 1000)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directories")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="csi-bench-"))
    git = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    print(
        f"codex-self-iter loop benchmark · Python {platform.python_version()} · {platform.system()} "
        f"{platform.release()} · {os.cpu_count()} CPUs · {git}",
        flush=True,
    )
    rows: list[Row] = []
    bench = Bench(root)
    steps: list[Callable[[], list[Row]]] = [
        lambda: bench_help(bench),
        lambda: bench_fingerprint(bench),
        lambda: bench_iterations(bench, args.iterations),
        lambda: bench_stop_during_sleep(bench),
        lambda: bench_stop_during_call(bench),
    ]
    try:
        for step in steps:
            os.sync()  # the previous step's writes must not be flushed (and timed) during this one
            for row in step():
                rows.append(row)
                print_row(row)
    finally:
        bench.end_loops()
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(NOTES)
    missed = [row for row in rows if not row.ok]
    print(f"targets: {sum(r.target is not None for r in rows) - len(missed)} met, {len(missed)} missed")
    return 1 if missed and args.strict else 0


def print_row(row: Row) -> None:
    value = f"{row.value:.3f}" if row.unit == "x" else f"{row.value:.2f}" if row.unit == "s" else f"{row.value:.1f}"
    target = f"<= {row.target:g} {row.unit}" if row.target is not None else ""
    verdict = "" if row.target is None else ("ok" if row.ok else "MISSED")
    print(f"{row.name:<62} {value:>9} {row.unit:<3} {target:<14} {verdict:<6} {row.note}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
