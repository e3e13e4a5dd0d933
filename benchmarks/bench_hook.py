#!/usr/bin/env python3
"""What the in-session Stop hook costs Codex on every turn, measured as whole processes (interpreter start-up
included), exactly as Codex runs it:

    .venv/bin/python benchmarks/bench_hook.py     # ~20 s; --runs 100 for tighter figures; --strict exits 1 on a miss

Cases: no contract in the workspace (every turn of every session that never used in-session mode: target median
< 100 ms), a contract bound to another session (every turn of the user's other sessions in that repository), the
plugin's shell wrapper around the same no-contract path, and for reference a bare `python -c pass`. Everything runs
in temporary git repositories that are removed at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
WRAPPER = SRC / "codex_self_iter" / "plugin_bundle" / "hooks" / "stop-hook.sh"
TARGET_MS = 100.0
sys.path.insert(0, str(ROOT))  # tests.support: the Stop payload as Codex sends it

from tests.support.session_ws import stop_event  # noqa: E402


def event(workspace: Path, session: str) -> bytes:
    return stop_event(workspace, "All done.\n<promise>DONE</promise>", session)


def time_run(argv: list[str], stdin: bytes, cwd: Path, env: dict[str, str]) -> float:
    """Wall-clock milliseconds of one run, which must exit 0 and print nothing."""
    started = time.perf_counter()
    done = subprocess.run(argv, input=stdin, capture_output=True, cwd=cwd, env=env, timeout=60)
    elapsed = (time.perf_counter() - started) * 1000
    if done.returncode != 0 or done.stdout:
        raise SystemExit(f"unexpected hook answer: exit {done.returncode}, stdout {done.stdout[:200]!r}")
    return elapsed


def git_repo(root: Path, name: str) -> Path:
    repo = root / name
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "test_ok.py").write_text("def test_ok():\n    pass\n", encoding="utf-8")
    return repo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40, help="runs per case (default 40)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the no-contract median misses the target")
    args = parser.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": str(SRC), "CODEX_SELF_ITER_PYTHON": sys.executable}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: modules load from their cached bytecode
    hook = [sys.executable, "-m", "codex_self_iter", "hook", "stop"]
    with tempfile.TemporaryDirectory(prefix="bench-hook-") as tmp:
        root = Path(tmp)
        plain = git_repo(root, "no-contract")
        bound = git_repo(root, "bound-elsewhere")
        start = [sys.executable, "-m", "codex_self_iter", "session", "start", "-w", str(bound), "--objective", "o"]
        start += ["--check", f"{sys.executable} -c pass"]
        subprocess.run(start, check=True, capture_output=True, env={**env, "CODEX_THREAD_ID": "other"}, timeout=120)
        cases = {
            "python -c pass (reference)": ([sys.executable, "-c", "pass"], b"", plain),
            "hook stop, no contract": (hook, event(plain, "s1"), plain),
            "hook stop, contract of another session": (hook, event(bound, "s1"), bound),
            "plugin stop-hook.sh, no contract": (["sh", str(WRAPPER)], event(plain, "s1"), plain),
        }
        for argv, stdin, cwd in cases.values():
            time_run(argv, stdin, cwd, env)  # warm-up: writes the bytecode caches
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.runs):  # the cases take turns, so machine load hits them alike
            for name, (argv, stdin, cwd) in cases.items():
                times[name].append(time_run(argv, stdin, cwd, env))
    reference = times["python -c pass (reference)"]
    load = f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    print(
        f"Stop hook cost per Codex turn, whole process, {args.runs} runs each (python {sys.version.split()[0]}, {load})"
    )
    print(f"{'case':<42} {'median':>9} {'p90':>9} {'max':>9} {'over python':>12}")
    for name, runs in times.items():
        p90 = statistics.quantiles(runs, n=10)[-1]
        over = statistics.median(run - ref for run, ref in zip(runs, reference, strict=True))
        print(f"{name:<42} {statistics.median(runs):>7.1f}ms {p90:>7.1f}ms {max(runs):>7.1f}ms {over:>+10.1f}ms")
    median = statistics.median(times["hook stop, no contract"])
    verdict = "met" if median < TARGET_MS else "MISSED"
    print(f"target: no-contract median < {TARGET_MS:.0f} ms: {verdict} ({median:.1f} ms)")
    return 1 if args.strict and median >= TARGET_MS else 0


if __name__ == "__main__":
    sys.exit(main())
