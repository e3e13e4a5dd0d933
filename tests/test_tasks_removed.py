"""A task file deleted while the queue runs, or between runs, is said and shown as removed, never as done."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codex_self_iter.cli import main
from tests.support.loop_harness import Agent, control, run_loop_in_process
from tests.support.task_files import add_tasks, audit, events, plan, queue_state, review

CONFIG = {"max_iterations": 10, "max_stagnation": 9}


def write(name: str, content: str, status: str = "complete") -> list[dict[str, object]]:
    return [{"write": name, "content": content}, {"control": control(status, f"more {name}", f"wrote {name}")}]


def test_a_pending_task_deleted_during_the_run_is_reported_and_shown_removed(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, third = add_tasks(git_repo, "Write a.txt", "Write b.txt", "Write c.txt")
    agent = Agent(tmp_path, monkeypatch)
    agent.on("planner", [plan("write a.txt")], [plan("write b.txt")])
    agent.on("executor", [{"delete": str(third)}, *write("a.txt", "a")], write("b.txt", "b"))
    agent.on("reviewer", [review()])
    agent.on("auditor", [audit()])
    run = run_loop_in_process(git_repo, CONFIG)

    assert run.exit_code == 0, run.output
    assert "tasks/003-write-c-txt.md: deleted; task 003 (pending) leaves the queue" in capsys.readouterr().err
    removed = [r for r in run.journal() if r["event"] == "task_removed"]
    assert [(r["task"], r["file"], r["was"]) for r in removed] == [("003", "tasks/003-write-c-txt.md", "pending")]
    assert [(r["id"], r["state"]) for r in queue_state(run.state_dir).values()] == [
        ("001", "done"), ("002", "done"), ("003", "removed"),
    ]  # fmt: skip
    assert "tasks: 2/2 done · 1 removed · final audit: approve" in run.output
    assert "[-] 003 Write c.txt — removed: its file tasks/003-write-c-txt.md was deleted\n" in run.output
    assert "[-] 003 Write c.txt" in agent.calls("auditor")[0]["prompt"]  # the audit knows it was dropped
    assert not (git_repo / "c.txt").exists()

    assert main(["status", "--json", "--workspace", str(git_repo)]) == 0
    report = json.loads(capsys.readouterr().out)["tasks"]
    assert (report["done"], report["total"], report["removed"]) == (2, 2, 1)
    assert main(["history", "--limit", "0", "--workspace", str(git_repo)]) == 0
    assert "task 003      removed (pending): file deleted" in capsys.readouterr().out


def test_the_task_in_progress_deleted_ends_its_episode_and_the_queue_goes_on(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, second, _ = add_tasks(git_repo, "Write a.txt", "Write b.txt", "Write c.txt")
    agent = Agent(tmp_path, monkeypatch)
    agent.on("planner", [plan("write a.txt")], [plan("write b.txt")], [plan("write c.txt")])
    drop_own_file = [{"delete": str(second)}, *write("b.txt", "half", status="continue")]
    agent.on("executor", write("a.txt", "a"), drop_own_file, write("c.txt", "c"))
    agent.on("reviewer", [review()])
    agent.on("auditor", [audit()])
    run = run_loop_in_process(git_repo, CONFIG)

    assert run.exit_code == 0, run.output
    journal = run.journal()
    executors = [r["task"] for r in journal if r["event"] == "agent_call" and r["role"] == "executor"]
    assert executors == ["001", "002", "003"]  # no call spent on task 002 once its file was gone
    assert events(journal, "task_started", "task_done", "task_removed") == [
        ("task_started", "001"), ("task_done", "001"), ("task_started", "002"), ("task_removed", "002"),
        ("task_started", "003"), ("task_done", "003"),
    ]  # fmt: skip
    queue = queue_state(run.state_dir)
    assert (queue["002"]["state"], queue["002"]["removed_from"]) == ("removed", "in_progress")
    assert "tasks: 2/2 done · 1 removed" in run.output
    assert "[-] 002 Write b.txt — removed: its file tasks/002-write-b-txt.md was deleted after it was in progress" in (
        run.output
    )
    capsys.readouterr()
    assert main(["history", "--limit", "0", "--workspace", str(git_repo)]) == 0
    history = capsys.readouterr().out
    assert "task 002      removed (in progress): file deleted" in history
    assert "bad_input" not in history  # the episode's end is not shown as the run stopping


def test_a_done_task_deleted_between_runs_is_removed_not_done_and_comes_back_done(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = add_tasks(git_repo, "Write a.txt", "Write b.txt")
    agent = Agent(tmp_path, monkeypatch)
    agent.on("planner", [plan("write a.txt")], [plan("write b.txt")])
    agent.on("executor", write("a.txt", "a"), write("b.txt", "b"))
    agent.on("reviewer", [review()])
    agent.on("auditor", [audit()])
    assert run_loop_in_process(git_repo, CONFIG).exit_code == 0
    text = first.read_text()
    first.unlink()

    again = run_loop_in_process(git_repo, CONFIG)
    assert again.exit_code == 0, again.output
    assert "tasks: 1/1 done · 1 removed" in again.output
    assert "[-] 001 Write a.txt — removed: its file tasks/001-write-a-txt.md was deleted after it was done" in (
        again.output
    )
    assert [r["was"] for r in again.journal() if r["event"] == "task_removed"] == ["done"]

    first.write_text(text)
    restored = run_loop_in_process(git_repo, CONFIG)
    assert restored.exit_code == 0, restored.output
    assert "tasks: 2/2 done · final audit: approve" in restored.output
    assert len(agent.calls("executor")) == 2  # nothing ran again
