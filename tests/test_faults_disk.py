"""A state dir that cannot be written, or a disk that fills up: one clear error, exit 1, nothing half-written as truth.

Tests run as root here, where chmod does not stop a write, and mounting a small filesystem needs privileges CI does not
have. So "cannot be written" is a state dir path that is (or lies under) a regular file, plus a chmod variant for
non-root users; "full disk" is RLIMIT_FSIZE set inside the loop process (see tests/support/faults.py): every write
past the limit fails with EFBIG, exactly where ENOSPC would.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from codex_self_iter.state.layout import private_state_root
from tests.support.faults import LoopBench, leftover_temp_files, pid_alive, state_file_problems, wait_for


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip() and "warning: NO CHECKS" not in line]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_a_state_dir_that_is_a_file_is_one_clear_error(bench: LoopBench) -> None:
    blocker = bench.state_dir
    blocker.write_text("precious\n")
    done = bench.run_piped("--max-iterations", "2")
    assert done.returncode == 1
    line = one_error_line(done.stderr)
    assert str(blocker) in line and "state dir" in line
    assert blocker.read_text() == "precious\n"
    assert bench.agent_calls() == []


def test_a_state_dir_under_a_file_is_one_clear_error(bench: LoopBench) -> None:
    done = bench.run_piped("--max-iterations", "2", "--state-dir", "TASK.md/state")
    assert done.returncode == 1
    assert "TASK.md/state" in one_error_line(done.stderr)
    assert (bench.workspace / "TASK.md").read_text().startswith("# Task")
    assert bench.agent_calls() == []


def read_only_dirs_stop_writes(tmp_path: Path) -> bool:
    probe = tmp_path / "probe"
    probe.mkdir(mode=0o500)
    try:
        (probe / "x").touch()
    except PermissionError:
        return True
    finally:
        probe.chmod(0o700)
    return False


def test_a_read_only_state_dir_is_one_clear_error(bench: LoopBench, tmp_path: Path) -> None:
    if not read_only_dirs_stop_writes(tmp_path):
        pytest.skip(
            "this user (root with CAP_DAC_OVERRIDE) writes into read-only directories; the file variants cover it"
        )
    bench.state_dir.mkdir()
    bench.state_dir.chmod(0o500)
    try:
        done = bench.run_piped("--max-iterations", "2")
    finally:
        bench.state_dir.chmod(0o700)
    assert done.returncode == 1
    assert str(bench.state_dir) in one_error_line(done.stderr)
    assert list(bench.state_dir.iterdir()) == []


def test_a_part_of_the_state_dir_that_became_unwritable_stops_the_loop_with_exit_1(bench: LoopBench) -> None:
    assert bench.run("--max-iterations", "1")[0] == 2
    before = bench.runtime()
    prompts = bench.state_dir / "prompts"
    shutil.rmtree(prompts)
    prompts.write_text("not a directory\n")

    done = bench.run_piped("--max-iterations", "2")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "stopped: bad_input (exit 1)" in done.stdout
    assert f"{prompts}/00002-executor.md: cannot write (Not a directory)" in done.stdout
    after = bench.runtime()
    assert after["iteration"] == before["iteration"] and after["goal"] == before["goal"]
    assert state_file_problems(bench.state_dir) == []

    prompts.unlink()  # fixed: the next run carries on from the same state
    assert bench.run("--max-iterations", "1")[0] == 2
    assert bench.runtime()["iteration"] == before["iteration"] + 1


def test_a_full_disk_from_the_start_writes_nothing_and_exits_1(bench: LoopBench) -> None:
    done = bench.run_piped("--max-iterations", "2", env={"CSI_FSIZE": "0"})
    assert done.returncode == 1
    line = one_error_line(done.stderr)
    # the first write is the lock holder's record, in private state outside the workspace
    assert "File too large" in line and str(private_state_root()) in line
    assert not (bench.state_dir / "runtime.json").exists() and not (bench.state_dir / "status.json").exists()
    assert list(leftover_temp_files(bench.state_dir)) == []
    assert bench.agent_calls() == []


def test_a_disk_that_fills_up_mid_run_leaves_whole_files_and_the_next_run_resumes(bench: LoopBench) -> None:
    done = bench.run_piped("--max-iterations", "200", env={"CSI_FSIZE": "20000"})
    assert done.returncode == 1
    # Where the limit strikes decides who says it: the stop line (stdout) when the final record still fit,
    # else the one error line on stderr.
    said = [line for line in done.stderr.splitlines() if line.strip() and "warning: NO CHECKS" not in line]
    line = one_error_line(done.stderr) if said else done.stdout.splitlines()[0]
    assert "iterations.jsonl" in line and "File too large" in line
    journal = bench.state_dir / "logs" / "iterations.jsonl"
    assert journal.read_bytes().endswith(b"\n")  # the failed append was undone, not left half-written
    assert state_file_problems(bench.state_dir) == []
    assert list(leftover_temp_files(bench.state_dir)) == []
    assert wait_for(lambda: not any(pid_alive(pid) for pid in bench.agent_pids()), 5)
    saved = bench.runtime()
    assert saved["iteration"] > 3  # it did run for a while before the disk was full

    status = json.loads((bench.state_dir / "status.json").read_text())
    assert (status["state"], status["stop_reason"], status["exit_code"]) == ("stopped", "bad_input", 1)

    code, loop = bench.run("--max-iterations", "1")  # space freed: carry on, one more iteration
    assert code == 2, loop.stderr
    assert bench.runtime()["iteration"] == saved["iteration"] + 1
    assert bench.runtime()["goal"] is not None
    assert state_file_problems(bench.state_dir) == []


def test_a_full_disk_while_the_agent_floods_its_output_does_not_hang_the_call(bench: LoopBench) -> None:
    """The capture file stops growing at the limit, but the pipe is still drained: no agent blocks on it."""
    limit = 300_000
    bench.config.update({"command_timeout_sec": 60, "max_agent_failures": 1})
    done = bench.run_piped("--max-iterations", "2", env={"CSI_FSIZE": str(limit), "AGENT_FLOOD": "4"}, timeout=90)
    assert done.returncode in (1, 3), done.stderr
    assert "Traceback" not in done.stderr
    calls = [e for e in bench.journal() if e["event"] == "agent_call"]
    assert calls, "no agent call was recorded"
    assert not any(call["timed_out"] for call in calls)
    assert all(call["duration_sec"] < 20 for call in calls)
    for log in bench.state_dir.glob("runs/*/*/stdout.log"):
        assert log.stat().st_size <= limit
    assert state_file_problems(bench.state_dir) == []
