"""Gate decisions are pure functions: a table per gate, every stop reason covered."""

from __future__ import annotations

import pytest

from codex_self_iter.config import Settings
from codex_self_iter.loop import gates
from codex_self_iter.loop.goals import is_near_duplicate, similarity
from codex_self_iter.outcome import StopReason, exit_code_for
from codex_self_iter.state.runtime import Streaks

S = Settings(max_iterations=10, max_wall_clock_sec=100, max_total_tokens=1000, backoff_jitter=0)


@pytest.mark.parametrize(
    ("iteration", "tokens", "elapsed", "expected"),
    [
        (9, 999, 99, None),
        (10, 0, 0, StopReason.MAX_ITERATIONS),
        (0, 0, 100, StopReason.WALL_CLOCK),
        (0, 1000, 0, StopReason.TOKEN_BUDGET),
    ],
)
def test_budget_gate(iteration: int, tokens: int, elapsed: float, expected: StopReason | None) -> None:
    decision = gates.budget_gate(iteration, tokens, 1000.0, 1000.0 + elapsed, S)
    assert (decision.reason if isinstance(decision, gates.Stop) else None) == expected


def test_unbounded_budgets_never_stop() -> None:
    assert isinstance(gates.budget_gate(10**6, 10**9, 0, 10**9, Settings()), gates.Continue)


@pytest.mark.parametrize(
    ("streaks", "expected"),
    [
        (Streaks(agent_failures=5), StopReason.AGENT_FAILURE),
        (Streaks(blocked=2), StopReason.AGENT_BLOCKED),
        (Streaks(planner_stops=2), StopReason.PLANNER_STOP),
        (Streaks(false_completions=3), StopReason.FALSE_COMPLETION),
        (Streaks(no_change=3), StopReason.NO_CHANGE),
    ],
)
def test_streak_gate_stops(streaks: Streaks, expected: StopReason) -> None:
    decision = gates.streak_gate(streaks, S)
    assert isinstance(decision, gates.Stop) and decision.reason is expected


@pytest.mark.parametrize(
    ("streaks", "seconds", "why"),
    [
        (Streaks(), 0, None),
        (Streaks(agent_failures=1), 5, "agent failure"),
        (Streaks(agent_failures=3), 20, "agent failure"),
        (Streaks(no_change=2), 120, "no change"),
        (Streaks(blocked=1), 300, "blocked"),
        (Streaks(planner_stops=1), 300, "planner"),  # capped by backoff_max_sec
    ],
)
def test_streak_gate_backoff(streaks: Streaks, seconds: float, why: str | None) -> None:
    decision = gates.streak_gate(streaks, S)
    if why is None:
        assert isinstance(decision, gates.Continue)
    else:
        assert decision == gates.Backoff(seconds, why)


def test_no_change_gate_off_never_stops_or_waits_for_no_change() -> None:
    settings = Settings(no_change_gate=False)
    assert isinstance(gates.streak_gate(Streaks(no_change=99), settings), gates.Continue)


@pytest.mark.parametrize(
    ("streak", "sample", "low", "high"), [(1, 0.0, 4.5, 4.5), (1, 1.0, 5.5, 5.5), (9, 1.0, 300, 300)]
)
def test_backoff_formula_with_jitter(streak: int, sample: float, low: float, high: float) -> None:
    assert low <= gates.backoff_seconds(5, 300, streak, jitter=0.1, sample=sample) <= high


def test_stagnation_replans_once_then_stops() -> None:
    assert isinstance(gates.stagnation_gate(3, False, S), gates.Continue)
    assert isinstance(gates.stagnation_gate(4, False, S), gates.Replan)
    stop = gates.stagnation_gate(4, True, S)
    assert isinstance(stop, gates.Stop) and stop.reason is StopReason.STAGNATION


@pytest.mark.parametrize(
    ("retry_in", "waited", "expected"),
    [(60.0, 0.0, gates.Backoff(60.0, "usage limit")), (None, 0.0, gates.Backoff(60.0, "usage limit"))],
)
def test_usage_limit_waits_within_the_cap(retry_in: float | None, waited: float, expected: gates.Backoff) -> None:
    assert gates.usage_limit_gate(retry_in, waited, 1, S) == expected


def test_usage_limit_beyond_the_cap_stops() -> None:
    decision = gates.usage_limit_gate(3 * 86400.0, 0.0, 1, S)
    assert isinstance(decision, gates.Stop) and decision.reason is StopReason.USAGE_LIMIT


def test_every_stop_reason_has_a_documented_exit_code() -> None:
    assert {exit_code_for(reason) for reason in StopReason} <= {0, 1, 2, 3, 5, 130}
    assert exit_code_for(StopReason.COMPLETE) == 0 and exit_code_for(StopReason.STOP_FILE) == 5


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Fix the parser bug in parse.py", "fix the parser bug in parse.py!", True),
        ("fix the parser bug in parse.py", "parse.py: fix parser bug", True),
        ("write hello.txt", "add tests for the CLI", False),
        ("step 1", "step 2", False),
    ],
)
def test_near_duplicate_goals(a: str, b: str, same: bool) -> None:
    assert is_near_duplicate(a, b, 0.9) is same
    assert similarity(a, a) == 1.0
