"""kill -9 of the loop at many points: the next run resumes, every state file parses, no agent outlives the loop."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from codex_self_iter.proc.procinfo import stat_fields
from tests.support.faults import (
    LoopBench,
    leftover_temp_files,
    pid_alive,
    read_json_file,
    state_file_problems,
    wait_for,
)
from tests.support.ledger import assert_ledger

KILLED = -signal.SIGKILL


def parent_of(pid: int) -> int:
    fields = stat_fields(pid)
    assert fields is not None, f"no process {pid}"
    return int(fields[1])


def agents_gone(bench: LoopBench, timeout: float = 6.0) -> bool:
    return wait_for(lambda: not any(pid_alive(pid) for pid in bench.agent_pids()), timeout)


def assert_resumes(bench: LoopBench, torn_allowed: bool = False) -> None:
    """The next run picks up the last saved state: same goal, iteration numbering and counters go on."""
    problems = state_file_problems(bench.state_dir)
    torn = [p for p in problems if p.endswith("torn") or "unterminated" in p]
    assert problems == torn and (torn_allowed or not torn), problems
    saved = read_json_file(bench.state_dir / "runtime.json")
    saved = saved if isinstance(saved, dict) else {}
    iteration = int(saved.get("iteration", 0))
    calls_before = len(bench.agent_calls())
    code, loop = bench.run("--max-iterations", str(iteration + 2))

    assert code == 2, loop.stderr
    if saved and not saved.get("clean_exit", True):
        assert "did not exit cleanly" in loop.stderr
    assert "Traceback" not in loop.stderr
    if torn:
        assert "iterations.jsonl: skipped 1 unreadable line(s)" in loop.stderr  # recovered, and said so
    runtime, status = bench.runtime(), bench.status()
    assert runtime["iteration"] == iteration + 2
    assert runtime["clean_exit"] is True and runtime["stop_reason"] == "max_iterations"
    assert status["state"] == "stopped" and status["stop_reason"] == "max_iterations"
    new_calls = bench.agent_calls()[calls_before:]
    replayed = [(e["role"], e["iteration"]) for e in bench.journal() if e["event"] == "call_replayed"]
    executors = sorted(it for role, it in new_calls + replayed if role == "executor")
    assert executors == [iteration + 1, iteration + 2], (new_calls, replayed)
    if saved.get("goal") and new_calls[0][0] == "executor" and not replayed:
        prompt = (bench.state_dir / "prompts" / f"{iteration + 1:05d}-executor.md").read_text()
        assert saved["goal"] in prompt  # the goal the killed run had saved is the one worked on next
    assert_ledger(bench)
    after = state_file_problems(bench.state_dir)
    assert after == [p for p in torn if p.endswith("torn")], after  # a torn line stays skipped, now terminated
    assert list(leftover_temp_files(bench.state_dir)) == []  # the resumed run swept the killed writes' temp files
    assert agents_gone(bench)


KILL_POINTS = {
    "first state save, before anything ran": "replace:runtime.json:1",
    "first status write": "replace:status.json:1",
    "rendering the planner prompt, before the first call": "replace:00001-planner.md:1",
    "agent just started, before agent.json was written": "replace:agent.json:1",
    "right after the planner answered": "replace:final_message.txt:1",
    "recording the planner's control block": "replace:control.json:1",
    "saving state after the plan": "replace:runtime.json:3",
    "rendering the second executor prompt": "replace:00002-executor.md:1",
    "after the second executor call": "replace:final_message.txt:3",
    "saving state after the second iteration": "replace:runtime.json:6",
    "the 9th atomic write of any file": "replace:*:9",
    "the 23rd atomic write of any file": "replace:*:23",
    "the 37th atomic write of any file": "replace:*:37",
}


@pytest.mark.parametrize("fault", list(KILL_POINTS.values()), ids=list(KILL_POINTS))
def test_kill_9_during_a_state_write_then_resume(bench: LoopBench, fault: str) -> None:
    code, loop = bench.run("--max-iterations", "5", fault=fault)  # ~57 atomic writes: room for every point
    assert code == KILLED, f"the fault {fault} never fired: {loop.stderr}"
    assert agents_gone(bench)  # the loop is gone, so is every agent it started
    assert_resumes(bench)


@pytest.mark.parametrize("record", [2, 6])
def test_kill_9_halfway_through_a_journal_line_then_resume(bench: LoopBench, record: int) -> None:
    code, _ = bench.run("--max-iterations", "4", fault=f"append:iterations.jsonl:{record}")
    assert code == KILLED
    data = (bench.state_dir / "logs" / "iterations.jsonl").read_bytes()
    assert not data.endswith(b"\n")  # really torn
    assert_resumes(bench, torn_allowed=True)


def test_kill_9_while_the_agent_hangs_before_agent_json_the_reaper_ends_it(bench: LoopBench) -> None:
    """The worst moment: the agent runs, no agent.json names it yet, the loop dies. Nothing may survive."""
    code, _ = bench.run(
        "--max-iterations", "3", fault="replace:agent.json:1", env={"AGENT_HANG": "planner:1"}, timeout=30
    )
    assert code == KILLED
    assert not (bench.private_dir / "agent.json").exists()
    # The agent was spawned just before the kill. Unguarded, it would now reach its hang and stay; the reaper
    # ends it (maybe before its first line ran: then it logged nothing and left nothing).
    time.sleep(1.0)
    assert agents_gone(bench)
    assert_resumes(bench)


def kill_loop_during_agent_call(bench: LoopBench) -> tuple[dict[str, object], int]:
    loop = bench.start("--max-iterations", "5", env={"AGENT_HANG": "executor:2"})
    assert wait_for(bench.mark.exists, 30), loop.stderr
    record = bench.private_dir / "agent.json"
    assert wait_for(record.exists, 10)
    saved = read_json_file(record)
    assert isinstance(saved, dict)
    return saved, loop.proc.pid


def test_kill_9_during_an_agent_call_the_agent_group_ends_within_seconds(bench: LoopBench) -> None:
    saved, loop_pid = kill_loop_during_agent_call(bench)
    agent_pids = bench.agent_pids()[-2:]
    assert all(pid_alive(pid) for pid in agent_pids)
    assert saved["pgid"] == saved["pid"] == agent_pids[0]  # agent.json names the running agent's group
    os.kill(loop_pid, signal.SIGKILL)
    assert bench.procs[-1].wait(10) == KILLED
    assert agents_gone(bench, timeout=6)  # TERM at once, KILL after the grace period: not "until the next run"
    assert_resumes(bench)


def test_without_the_call_reaper_the_next_run_ends_the_leftover_agent(bench: LoopBench) -> None:
    """The second line of defence: agent.json names the group, and the next run ends it before starting."""
    saved, loop_pid = kill_loop_during_agent_call(bench)
    pgid = int(str(saved["pgid"]))
    reaper = int(str(saved["reaper"]))
    # agent.json names the call's reaper: forked by the loop, the agent's parent, in a session of its own.
    assert Path(f"/proc/{reaper}/comm").read_text().strip() == "codex-reaper"
    assert parent_of(reaper) == loop_pid and parent_of(pgid) == reaper and os.getsid(reaper) == reaper
    os.kill(reaper, signal.SIGKILL)  # started (indirectly) by this test: its loop forked it
    os.kill(loop_pid, signal.SIGKILL)
    bench.procs[-1].wait(10)
    agent_pids = bench.agent_pids()[-2:]
    assert not wait_for(lambda: not any(pid_alive(p) for p in agent_pids), 1.0)  # nothing ended them yet
    code, loop = bench.run("--max-iterations", "3")
    assert code == 2, loop.stderr
    assert f"ended agent process group {pgid}" in loop.stderr
    assert not any(pid_alive(pid) for pid in agent_pids)
    start = next(e for e in reversed(bench.journal()) if e["event"] == "start")
    assert start["pid_group_ended"] == pgid
    assert not (bench.private_dir / "agent.json").exists()


def test_kill_9_during_a_backoff_sleep_then_the_rest_of_the_backoff_is_honoured(bench: LoopBench) -> None:
    bench.config["backoff_base_sec"] = 3
    loop = bench.start("--max-iterations", "5", env={"AGENT_FAIL": "1"})
    assert wait_for(lambda: (read_json_file(bench.state_dir / "status.json") or {}).get("state") == "backing_off", 30)
    saved = bench.runtime()
    assert saved["streaks"]["agent_failures"] == 1 and saved["backoff_until"] > 0
    os.kill(loop.proc.pid, signal.SIGKILL)
    assert loop.wait(10) == KILLED
    assert agents_gone(bench)
    calls_before = len(bench.agent_calls())

    code, resumed = bench.run("--max-iterations", "2")
    assert code == 2, resumed.stderr
    assert "did not exit cleanly" in resumed.stderr
    first_call = next(e for e in bench.journal()[::-1] if e["event"] == "start")
    calls = [e for e in bench.journal() if e["event"] == "agent_call" and e["ts"] >= first_call["ts"]]
    assert len(bench.agent_calls()) > calls_before
    started = calls[0]["ts"] - calls[0]["duration_sec"]
    assert started >= saved["backoff_until"] - 0.05  # the persisted backoff was slept out, not forgotten
    assert bench.runtime()["streaks"]["agent_failures"] == 0
    assert state_file_problems(bench.state_dir) == []


def test_every_state_file_is_private_after_a_kill(bench: LoopBench) -> None:
    code, _ = bench.run("--max-iterations", "4", fault="replace:*:23")
    assert code == KILLED
    for path in bench.state_dir.rglob("*"):
        mode = path.stat().st_mode & 0o777
        assert mode & 0o077 == 0, f"{path.relative_to(bench.state_dir)} is {oct(mode)}"
    json.loads((bench.state_dir / "runtime.json").read_text())
