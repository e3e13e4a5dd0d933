"""The task queue through the real loop: one episode per task file, only a verified task moves the queue on."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from codex_self_iter.cli import main
from tests.support.loop_harness import Agent, control, run_loop_in_process
from tests.support.task_files import add_tasks, audit, events, gap, plan, queue_state, review

TODO_CHECK = "import pathlib, sys; sys.exit(any('TODO' in p.read_text() for p in pathlib.Path('.').glob('*.txt')))"
NO_TODO = f'{sys.executable} -c "{TODO_CHECK}"'


def write(name: str, content: str, status: str = "complete") -> list[dict[str, object]]:
    return [{"write": name, "content": content}, {"control": control(status, f"next for {name}", f"wrote {name}")}]


def test_three_tasks_complete_in_order(git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    add_tasks(git_repo, "Write a.txt", "Write b.txt", "Write c.txt")
    agent = Agent(tmp_path, monkeypatch)
    agent.on("planner", [plan("write a.txt")], [plan("write b.txt")], [plan("write c.txt")])
    agent.on("executor", write("a.txt", "a"), write("b.txt", "b"), write("c.txt", "c"))
    agent.on("reviewer", [review()])
    agent.on("auditor", [audit()])
    run = run_loop_in_process(git_repo, {"max_iterations": 10, "checks": [NO_TODO]})

    assert run.exit_code == 0, run.output
    assert [(git_repo / n).read_text() for n in ("a.txt", "b.txt", "c.txt")] == ["a", "b", "c"]
    queue = queue_state(run.state_dir)
    assert [(r["id"], r["state"]) for r in queue.values()] == [("001", "done"), ("002", "done"), ("003", "done")]
    journal = run.journal()
    assert events(journal, "task_started", "task_done") == [
        ("task_started", "001"), ("task_done", "001"), ("task_started", "002"), ("task_done", "002"),
        ("task_started", "003"), ("task_done", "003"),
    ]  # fmt: skip
    executors = agent.calls("executor")
    for call, title in zip(executors, ("Write a.txt", "Write b.txt", "Write c.txt"), strict=True):
        assert f"# {title}" in call["prompt"]  # the task file is the objective ...
        assert "Write a.txt, b.txt and c.txt." in call["prompt"]  # ... with the whole TASK.md beside it
    assert all(r.get("task") for r in journal if r["event"] == "agent_call" and r["role"] != "auditor")
    auditor = agent.calls("auditor")
    assert len(auditor) == 1 and "[x] 003 Write c.txt" in auditor[0]["prompt"]
    assert run.status["state"] == "complete" and run.status["exit_code"] == 0
    assert "tasks: 3/3 done · final audit: approve" in run.output
    assert "files changed: 3 ·" in run.output  # the whole queue's work, not only the last task's
    assert "[x] 002 Write b.txt — verified at iteration 2" in run.output


def test_a_false_claim_on_task_2_holds_task_3_back(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_tasks(git_repo, "Write a.txt", "Write b.txt", "Write c.txt")
    agent = Agent(tmp_path, monkeypatch)
    agent.on("planner", [plan("write a.txt")], [plan("write b.txt")], [plan("write c.txt")])
    agent.on(
        "executor",
        write("a.txt", "a"),
        write("b.txt", "TODO"),  # claims complete; the check finds the TODO
        write("b.txt", "b-draft"),  # claims complete; the reviewer rejects it
        write("b.txt", "b"),
        write("c.txt", "c"),
    )
    agent.on("reviewer", [review()], [review("reject", "b.txt must say b")], [review()])
    agent.on("auditor", [audit()])
    run = run_loop_in_process(git_repo, {"max_iterations": 10, "checks": [NO_TODO]})

    assert run.exit_code == 0, run.output
    journal = run.journal()
    claims = [(r["task"], r["success"]) for r in journal if r["event"] == "decision" and r.get("kind") == "claim"]
    assert claims == [("001", True), ("002", False), ("002", False), ("002", True), ("003", True)]
    started_3 = next(i for i, r in enumerate(journal) if r["event"] == "task_started" and r["task"] == "003")
    verified_2 = next(i for i, r in enumerate(journal) if r["event"] == "task_done" and r["task"] == "002")
    assert verified_2 < started_3
    executor_tasks = [r["task"] for r in journal if r["event"] == "agent_call" and r["role"] == "executor"]
    assert executor_tasks == ["001", "002", "002", "002", "003"]
    reviewed = [r["task"] for r in journal if r["event"] == "agent_call" and r["role"] == "reviewer"]
    assert reviewed == ["001", "002", "002", "003"]  # failing checks reject a claim before any review is spent
    assert "make the failing checks pass" in agent.calls("executor")[2]["prompt"]
    assert "[x] 002 Write b.txt — verified at iteration 4" in run.output


def blocked(goal: str = "need the API key") -> list[dict[str, object]]:
    return [{"control": control("blocked", goal, "cannot go on without the API key")}]


def test_a_blocked_task_stops_the_run_naming_it(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_tasks(git_repo, "Write a.txt", "Write b.txt", "Write c.txt")
    agent = Agent(tmp_path, monkeypatch)
    agent.on("planner", [plan("write a.txt")], [plan("write b.txt")])
    agent.on("executor", write("a.txt", "a"), blocked())
    agent.on("reviewer", [review()])
    run = run_loop_in_process(git_repo, {"max_iterations": 10, "max_blocked": 1})

    assert run.exit_code == 3, run.output
    assert "stopped: agent_blocked (exit 3) — task 002 (Write b.txt) is blocked" in run.output
    queue = queue_state(run.state_dir)
    assert [queue[i]["state"] for i in ("001", "002", "003")] == ["done", "blocked", "pending"]
    assert run.status["stop_detail"].startswith("task 002 (Write b.txt) is blocked")
    assert not (git_repo / "c.txt").exists() and agent.calls("auditor") == []
    assert "[!] 002 Write b.txt" in run.output and "[ ] 003 Write c.txt" in run.output


def test_continue_on_blocked_goes_on_and_still_exits_3(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_tasks(git_repo, "Write a.txt", "Write b.txt", "Write c.txt")
    agent = Agent(tmp_path, monkeypatch)
    agent.on("planner", [plan("write a.txt")], [plan("write b.txt")], [plan("write c.txt")])
    agent.on("executor", write("a.txt", "a"), blocked(), write("c.txt", "c"))
    agent.on("reviewer", [review()])
    run = run_loop_in_process(git_repo, {"max_iterations": 10, "max_blocked": 1}, extra={"continue_on_blocked": True})

    assert run.exit_code == 3, run.output
    queue = queue_state(run.state_dir)
    assert [queue[i]["state"] for i in ("001", "002", "003")] == ["done", "blocked", "done"]
    assert "task(s) 002 blocked" in run.output and agent.calls("auditor") == []


def test_the_audit_adds_a_follow_up_task_that_then_runs(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    add_tasks(git_repo, "Write a.txt", "Write b.txt")
    agent = Agent(tmp_path, monkeypatch)
    agent.on("planner", [plan("write a.txt")], [plan("write b.txt")], [plan("write c.txt")])
    agent.on("executor", write("a.txt", "a"), write("b.txt", "b"), write("c.txt", "c"))
    agent.on("reviewer", [review()])
    agent.on("auditor", [audit("reject", gap("Write c.txt", "c.txt exists and says c"))], [audit()])
    run = run_loop_in_process(git_repo, {"max_iterations": 10})

    assert run.exit_code == 0, run.output
    follow_up = git_repo / "tasks" / "003-write-c-txt.md"
    text = follow_up.read_text()
    assert text.startswith("---\norigin: audit\n---\n# Write c.txt\n") and "- c.txt exists and says c" in text
    queue = queue_state(run.state_dir)
    assert (queue["003"]["state"], queue["003"]["origin"]) == ("done", "audit")
    assert (git_repo / "c.txt").read_text() == "c"
    assert "# Write c.txt" in agent.calls("executor")[2]["prompt"]
    assert events(run.journal(), "audit", "audit_followups", "task_started")[-4:] == [
        ("audit", None), ("audit_followups", None), ("task_started", "003"), ("audit", None),
    ]  # fmt: skip
    assert len(agent.calls("auditor")) == 2 and "[x] 003 Write c.txt" in agent.calls("auditor")[1]["prompt"]

    capsys.readouterr()
    assert main(["status", "--workspace", str(git_repo)]) == 0
    status = capsys.readouterr().out
    assert "complete (exit 0) at iteration 5 — every task is verified and the final audit approved" in status
    assert "  tasks: 3/3 done · final audit: approve · follow-up rounds: 1\n" in status
    assert "    [x] 003 Write c.txt — verified at iteration 4\n" in status
    assert main(["status", "--json", "--workspace", str(git_repo)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(t["id"], t["origin"], t["state"], t["iterations"]) for t in report["tasks"]["tasks"]] == [
        ("001", "user", "done", 1), ("002", "user", "done", 1), ("003", "audit", "done", 1),
    ]  # fmt: skip
    assert report["tasks"]["audit"]["rounds"] == 1 and report["task"] is None
    assert main(["history", "--limit", "0", "--workspace", str(git_repo)]) == 0
    history = capsys.readouterr().out
    assert "stopped       complete" not in history.split("final audit   approve")[0]  # a task's end is "done"
    for row in ("task 001      started: Write a.txt", "001 executor  complete", "final audit   reject: 1 gap(s)",
                "final audit   added 003-write-c-txt.md", "task 003      done: verified at iteration 4",
                "final audit   approve"):  # fmt: skip
        assert row in history, history
    assert main(["history", "--json", "--limit", "0", "--workspace", str(git_repo)]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["task"] for r in records if r["event"] == "agent_call" and r["role"] == "executor"} == {
        "001",
        "002",
        "003",
    }


def test_max_followups_bounds_the_audit_rounds(git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    add_tasks(git_repo, "Write a.txt")
    agent = Agent(tmp_path, monkeypatch)
    agent.on("planner", [plan("work")])
    agent.on("executor", [{"write": "x{call}.txt", "content": "x"}, {"control": control("complete")}])
    agent.on("reviewer", [review()])
    agent.on("auditor", [audit("reject", gap("Polish round {call}"))])
    run = run_loop_in_process(git_repo, {"max_iterations": 20, "max_followups": 2})

    assert run.exit_code == 2, run.output
    assert run.status["stop_reason"] == "audit_rejected"
    assert "after 2 follow-up round(s) (max_followups=2)" in run.output
    assert sorted(p.name for p in (git_repo / "tasks").iterdir()) == [
        "001-write-a-txt.md", "002-polish-round-1.md", "003-polish-round-2.md",
    ]  # fmt: skip
    assert len(agent.calls("auditor")) == 3
    assert [r["state"] for r in queue_state(run.state_dir).values()] == ["done", "done", "done"]


def test_budgets_count_per_task_and_for_the_whole_run(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_tasks(git_repo, "Write a.txt", "Write b.txt")
    agent = Agent(tmp_path, monkeypatch)
    agent.on("planner", [plan("write a.txt")], [plan("write b.txt")])
    agent.on(
        "executor",
        write("a.txt", "a"),
        [{"append": "b.txt", "content": "{call}"}, {"control": control("continue", "more b {call}")}],
    )
    agent.on("reviewer", [review()])
    run = run_loop_in_process(git_repo, {"max_iterations": 10, "max_iterations_per_task": 2, "max_stagnation": 9})

    assert run.exit_code == 2, run.output
    assert "stopped: max_iterations (exit 2) — task 002 used its max_iterations_per_task=2" in run.output
    assert [r["task"] for r in run.journal() if r["event"] == "agent_call" and r["role"] == "executor"] == [
        "001", "002", "002",
    ]  # fmt: skip
    assert "[~] 002 Write b.txt — stopped: max_iterations" in run.output

    whole = run_loop_in_process(git_repo, {"max_iterations": 1, "max_iterations_per_task": 5})
    assert whole.exit_code == 2 and "1 of max_iterations=1 done" in whole.output
    assert whole.runtime["iteration"] == 4  # the next run resumed task 002 and stopped at the run's budget


def test_edits_of_pending_tasks_are_picked_up_and_of_done_ones_reported(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _, third = add_tasks(git_repo, "Write a.txt", "Write b.txt", "Write c.txt")
    agent = Agent(tmp_path, monkeypatch)
    agent.on("planner", [plan("write a.txt")], [plan("write b.txt")], [plan("write c.txt")])
    edit_third = {"write": str(third), "content": "# Write c.txt twice\n\n## Done when\n\n- c.txt says cc\n"}
    edit_first = {"append": str(first), "content": "- and something new\n"}
    agent.on("executor", write("a.txt", "a"), [edit_third, edit_first, *write("b.txt", "b")], write("c.txt", "cc"))
    agent.on("reviewer", [review()])
    agent.on("auditor", [audit()])
    run = run_loop_in_process(git_repo, {"max_iterations": 10})

    assert run.exit_code == 0, run.output
    assert "- c.txt says cc" in agent.calls("executor")[2]["prompt"]  # the pending task as edited
    assert "[x] 003 Write c.txt twice" in run.output
    edited = [r for r in run.journal() if r["event"] == "task_edited"]
    assert len(edited) == 1 and "001 was edited after it was done" in edited[0]["note"]
    assert queue_state(run.state_dir)["001"]["edited_after_done"] is True
    assert [c["prompt"].count("# Write a.txt") for c in agent.calls("executor")] == [1, 0, 0]  # not run again
