"""kill -9 between a call's journal record and the next runtime.json save: the restart counts the call once and
uses its answer instead of asking the agent again; 30 random kills leave a journal and totals that agree."""

from __future__ import annotations

import os
import random
import signal
import time

import pytest

from tests.support.faults import LoopBench, pid_alive, state_file_problems, wait_for
from tests.support.ledger import assert_ledger

KILLED = -signal.SIGKILL


def test_a_planner_answer_journalled_before_the_kill_is_used_not_asked_again(bench: LoopBench) -> None:
    code, _ = bench.run("--max-iterations", "3", fault="record:agent_call:1")  # right after the planner's record
    assert code == KILLED
    assert bench.runtime()["totals"]["agent_calls"] == 0  # the killed run never saved that call

    code, loop = bench.run("--max-iterations", "2")
    assert code == 2, loop.stderr
    assert "1 agent call(s) had finished before the loop was killed" in loop.stderr
    assert [role for role, _ in bench.agent_calls()] == ["planner", "executor", "executor"]  # one planner process
    replayed = [e for e in bench.journal() if e["event"] == "call_replayed"]
    assert [(e["role"], e["iteration"]) for e in replayed] == [("planner", 1)]
    prompt = (bench.state_dir / "prompts" / "00001-executor.md").read_text()
    assert "goal number 1" in prompt  # the recorded plan is the one the executor got
    assert_ledger(bench)


def test_an_executor_answer_journalled_before_the_kill_finishes_its_iteration(bench: LoopBench) -> None:
    # Records: planner #1, executor #1, executor #2 -> killed right after executor #2's record.
    code, _ = bench.run("--max-iterations", "5", fault="record:agent_call:3")
    assert code == KILLED
    saved = bench.runtime()
    assert saved["iteration"] == 1 and saved["totals"]["agent_calls"] == 2

    code, loop = bench.run("--max-iterations", "3")
    assert code == 2, loop.stderr
    executors = [it for role, it in bench.agent_calls() if role == "executor"]
    assert executors == [1, 2, 3]  # iteration 2's executor ran once, before the kill
    runtime = bench.runtime()
    assert runtime["iteration"] == 3
    assert runtime["streaks"]["no_change"] == 0  # judged against the fingerprint from before the original call
    assert "goal number 2" in (bench.state_dir / "prompts" / "00003-executor.md").read_text()
    assert_ledger(bench)


def test_a_second_kill_before_the_replay_is_used_keeps_it(bench: LoopBench) -> None:
    code, _ = bench.run("--max-iterations", "5", fault="record:agent_call:3")
    assert code == KILLED
    # The restart recovers executor #2 and saves that, then dies saving the iteration that used it.
    code, _ = bench.run("--max-iterations", "5", fault="replace:runtime.json:2")
    assert code == KILLED
    assert [r["iteration"] for r in bench.runtime()["replay"]] == [2]
    code, loop = bench.run("--max-iterations", "3")
    assert code == 2, loop.stderr
    assert [it for role, it in bench.agent_calls() if role == "executor"] == [1, 2, 3]
    assert_ledger(bench)


@pytest.mark.timeout(240)
def test_30_random_kill_9s_then_restarts_leave_one_record_per_call(bench: LoopBench) -> None:
    """Kills at random times and at random writes (state files, journal records), each followed by a restart."""
    bench.codex = True  # the fake codex reports token usage, so the token totals are compared too
    seed = int(os.environ.get("CSI_KILL_SEED", "1903"))
    rng = random.Random(seed)
    fired = recorded_kills = 0
    for _ in range(30):
        kind = rng.choice(["time", "record", "replace"])
        fault = {"record": f"record:agent_call:{rng.randint(1, 4)}", "replace": f"replace:*:{rng.randint(1, 40)}"}
        loop = bench.start("--max-iterations", "1000", fault=fault.get(kind))
        if kind == "time":
            time.sleep(rng.uniform(0.3, 1.2))
            if loop.proc.poll() is None:
                os.kill(loop.proc.pid, signal.SIGKILL)  # the loop this test started
        code = loop.wait(60)
        assert code == KILLED, f"seed {seed}: {loop.stderr}"
        fired += 1
        recorded_kills += kind == "record"
        assert wait_for(lambda: not any(pid_alive(pid) for pid in bench.agent_pids()), 10)
        problems = state_file_problems(bench.state_dir)
        assert all(p.endswith("torn") for p in problems), (seed, problems)

    iteration = bench.runtime()["iteration"]
    code, loop = bench.run("--max-iterations", str(iteration + 2))
    assert code == 2, f"seed {seed}: {loop.stderr}"
    # Every kill right after a call's record left a call to recover (a later kill may come before the recovery).
    recovered = [e for e in bench.journal() if e["event"] == "calls_recovered"]
    assert len(recovered) >= recorded_kills > 0, (seed, len(recovered), recorded_kills)
    assert "Traceback" not in loop.stderr
    assert bench.runtime()["iteration"] == iteration + 2
    assert_ledger(bench)
    assert fired == 30
