"""Every gate through the real loop: stagnation, no change, failures, blocked, planner stop, budgets, backoff."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.loop_harness import Agent, FakeTime, control, run_loop_in_process

PLAN = {"control": {"next_goal": "write hello.txt", "summary": "one step"}}


@pytest.fixture
def agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Agent:
    return Agent(tmp_path, monkeypatch).on("planner", [PLAN])


def test_stagnation_replans_once_then_stops(git_repo: Path, agent: Agent) -> None:
    agent.on("planner", [PLAN], [{"control": {"next_goal": "try a different approach to hello", "summary": "s"}}])
    agent.on("executor", [{"control": control("continue", "Write hello.txt!")}])  # the workspace stands still
    run = run_loop_in_process(git_repo, {"max_stagnation": 2, "max_no_change": 10, "max_iterations": 30})
    assert run.exit_code == 2, run.output
    assert run.status["stop_reason"] == "stagnation"
    assert len(agent.calls("planner")) == 2  # the first plan, and exactly one re-plan
    assert "barely changed" in agent.calls("planner")[1]["prompt"]
    assert any(e.get("kind") == "replan" for e in run.journal())


def test_near_duplicate_goals_with_reordered_words_count_as_stagnation(git_repo: Path, agent: Agent) -> None:
    goals = ["fix the parser bug in parse.py", "Fix the bug in the parser (parse.py).", "parse.py: fix parser bug"]
    agent.on("executor", *[[{"control": control("continue", g)}] for g in goals])
    run = run_loop_in_process(git_repo, {"max_stagnation": 3, "max_no_change": 10, "max_iterations": 3})
    assert run.runtime["streaks"]["stagnation"] >= 2


def test_no_change_backs_off_exponentially_then_stops(git_repo: Path, agent: Agent) -> None:
    agent.on("executor", [{"control": control("continue", "think about hello {call}")}])
    clock = FakeTime()
    run = run_loop_in_process(
        git_repo,
        {"max_no_change": 3, "no_change_backoff_sec": 10, "backoff_max_sec": 100, "backoff_jitter": 0},
        clock,
    )
    assert run.exit_code == 2
    assert run.status["stop_reason"] == "no_change"
    assert round(sum(clock.sleeps)) == 10 + 20  # two backoffs before the third no-change turn stops the loop
    backoffs = [e["seconds"] for e in run.journal() if e.get("kind") == "backoff"]
    assert backoffs == [10.0, 20.0]


def test_agent_failures_back_off_then_stop_with_exit_3(git_repo: Path, agent: Agent) -> None:
    agent.on("executor", [{"stderr": "boom"}, {"exit": 7}])
    clock = FakeTime()
    run = run_loop_in_process(
        git_repo, {"max_agent_failures": 4, "backoff_base_sec": 2, "backoff_max_sec": 5, "backoff_jitter": 0}, clock
    )
    assert run.exit_code == 3
    assert run.status["stop_reason"] == "agent_failure"
    backoffs = [e["seconds"] for e in run.journal() if e.get("kind") == "backoff"]
    assert backoffs == [2.0, 4.0, 5.0]  # min(max, base * 2^(n-1))
    failures = [e for e in run.journal() if e.get("event") == "agent_call" and e["role"] == "executor"]
    assert all("exit code 7" in e["error"] for e in failures)


def test_blocked_agent_stops_with_exit_3(git_repo: Path, agent: Agent) -> None:
    agent.on("executor", [{"control": control("blocked", "need the API key from the user")}])
    run = run_loop_in_process(git_repo, {"max_blocked": 2, "continue_false_backoff_sec": 7, "backoff_jitter": 0})
    assert run.exit_code == 3
    assert run.status["stop_reason"] == "agent_blocked"
    assert [e["seconds"] for e in run.journal() if e.get("kind") == "backoff"] == [7.0]


def test_planner_stop_backs_off_then_stops(git_repo: Path, agent: Agent) -> None:
    agent.on("planner", [{"control": {"next_goal": "", "summary": "nothing to do", "stop": True}}])
    run = run_loop_in_process(git_repo, {"max_planner_stops": 2, "planner_stop_backoff_sec": 3, "backoff_jitter": 0})
    assert run.exit_code == 3
    assert run.status["stop_reason"] == "planner_stop"
    assert agent.calls("executor") == []


def test_wall_clock_budget_stops_with_exit_2(git_repo: Path, agent: Agent) -> None:
    agent.on("executor", [{"exit": 1}])
    clock = FakeTime()
    run = run_loop_in_process(
        git_repo,
        {"max_wall_clock_sec": 5, "backoff_base_sec": 2, "backoff_jitter": 0, "max_agent_failures": 50},
        clock,
    )
    assert run.exit_code == 2
    assert run.status["stop_reason"] == "wall_clock"
    assert 5 <= sum(clock.sleeps) <= 2 + 4 + 8


def test_garbage_output_gets_one_repair_attempt(git_repo: Path, agent: Agent) -> None:
    agent.on(
        "executor",
        [{"write": "hello.txt", "content": "hello"}, {"garbage": 5}],
        [{"control": control("continue", "polish hello.txt")}],
        [{"exit": 0}],
    )
    run = run_loop_in_process(git_repo, {"max_iterations": 1})
    repair = agent.calls("executor")[1]["prompt"]
    assert "could not be used by the loop" in repair
    assert "no JSON control block" in repair
    assert run.runtime["goal"] == "polish hello.txt"
    assert (run.state_dir / "runs" / "00001" / "executor-repair" / "final_message.txt").exists()


def test_invalid_block_twice_stops_as_invalid_output(git_repo: Path, agent: Agent) -> None:
    agent.on("executor", [{"control": {"status": "continue", "summary": "x"}}])  # next_goal missing
    run = run_loop_in_process(git_repo, {"backoff_jitter": 0})
    assert run.exit_code == 3
    assert run.status["stop_reason"] == "invalid_output"
    calls = agent.calls("executor")
    assert len(calls) == 4  # two iterations, each with its one repair attempt (max_invalid_outputs = 2)
    assert '"next_goal" is missing or empty' in calls[1]["prompt"]


def test_a_never_valid_agent_stops_within_6_calls(git_repo: Path, agent: Agent) -> None:
    for role in ("planner", "executor", "reviewer"):
        agent.on(role, [{"say": "I am working on it, no block today."}])
    clock = FakeTime()
    run = run_loop_in_process(git_repo, {"max_iterations": 50}, clock)
    assert (run.exit_code, run.status["stop_reason"]) == (3, "invalid_output"), run.output
    assert len(agent.calls()) <= 6
    print(f"never-valid agent: {len(agent.calls())} calls, {sum(clock.sleeps):.0f}s of backoff")


def test_numbered_steps_with_real_changes_run_50_iterations_without_stagnation(git_repo: Path, agent: Agent) -> None:
    step = [{"write": "items/item{call}.txt", "content": "tidy {call}"}]
    agent.on("executor", [*step, {"control": control("continue", "Step {call}: tidy item {call}")}])
    run = run_loop_in_process(git_repo, {"max_iterations": 50})
    assert run.status["stop_reason"] == "max_iterations", run.output
    assert run.status["iteration"] == 50 and len(agent.calls("planner")) == 1  # never a stagnation re-plan
    assert len(list((git_repo / "items").iterdir())) == 50


def test_the_same_step_on_a_workspace_that_stands_still_still_stops(git_repo: Path, agent: Agent) -> None:
    agent.on("executor", [{"control": control("continue", "Step 16: tidy item 16")}])
    run = run_loop_in_process(git_repo, {"max_stagnation": 3, "max_no_change": 20, "max_iterations": 50})
    assert run.status["stop_reason"] == "stagnation", run.output
    assert run.status["iteration"] <= 8


def test_restart_honours_persisted_backoff(git_repo: Path, agent: Agent) -> None:
    agent.on("executor", [{"exit": 1}])
    clock = FakeTime()
    first = run_loop_in_process(
        git_repo, {"max_agent_failures": 1, "backoff_base_sec": 50, "backoff_jitter": 0, "max_iterations": 1}, clock
    )
    assert first.exit_code == 3
    # A crashed loop leaves backoff_until in runtime.json; simulate by scheduling one and restarting.
    runtime = first.runtime
    runtime["backoff_until"] = clock.now + 40
    runtime["backoff_reason"] = "agent failure"
    (first.state_dir / "runtime.json").write_text(__import__("json").dumps(runtime))
    agent.on("executor", [{"append": "x", "content": "1"}, {"control": control("continue", "next")}])
    second = run_loop_in_process(git_repo, {"max_iterations": 2, "backoff_jitter": 0}, clock)
    assert round(sum(clock.sleeps)) == 40
    assert second.exit_code == 2


def test_near_duplicate_goal_and_quotes_and_shell_metacharacters_are_inert(git_repo: Path, agent: Agent) -> None:
    nasty = "fix \"quoted\" path 'a b' ; rm -rf / $(touch pwned) `touch pwned2` && echo {prompt_file}"
    agent.on("executor", [{"append": "x", "content": "{call}"}, {"control": control("continue", nasty)}])
    run = run_loop_in_process(git_repo, {"max_iterations": 2})
    assert run.exit_code == 2
    assert not (git_repo / "pwned").exists() and not (git_repo / "pwned2").exists()
    assert nasty in agent.calls("executor")[1]["prompt"]
    assert agent.calls("executor")[1]["argv"][3] == "executor"


def test_budgets_count_per_run_so_a_restart_gets_a_fresh_budget(git_repo: Path, agent: Agent) -> None:
    agent.on("executor", [{"append": "x", "content": "{call}"}, {"control": control("continue", "step {call}")}])
    first = run_loop_in_process(git_repo, {"max_iterations": 2})
    assert first.exit_code == 2 and first.status["iteration"] == 2
    second = run_loop_in_process(git_repo, {"max_iterations": 2})
    assert second.exit_code == 2
    assert second.status["iteration"] == 4
    assert second.runtime["goal"] == "step 4"  # resumed with the goal the first run left
