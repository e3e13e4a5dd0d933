"""`run --dry-run` with a task queue: the next task's prompt, or the final audit; nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_self_iter.cli import main
from tests.support.loop_harness import Agent, control, fake_template, run_loop_in_process
from tests.support.task_files import add_tasks, audit, plan, review


def dry_run(workspace: Path, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["run", "--dry-run", "--workspace", str(workspace), "--agent-command-template", fake_template()]) == 0
    return capsys.readouterr().out


def test_dry_run_shows_the_next_task_and_then_the_audit(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    add_tasks(git_repo, "Write a.txt", "Write b.txt")
    out = dry_run(git_repo, capsys)
    assert "  task: 001 Write a.txt (tasks/001-write-a-txt.md; 0/2 tasks done)\n" in out
    assert "  next: iteration 1 · planner" in out
    prompt = out.split("----- planner prompt -----")[1]
    assert "# Write a.txt" in prompt and "Write a.txt, b.txt and c.txt." in prompt and "# Write b.txt" not in prompt
    assert not (git_repo / ".codex-self-iter").exists()

    agent = Agent(tmp_path, monkeypatch)
    agent.on("planner", [plan("write a.txt")], [plan("write b.txt")])
    done = [{"write": "x{call}.txt", "content": "x"}, {"control": control("complete")}]
    agent.on("executor", done, [{"control": control("blocked", "need help", "stuck")}])
    agent.on("reviewer", [review()])
    agent.on("auditor", [audit()])
    assert run_loop_in_process(git_repo, {"max_iterations": 5, "max_blocked": 1}).exit_code == 3
    out = dry_run(git_repo, capsys)
    assert "  task: 002 Write b.txt (tasks/002-write-b-txt.md; 1/2 tasks done)\n" in out  # blocked: tried again
    assert "----- planner prompt -----" in out and "# Write b.txt" in out

    (git_repo / "tasks" / "002-write-b-txt.md").unlink()
    assert "task queue: every task is done: `run` would start the final audit" in dry_run(git_repo, capsys)
