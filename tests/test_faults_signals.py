"""SIGTERM / SIGINT during a sleep and during an agent call; five loops started at once on one state dir."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.support.faults import LoopBench, pid_alive, read_json_file, state_file_problems, wait_for

REACTION_LIMIT_SEC = 5.0


def status_state(bench: LoopBench) -> object:
    return (read_json_file(bench.state_dir / "status.json") or {}).get("state")


@pytest.mark.parametrize(
    ("signum", "exit_code", "reason"),
    [(signal.SIGTERM, 5, "signal"), (signal.SIGINT, 130, "interrupted")],
    ids=["SIGTERM", "SIGINT"],
)
@pytest.mark.parametrize("during", ["agent call", "backoff sleep"])
def test_signal_ends_the_agent_group_saves_state_and_exits_within_seconds(
    bench: LoopBench, signum: signal.Signals, exit_code: int, reason: str, during: str
) -> None:
    if during == "agent call":
        loop = bench.start("--max-iterations", "5", env={"AGENT_HANG": "executor:2"})
        assert wait_for(bench.mark.exists, 30), loop.stderr
    else:
        bench.config["backoff_base_sec"] = 120
        loop = bench.start("--max-iterations", "5", env={"AGENT_FAIL": "1"})
        assert wait_for(lambda: status_state(bench) == "backing_off", 30), loop.stderr
    agents = bench.agent_pids()
    sent = time.monotonic()
    if signum == signal.SIGINT:
        os.killpg(loop.proc.pid, signum)  # like ^C in a terminal: the loop's whole foreground group
    else:
        os.kill(loop.proc.pid, signum)
    code = loop.wait(timeout=30)
    reaction = time.monotonic() - sent

    assert code == exit_code, loop.stderr
    assert reaction < REACTION_LIMIT_SEC
    assert not any(pid_alive(pid) for pid in agents)  # ended by the loop itself, before it exited
    assert "Traceback" not in loop.stderr
    runtime, status = bench.runtime(), bench.status()
    assert runtime["stop_reason"] == reason and runtime["clean_exit"] is True
    assert status["state"] == "stopped" and status["stop_reason"] == reason and status["exit_code"] == exit_code
    assert bench.journal()[-1]["event"] == "stop" and bench.journal()[-1]["reason"] == reason
    assert not (bench.private_dir / "agent.json").exists()
    assert state_file_problems(bench.state_dir) == []
    if during == "backoff sleep":
        assert runtime["backoff_until"] > time.time()  # the unfinished backoff is kept for the next run


def test_after_a_signal_the_next_run_resumes_where_it_stopped(bench: LoopBench) -> None:
    loop = bench.start("--max-iterations", "5", env={"AGENT_HANG": "executor:2"})
    assert wait_for(bench.mark.exists, 30)
    os.kill(loop.proc.pid, signal.SIGTERM)
    assert loop.wait(30) == 5
    stopped = bench.runtime()
    calls_before = len(bench.agent_calls())
    code, again = bench.run("--max-iterations", "3")
    assert code == 2, again.stderr
    assert "did not exit cleanly" not in again.stderr
    new_calls = bench.agent_calls()[calls_before:]
    assert new_calls and all(role == "executor" for role, _ in new_calls)  # same goal: no new plan needed
    assert new_calls[0][1] == stopped["iteration"] + 1  # numbering goes on after the cancelled iteration
    assert bench.runtime()["iteration"] == new_calls[-1][1]
    assert bench.runtime()["totals"]["agent_calls"] == stopped["totals"]["agent_calls"] + len(new_calls)
    assert stopped["goal"] in (bench.state_dir / "prompts" / f"{new_calls[0][1]:05d}-executor.md").read_text()


def test_five_runs_started_at_once_exactly_one_runs_the_others_exit_4(bench: LoopBench) -> None:
    bench.config["max_iterations"] = 2
    loops = [bench.start(env={"AGENT_HANG": "executor:1"}) for _ in range(5)]
    assert wait_for(bench.mark.exists, 60)
    assert wait_for(lambda: sum(loop.proc.poll() is not None for loop in loops) == 4, 60)
    losers = [loop for loop in loops if loop.proc.poll() is not None]
    (winner,) = [loop for loop in loops if loop.proc.poll() is None]
    holder = read_json_file(bench.private_dir / "lock-holder.json")
    assert isinstance(holder, dict) and holder["pid"] == winner.proc.pid
    for loop in losers:
        assert loop.proc.returncode == 4, loop.stderr
        assert f"another loop holds the lock (pid {winner.proc.pid}," in loop.stderr
        assert "Traceback" not in loop.stderr
    os.kill(winner.proc.pid, signal.SIGTERM)
    assert winner.wait(30) == 5
    assert [role for role, _ in bench.agent_calls()] == ["planner", "executor"]  # only the winner called an agent
    assert bench.status()["pid"] == winner.proc.pid
    assert state_file_problems(bench.state_dir) == []
