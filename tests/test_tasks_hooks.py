"""on_complete and on_stop belong to the run, not to each task: a queue of tasks runs them once, at its end."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.loop_harness import Agent, control, run_loop_in_process
from tests.support.task_files import add_tasks, audit, plan, review


def hooks(log: Path) -> dict[str, object]:
    say = 'echo "$CODEX_SELF_ITER_EVENT $CODEX_SELF_ITER_REASON $CODEX_SELF_ITER_EXIT_CODE" >> ' + str(log)
    return {"on_complete": ["sh", "-c", say], "on_stop": ["sh", "-c", say], "on_iteration": ["sh", "-c", say]}


@pytest.mark.parametrize(
    ("second", "heard"),
    [
        ([{"write": "b.txt", "content": "b"}, {"control": control("complete")}], ["on_complete complete 0"]),
        ([{"control": control("blocked", "need a key", "stuck")}], []),
    ],
)
def test_the_end_hooks_run_once_per_run_not_per_task(
    git_repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    second: list[dict[str, object]],
    heard: list[str],
) -> None:
    add_tasks(git_repo, "Write a.txt", "Write b.txt")
    agent = Agent(tmp_path, monkeypatch)
    agent.on("planner", [plan("write a.txt")], [plan("write b.txt")])
    agent.on("executor", [{"write": "a.txt", "content": "a"}, {"control": control("complete")}], second)
    agent.on("reviewer", [review()])
    agent.on("auditor", [audit()])
    log = tmp_path / "hooks.log"
    run = run_loop_in_process(git_repo, {"max_iterations": 10, "max_blocked": 1, "hooks": hooks(log)})

    lines = log.read_text().splitlines()
    ends = [line for line in lines if not line.startswith("on_iteration")]
    stop = f"on_stop {run.status['stop_reason']} {run.exit_code}"
    assert ends == [*heard, stop], lines  # not once more for task 001's verified end
    assert lines.count("on_iteration  ") == 2  # each iteration still has its hook
