"""`status`: the documented JSON shape, every state, and bad input (no state, corrupt file, stale or held lock)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from filelock import FileLock

from codex_self_iter.cli import main
from tests.support.loop_harness import Agent, control, private_file, run_loop_in_process

PLAN = {"control": {"next_goal": "write hello.txt", "summary": "one step"}}
APPROVE = {"control": {"verdict": "approve", "reasons": ["fine"], "next_goal": ""}}
STATUS_KEYS = {
    "version",
    "worktree",
    "state",
    "running",
    "summary",
    "pid",
    "pid_alive",
    "lock_held",
    "iteration",
    "task",
    "tasks",
    "call",
    "goal",
    "streaks",
    "backoff_until",
    "backoff_reason",
    "last_checks",
    "tokens",
    "cost_usd",
    "model",
    "last_iteration",
    "plan",
    "agent_calls",
    "agent_seconds",
    "started_at",
    "updated_at",
    "elapsed_sec",
    "stop_reason",
    "stop_detail",
    "exit_code",
    "stop_requested",
    "problem",
    "workspace",
    "state_dir",
}
DEAD_PID = 2**22 + 12345  # above the kernel's pid_max default: never a live process


def status_json(workspace: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(["status", "-w", str(workspace), "--json"]) == 0
    data: dict[str, object] = json.loads(capsys.readouterr().out)
    return data


def write_status(workspace: Path, **fields: object) -> Path:
    state = workspace / ".codex-self-iter"
    state.mkdir(exist_ok=True)
    snapshot = {"state": "running", "pid": DEAD_PID, "iteration": 3, "goal": "g", "started_at": time.time() - 5}
    (state / "status.json").write_text(json.dumps({**snapshot, **fields}))
    return state


def test_json_shape_after_a_completed_run(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = Agent(tmp_path, monkeypatch).on("planner", [PLAN]).on("reviewer", [APPROVE])
    agent.on("executor", [{"write": "hello.txt", "content": "hello"}, {"control": control("complete", summary="ok")}])
    run = run_loop_in_process(git_repo, {"checks": ["git --version"]})
    assert run.exit_code == 0
    capsys.readouterr()
    report = status_json(git_repo, capsys)
    assert set(report) == STATUS_KEYS
    assert report["state"] == "complete" and report["running"] is False and report["lock_held"] is False
    assert report["exit_code"] == 0 and report["stop_reason"] == "complete" and report["iteration"] == 1
    assert report["call"] is None and report["agent_calls"] == 3
    assert report["task"] is None and report["tasks"] is None  # no task queue here
    checks = report["last_checks"]
    assert isinstance(checks, dict) and checks["all_passed"] is True and checks["iteration"] == 1
    assert report["summary"] == f"complete (exit 0) at iteration 1 — {report['stop_detail']}"
    assert main(["status", "-w", str(git_repo)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("codex-self-iter: complete (exit 0) at iteration 1")
    assert "last checks: 1/1 checks passed (iteration 1)" in text


def test_a_gate_stop_shows_reason_exit_code_and_streaks(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    Agent(tmp_path, monkeypatch).on("planner", [PLAN]).on("executor", [{"control": control("continue", "look {call}")}])
    run = run_loop_in_process(git_repo, {"max_no_change": 2, "backoff_jitter": 0})
    assert run.exit_code == 2
    capsys.readouterr()
    report = status_json(git_repo, capsys)
    assert report["state"] == "stopped" and report["stop_reason"] == "no_change" and report["exit_code"] == 2
    assert report["streaks"] == {"no_change": 2}
    main(["status", "-w", str(git_repo)])
    out = capsys.readouterr().out
    assert "stopped: no_change (exit 2)" in out and "streaks: no_change 2" in out


def test_running_state_with_a_dead_pid_and_a_free_lock_is_shown_as_crashed(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_status(git_repo)
    report = status_json(git_repo, capsys)
    assert report["state"] == "crashed" and report["running"] is False and report["pid_alive"] is False
    main(["status", "-w", str(git_repo)])
    assert f"stopped (crashed? pid {DEAD_PID} is gone and the lock is free)" in capsys.readouterr().out


def test_lock_held_by_a_live_loop_is_running_and_backoff_shows_until_when(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    until = time.time() + 90
    state = write_status(
        git_repo, state="backing_off", pid=os.getpid(), backoff_until=until, backoff_reason="no change"
    )
    private_file(state, "lock-holder.json").write_text(json.dumps({"pid": os.getpid(), "started_at": time.time()}))
    with FileLock(str(private_file(state, "loop.lock")), timeout=0):
        report = status_json(git_repo, capsys)
        main(["status", "-w", str(git_repo)])
        text = capsys.readouterr().out
    assert report["state"] == "backing_off" and report["running"] is True and report["backoff_until"] == until
    assert "backing off until " in text and ": no change" in text


def test_lock_held_but_holder_pid_dead_is_unknown_not_running(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = write_status(git_repo)
    private_file(state, "lock-holder.json").write_text(json.dumps({"pid": DEAD_PID, "started_at": time.time()}))
    with FileLock(str(private_file(state, "loop.lock")), timeout=0):
        report = status_json(git_repo, capsys)
    assert report["state"] == "unknown" and report["running"] is False
    assert "lock is held" in str(report["problem"])


def test_stop_request_is_shown(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = write_status(git_repo, state="stopped", stop_reason="max_iterations", exit_code=2)
    (state / "STOP").write_text(json.dumps({"reason": "lunch"}))
    assert status_json(git_repo, capsys)["stop_requested"] == "lunch"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda s: None, "no loop state here"),
        (lambda s: s.mkdir(), "no status yet"),
        (lambda s: (s.mkdir(), (s / "status.json").write_text("{torn")), "unreadable status"),
        (lambda s: (s.mkdir(), (s / "status.json").write_text("[1, 2]")), "unreadable status"),
    ],
)
def test_no_or_corrupt_state_is_one_line_exit_1(
    git_repo: Path, capsys: pytest.CaptureFixture[str], setup: object, message: str
) -> None:
    setup(git_repo / ".codex-self-iter")  # type: ignore[operator]
    assert main(["status", "-w", str(git_repo)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and err[0].startswith("codex-self-iter: error: "), err


def test_broken_config_still_finds_the_state_dir(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (git_repo / "codex-self-iter.toml").write_text('state_dir = "elsewhere"\nmax_iteratons = 3\n')
    (git_repo / "elsewhere").mkdir()
    (git_repo / "elsewhere" / "status.json").write_text(json.dumps({"state": "stopped", "stop_reason": "signal"}))
    assert main(["status", "-w", str(git_repo)]) == 0
    captured = capsys.readouterr()
    assert "stopped: signal" in captured.out
    assert "max_iteratons: unknown key" in captured.err and "elsewhere" in captured.err


def test_missing_workspace_is_one_line_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "-w", str(tmp_path / "nope")]) == 1
    assert "workspace does not exist" in capsys.readouterr().err
