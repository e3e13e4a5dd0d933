"""An agent printing 100 MB: the loop's memory and its files stay bounded, and the answer at the end still counts."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from codex_self_iter.proc.process import DEFAULT_MAX_OUTPUT_BYTES, run_process
from tests.support.faults import LoopBench, state_file_problems

FLOOD_MB = 100


def run_measured(bench: LoopBench, state_dir: str, env: dict[str, str]) -> tuple[int, int]:
    """Run one loop to its end; (exit code, max RSS in MiB of the loop and everything it waited for)."""
    argv, full_env = bench.command("--max-iterations", "1", "--state-dir", state_dir, env=env)
    with open(bench.home / "out.log", "wb") as out, open(bench.home / "err.log", "wb") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=full_env)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss // 1024  # Linux reports KiB


def state_dir_bytes(state_dir: Path) -> int:
    return sum(path.stat().st_size for path in state_dir.rglob("*") if path.is_file())


@pytest.mark.timeout(180)
@pytest.mark.parametrize("runner", ["template", "codex"])
def test_an_agent_printing_100_mb_keeps_memory_and_files_bounded(bench: LoopBench, runner: str) -> None:
    bench.codex = runner == "codex"
    flood = {"AGENT_FLOOD": str(FLOOD_MB)} if runner == "template" else {"FAKE_CODEX_FLOOD": str(FLOOD_MB)}
    code, quiet_rss = run_measured(bench, ".state-quiet", {})
    assert code == 2, (bench.home / "err.log").read_text()

    code, flood_rss = run_measured(bench, ".state-flood", flood)
    assert code == 2, (bench.home / "err.log").read_text()
    assert flood_rss < quiet_rss + 40, f"{flood_rss} MiB with the flood vs {quiet_rss} MiB without"
    state = bench.workspace / ".state-flood"
    logs = [*state.glob("runs/*/*/stdout.log"), *state.glob("runs/*/*/events.jsonl")]
    assert len(logs) == 2  # planner and executor, each with 100 MB of output
    assert max(p.stat().st_size for p in logs) <= DEFAULT_MAX_OUTPUT_BYTES + 4096
    assert state_dir_bytes(state) < 2 * (DEFAULT_MAX_OUTPUT_BYTES + 4096) + 2_000_000
    runtime = json.loads((state / "runtime.json").read_text())
    assert runtime["iteration"] == 1 and runtime["streaks"]["agent_failures"] == 0  # the answer after 100 MB counted
    assert runtime["goal"]  # the planner's block, printed after its 100 MB, was read
    assert state_file_problems(state) == []


def test_a_big_prompt_on_stdin_and_a_flood_back_pass_through_one_thread(tmp_path: Path) -> None:
    """The prompt is written while the output is read: a child echoing 3 MB back cannot deadlock the two pipes."""
    prompt = "".join(f"line {n:07d} of the prompt\n" for n in range(120_000))  # ~3 MB, far beyond a pipe buffer
    lines: list[bytes] = []
    result = run_process(
        ["cat"],
        cwd=tmp_path,
        stdout_path=tmp_path / "out.log",
        stderr_path=tmp_path / "err.log",
        timeout_sec=30,
        stdin_text=prompt,
        on_stdout_line=lines.append,
        max_output_bytes=1_000_000,
    )
    assert result.ok and not result.timed_out
    assert len(lines) == 120_000 and lines[-1] == b"line 0119999 of the prompt"  # every line seen, in order
    kept = (tmp_path / "out.log").read_bytes()
    assert len(kept) < 1_000_100 and b"bytes omitted" in kept
    assert kept.startswith(b"line 0000000") and kept.endswith(b"line 0119999 of the prompt\n")


def test_a_child_that_never_reads_its_stdin_does_not_block_the_call(tmp_path: Path) -> None:
    result = run_process(
        ["sh", "-c", "exec 0<&-; echo done"],
        cwd=tmp_path,
        stdout_path=tmp_path / "out.log",
        stderr_path=tmp_path / "err.log",
        timeout_sec=30,
        stdin_text="x" * 5_000_000,
    )
    assert result.ok and result.duration_sec < 10
    assert (tmp_path / "out.log").read_text() == "done\n"


def test_a_child_flushing_a_lot_when_terminated_is_drained_not_killed(tmp_path: Path) -> None:
    """Ending the group keeps reading its pipes: output written in a TERM handler cannot block it until SIGKILL."""
    script = "trap 'head -c 600000 /dev/zero | tr \"\\\\0\" x; echo; echo flushed; exit 0' TERM; sleep 60 & wait"
    asked = time.monotonic()
    result = run_process(
        ["sh", "-c", script],
        cwd=tmp_path,
        stdout_path=tmp_path / "out.log",
        stderr_path=tmp_path / "err.log",
        timeout_sec=30,
        cancel=lambda: time.monotonic() - asked > 0.5,
    )
    assert result.cancelled
    assert result.exit_code == 0  # it finished its handler: not killed after the grace period
    assert result.duration_sec < 2.5
    assert (tmp_path / "out.log").read_bytes().endswith(b"flushed\n")
