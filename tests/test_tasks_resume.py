"""kill -9 of the loop during task 2: the next `run` resumes task 2 with its goal, and task 1 stays done."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from codex_self_iter.cli import main
from tests.support.faults import pid_alive, wait_for
from tests.support.loop_harness import Agent, control, fake_template, private_file, run_loop_in_process
from tests.support.task_files import add_tasks, audit, events, plan, queue_state, review

CONFIG = {"max_iterations": 10, "max_iterations_per_task": 4, "checks": [], "heartbeat_sec": 3600}


def write(name: str, content: str) -> list[dict[str, object]]:
    return [{"write": name, "content": content}, {"control": control("complete", summary=f"wrote {name}")}]


@pytest.mark.timeout(90)
def see_status(workspace: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, dict[str, Any]]:
    """`status` and `status --json` of the running loop."""
    capsys.readouterr()
    assert main(["status", "--workspace", str(workspace)]) == 0
    text = capsys.readouterr().out
    assert main(["status", "--json", "--workspace", str(workspace)]) == 0
    return text, json.loads(capsys.readouterr().out)


def test_kill_9_during_task_2_then_run_resumes_task_2_and_keeps_task_1(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    add_tasks(git_repo, "Write a.txt", "Write b.txt", "Write c.txt")
    marker = tmp_path / "task-2-started"
    agent = Agent(tmp_path, monkeypatch)
    agent.on("planner", [plan("write a.txt")], [plan("write b.txt saying b")], [plan("write c.txt")])
    agent.on(
        "executor",
        write("a.txt", "a"),
        [{"write": "b.txt", "content": "half"}, {"touch": str(marker)}, {"sleep": 60}],  # killed in here
        write("b.txt", "b"),
        write("c.txt", "c"),
    )
    agent.on("reviewer", [review()])
    agent.on("auditor", [audit()])
    config = git_repo.parent / "loop-config.toml"
    config.write_text(tomli_w.dumps(CONFIG))
    argv = [sys.executable, "-m", "codex_self_iter", "run", "--workspace", str(git_repo), "--config", str(config)]
    argv += ["--agent-command-template", fake_template(), "--quiet"]
    loop = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        assert wait_for(marker.exists, 60), "task 2's executor never started"
        seen = see_status(git_repo, capsys)
        os.kill(loop.pid, signal.SIGKILL)
        assert loop.wait(timeout=10) == -signal.SIGKILL
    finally:
        if loop.poll() is None:
            loop.kill()
            loop.wait()
    text, report = seen
    assert " · task 002 · iteration 2/5: executor running for" in text.splitlines()[0]
    assert "  tasks: 1/3 done · final audit: not yet\n    [x] 001 Write a.txt — verified at iteration 1\n" in text
    assert "    [~] 002 Write b.txt — iteration 1/4\n    [ ] 003 Write c.txt\n" in text
    assert report["task"] == "002" and report["call"]["role"] == "executor"
    tasks = {task["id"]: task for task in report["tasks"]["tasks"]}
    assert (tasks["002"]["state"], tasks["002"]["iterations"], tasks["002"]["max_iterations"]) == ("in_progress", 1, 4)
    state_dir = git_repo / ".codex-self-iter"
    killed = json.loads((state_dir / "runtime.json").read_text())
    assert (killed["task"], killed["clean_exit"], killed["goal"]) == ("002", False, "write b.txt saying b")
    queue = queue_state(state_dir)
    assert (queue["001"]["state"], queue["002"]["state"], queue["003"]["state"]) == ("done", "in_progress", "pending")
    task_1_done_at = queue["001"]["finished_iteration"]
    orphan = json.loads(private_file(state_dir, "agent.json").read_text())["pgid"]

    run = run_loop_in_process(git_repo, CONFIG)

    assert run.exit_code == 0, run.output
    assert not pid_alive(orphan)  # the killed loop's agent does not outlive it
    assert [(git_repo / n).read_text() for n in ("a.txt", "b.txt", "c.txt")] == ["a", "b", "c"]
    queue = queue_state(run.state_dir)
    assert [queue[i]["state"] for i in ("001", "002", "003")] == ["done", "done", "done"]
    assert queue["001"]["finished_iteration"] == task_1_done_at  # task 1's result kept, not run again
    journal = run.journal()
    restart = max(i for i, r in enumerate(journal) if r["event"] == "start")
    assert events(journal[restart:], "task_started", "task_done") == [
        ("task_done", "002"), ("task_started", "003"), ("task_done", "003"),
    ]  # fmt: skip
    assert len(agent.calls("planner")) == 3  # task 2 resumed with its saved goal: no new plan for it
    resumed = agent.calls("executor")[2]["prompt"]
    assert "# Write b.txt" in resumed and "write b.txt saying b" in resumed
