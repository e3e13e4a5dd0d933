"""A corrupt tasks.json is kept aside and rebuilt from the journal: tasks already verified done never run again."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_self_iter.cli import main
from tests.support.loop_harness import Agent, control, fake_template, run_loop_in_process
from tests.support.task_files import add_tasks, audit, events, plan, queue_state, review

WRITE = {"write": "{call}.txt", "content": "x"}


def test_a_corrupt_queue_is_rebuilt_from_the_journal_and_done_tasks_stay_done(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    add_tasks(git_repo, "Write a.txt", "Write b.txt", "Write c.txt")
    agent = Agent(tmp_path, monkeypatch)
    agent.on("planner", [plan("write a.txt")], [plan("write b.txt")], [plan("write c.txt")])
    keep_going = [WRITE, {"control": control("continue", "more b")}]
    done = [WRITE, {"control": control("complete")}]
    agent.on("executor", done, keep_going, done, done)
    agent.on("reviewer", [review()])
    agent.on("auditor", [audit()])
    first = run_loop_in_process(git_repo, {"max_iterations": 2, "max_stagnation": 9})
    assert first.exit_code == 2, first.output
    before = queue_state(first.state_dir)
    assert (before["001"]["state"], before["002"]["state"]) == ("done", "in_progress")
    queue_file = first.state_dir / "tasks.json"
    queue_file.write_text('{"version": 1, "tasks": [{"id": ')  # torn

    capsys.readouterr()
    assert main(["status", "--workspace", str(git_repo)]) == 0
    status = capsys.readouterr().out
    assert "  tasks.json is unreadable; as the journal tells it (the next `run` rebuilds it so):\n" in status
    assert "  tasks: 1/2 done · final audit: not yet\n    [x] 001 Write a.txt — verified at iteration 1\n" in status
    assert "    [~] 002 Write b.txt — iteration 1\n" in status  # task 003 never started: the journal cannot know it
    out = dry_run(git_repo, capsys)
    assert "  task: 002 Write b.txt (tasks/002-write-b-txt.md; 1/3 tasks done)\n" in out
    run = run_loop_in_process(git_repo, {"max_iterations": 10, "max_stagnation": 9})

    assert run.exit_code == 0, run.output
    err = capsys.readouterr().err
    kept = list(run.state_dir.glob("tasks.json.corrupt-*"))
    line = f"tasks.json: unreadable (kept as {kept[0].name}); rebuilt the queue from iterations.jsonl (1 done, 1 in"
    assert f"codex-self-iter: warning: {line} progress)\n" in err
    assert [p.read_text() for p in kept] == ['{"version": 1, "tasks": [{"id": ']
    executors = [r["task"] for r in run.journal() if r["event"] == "agent_call" and r["role"] == "executor"]
    assert executors == ["001", "002", "002", "003"]  # task 001 was not worked on again
    after = queue_state(run.state_dir)
    assert [after[i]["state"] for i in ("001", "002", "003")] == ["done", "done", "done"]
    assert after["001"]["finished_iteration"] == before["001"]["finished_iteration"]
    assert after["001"]["outcome"] == "verified at iteration 1"
    assert len(agent.calls("planner")) == 2 + 1  # task 002 resumed with its goal; one plan for task 003
    assert "tasks: 3/3 done · final audit: approve" in run.output
    recovered = [r for r in run.journal() if r["event"] == "queue_recovered"]
    assert len(recovered) == 1 and "1 done, 1 in progress" in recovered[0]["note"]

    queue_file.write_text("not json")  # the audit's approval is in the journal too: nothing runs again
    calls = len(agent.calls())
    again = run_loop_in_process(git_repo, {"max_iterations": 10})
    assert again.exit_code == 0, again.output
    assert "every task is verified and the final audit approved earlier" in again.output
    assert len(agent.calls()) == calls


def test_a_corrupt_queue_without_a_journal_after_work_refuses_with_one_line(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_tasks(git_repo, "Write a.txt", "Write b.txt")
    agent = Agent(tmp_path, monkeypatch)
    agent.on("planner", [plan("work")])
    agent.on("executor", [WRITE, {"control": control("complete")}])
    agent.on("reviewer", [review()])
    agent.on("auditor", [audit()])
    first = run_loop_in_process(git_repo, {"max_iterations": 1})
    assert first.exit_code == 2, first.output
    (first.state_dir / "tasks.json").write_text("[]")
    (first.state_dir / "logs" / "iterations.jsonl").unlink()
    calls = len(agent.calls())

    refused = run_loop_in_process(git_repo, {"max_iterations": 10})

    assert refused.exit_code == 1, refused.output
    line = refused.status["stop_detail"]
    assert line.endswith(
        "iterations.jsonl has no record of the tasks' episodes, so which tasks are done is unknown: put a good copy "
        "back as tasks.json, or `run` again to start every task over"
    )
    assert "tasks.json: unreadable (kept as tasks.json.corrupt-" in line
    assert f"stopped: bad_input (exit 1) — {line}" in refused.output
    assert len(agent.calls()) == calls and not (first.state_dir / "tasks.json").exists()
    assert [p.read_text() for p in first.state_dir.glob("tasks.json.corrupt-*")] == ["[]"]

    restart = run_loop_in_process(git_repo, {"max_iterations": 10})  # the user chose to start over
    assert restart.exit_code == 0, restart.output
    assert events(restart.journal(), "task_done") == [("task_done", "001"), ("task_done", "002")]


def dry_run(workspace: Path, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["run", "--dry-run", "--workspace", str(workspace), "--agent-command-template", fake_template()]) == 0
    return capsys.readouterr().out
