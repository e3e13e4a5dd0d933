"""A failed final-audit call takes the loop's normal failure path: the streak gates, their backoff, their caps."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.loop_harness import Agent, FakeTime, control, run_loop_in_process
from tests.support.task_files import add_tasks, audit, plan, review

WRITE_A = [{"write": "a.txt", "content": "a"}, {"control": control("complete", summary="wrote a.txt")}]


def one_task_then(
    auditor: list[list[dict[str, object]]], workspace: Path, directory: Path, monkeypatch: pytest.MonkeyPatch
) -> Agent:
    """One task that is done at once, then the auditor's scripted calls."""
    add_tasks(workspace, "Write a.txt")
    agent = Agent(directory, monkeypatch)
    agent.on("planner", [plan("write a.txt")])
    agent.on("executor", WRITE_A)
    agent.on("reviewer", [review()])
    return agent.on("auditor", *auditor)


def backoffs(journal: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(r["seconds"], r["reason"]) for r in journal if r["event"] == "decision" and r.get("kind") == "backoff"]


def test_a_failed_audit_call_backs_off_and_audits_again(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    crash: list[dict[str, object]] = [{"stderr": "auditor crashed"}, {"exit": 1}]
    auditor = [crash, crash, [{"say": "no block"}], [{"say": "still none"}], [audit()]]
    agent = one_task_then(auditor, git_repo, tmp_path, monkeypatch)
    clock = FakeTime()
    run = run_loop_in_process(git_repo, {"max_iterations": 10, "max_agent_failures": 3}, time_source=clock)

    assert run.exit_code == 0, run.output
    assert len(agent.calls("auditor")) == 5  # two failed calls, one answer without a block and its repair, approval
    assert backoffs(run.journal()) == [(1.0, "agent failure"), (2.0, "agent failure"), (2.0, "agent failure")]
    assert round(sum(clock.sleeps)) == 5
    assert "final audit: backing off 1.0s (agent failure), then auditing again" in capsys.readouterr().err
    assert "tasks: 1/1 done · final audit: approve" in run.output
    assert run.runtime["streaks"]["agent_failures"] == 0 and run.runtime["backoff_until"] == 0


@pytest.mark.parametrize(
    ("steps", "cap", "reason", "detail"),
    [
        ([{"exit": 1}], "max_agent_failures", "agent_failure", "3 failed agent calls in a row"),
        ([{"say": "no block"}], "max_invalid_outputs", "invalid_output", "3 answers in a row without a valid"),
    ],
)
def test_an_audit_that_keeps_failing_stops_at_the_streaks_cap(
    git_repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    steps: list[dict[str, object]],
    cap: str,
    reason: str,
    detail: str,
) -> None:
    one_task_then([steps], git_repo, tmp_path, monkeypatch)
    clock = FakeTime()
    run = run_loop_in_process(git_repo, {"max_iterations": 20, cap: 3}, time_source=clock)

    assert run.exit_code == 3, run.output
    assert (run.status["stop_reason"], run.runtime["streaks"][cap[4:]]) == (reason, 3)
    assert detail in run.status["stop_detail"]
    assert [s for s, _ in backoffs(run.journal())] == [1.0, 2.0]  # exponential, then the cap stops it
    assert round(sum(clock.sleeps)) == 3
    assert "tasks: 1/1 done · final audit: not yet" in run.output
