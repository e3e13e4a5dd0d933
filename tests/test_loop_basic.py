"""The loop end to end against the scripted fake agent, in real git repos."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.loop_harness import Agent, control, run_loop_in_process

APPROVE = {"control": {"verdict": "approve", "reasons": ["hello.txt says hello"], "next_goal": ""}}
PLAN = {"control": {"next_goal": "write hello.txt", "summary": "one step"}}


def test_plan_work_review_complete(git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    agent = Agent(tmp_path, monkeypatch)
    agent.on("planner", [PLAN])
    agent.on(
        "executor",
        [{"write": "hello.txt", "content": "hel"}, {"control": control("continue", "finish hello.txt")}],
        [{"write": "hello.txt", "content": "hello"}, {"control": control("complete", summary="done")}],
    )
    agent.on("reviewer", [APPROVE])
    run = run_loop_in_process(git_repo, {"max_iterations": 10})
    assert run.exit_code == 0, run.output
    assert (git_repo / "hello.txt").read_text() == "hello"
    assert run.status["state"] == "complete"
    assert run.status["stop_reason"] == "complete"
    assert run.status["iteration"] == 2
    assert [c["role"] for c in agent.calls()] == ["planner", "executor", "executor", "reviewer"]
    assert "stopped: complete (exit 0)" in run.output
    executor_prompt = agent.calls("executor")[1]["prompt"]
    assert "finish hello.txt" in executor_prompt
    assert (run.state_dir / "prompts" / "00002-executor.md").exists()
    assert (run.state_dir / "runs" / "00002" / "reviewer" / "diff.patch").read_text().count("hello") >= 1
    assert "/.codex-self-iter/" in (git_repo / ".git" / "info" / "exclude").read_text()


def test_max_iterations_exit_2(git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    agent = Agent(tmp_path, monkeypatch)
    agent.on("planner", [PLAN])
    agent.on(
        "executor", [{"append": "log.txt", "content": "{call}\n"}, {"control": control("continue", "step {call}")}]
    )
    run = run_loop_in_process(git_repo, {"max_iterations": 3})
    assert run.exit_code == 2
    assert run.status["stop_reason"] == "max_iterations"
    assert len(agent.calls("executor")) == 3
