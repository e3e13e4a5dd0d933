"""`stop`: the STOP file, and --now signalling only a loop that provably holds the lock."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from filelock import FileLock

from codex_self_iter.cli import main
from codex_self_iter.state.stop_request import read_stop_reason
from tests.support.background_loop import pid_alive
from tests.support.loop_harness import Agent, control, private_file, run_loop_in_process

PLAN = {"control": {"next_goal": "write hello.txt", "summary": "one step"}}
IGNORE_TERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
)


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[str]]:
    """A process this test owns that ignores SIGTERM (stands in for a loop that does not end)."""
    proc = subprocess.Popen([sys.executable, "-c", IGNORE_TERM], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    yield proc
    proc.kill()
    proc.wait(timeout=10)


def state_with_status(workspace: Path, pid: int, state: str = "running") -> Path:
    directory = workspace / ".codex-self-iter"
    directory.mkdir()
    (directory / "status.json").write_text(json.dumps({"state": state, "pid": pid, "iteration": 1}))
    return directory


def test_stop_writes_reason_and_time_and_run_then_refuses_until_cleared(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = Agent(tmp_path, monkeypatch).on("planner", [PLAN])
    agent.on("executor", [{"append": "x", "content": "{call}"}, {"control": control("continue", "more {call}")}])
    assert run_loop_in_process(git_repo, {"max_iterations": 1}).exit_code == 2
    capsys.readouterr()
    before = time.time()
    assert main(["stop", "-w", str(git_repo), "--reason", "release freeze"]) == 0
    out = capsys.readouterr().out
    assert "no loop is running" in out and "--clear-stop" in out
    stop = git_repo / ".codex-self-iter" / "STOP"
    data = json.loads(stop.read_text())
    assert data["reason"] == "release freeze" and data["requested_at"] >= before
    assert read_stop_reason(stop) == "release freeze"
    with pytest.raises(Exception, match="--clear-stop"):
        run_loop_in_process(git_repo, {"max_iterations": 2})
    assert main(["run", "-w", str(git_repo), "--agent-command-template", "true {prompt_file}"]) == 1
    assert "a STOP sentinel is present" in capsys.readouterr().err


def test_stop_now_never_signals_a_pid_whose_lock_is_free(
    git_repo: Path, sleeper: subprocess.Popen[str], capsys: pytest.CaptureFixture[str]
) -> None:
    state_with_status(git_repo, sleeper.pid)  # status.json says running, but nobody holds the lock
    assert main(["stop", "--now", "-w", str(git_repo)]) == 0
    assert "no loop is running" in capsys.readouterr().out
    time.sleep(0.2)
    assert sleeper.poll() is None  # still alive: never signalled


def test_stop_now_signals_the_lock_holder_and_waits(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        state = state_with_status(git_repo, target.pid)
        private_file(state, "lock-holder.json").write_text(json.dumps({"pid": target.pid, "started_at": time.time()}))
        with FileLock(str(private_file(state, "loop.lock")), timeout=0):
            assert main(["stop", "--now", "-w", str(git_repo), "--wait", "10"]) == 0
        assert target.wait(timeout=5) == -15  # ended by SIGTERM
        assert f"sent SIGTERM to the loop (pid {target.pid})" in capsys.readouterr().out
    finally:
        target.kill()
        target.wait(timeout=10)


def test_stop_now_reports_a_loop_that_does_not_end_with_exit_2(
    git_repo: Path, sleeper: subprocess.Popen[str], capsys: pytest.CaptureFixture[str]
) -> None:
    state = state_with_status(git_repo, sleeper.pid)
    private_file(state, "lock-holder.json").write_text(json.dumps({"pid": sleeper.pid, "started_at": time.time()}))
    with FileLock(str(private_file(state, "loop.lock")), timeout=0):
        assert main(["stop", "--now", "-w", str(git_repo), "--wait", "0.5"]) == 2
    assert "still running after 0.5s" in capsys.readouterr().err
    assert pid_alive(sleeper.pid)


def test_stop_without_state_is_one_line_exit_1(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stop", "-w", str(git_repo)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no loop state here" in err[0]
    assert not (git_repo / ".codex-self-iter").exists()


def test_stop_with_corrupt_status_still_writes_stop(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = git_repo / ".codex-self-iter"
    state.mkdir()
    (state / "status.json").write_text("{torn")
    assert main(["stop", "--now", "-w", str(git_repo)]) == 0
    assert (state / "STOP").exists()
    captured = capsys.readouterr()
    assert "no loop is running" in captured.out
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and "unreadable status" in err[0] and "Traceback" not in captured.err
