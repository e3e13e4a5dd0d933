"""Gate decisions are pure functions: a table per gate, every stop reason covered."""

from __future__ import annotations

import pytest

from codex_self_iter.config import Settings
from codex_self_iter.loop import gates
from codex_self_iter.loop.goals import is_near_duplicate, similarity
from codex_self_iter.outcome import StopReason, exit_code_for
from codex_self_iter.state.runtime import Streaks

S = Settings(max_iterations=10, max_wall_clock_sec=100, max_total_tokens=1000, max_cost_usd=2.5, backoff_jitter=0)


@pytest.mark.parametrize(
    ("iteration", "tokens", "elapsed", "cost", "expected"),
    [
        (9, 999, 99, 2.49, None),
        (10, 0, 0, 0, StopReason.MAX_ITERATIONS),
        (0, 0, 100, 0, StopReason.WALL_CLOCK),
        (0, 1000, 0, 0, StopReason.TOKEN_BUDGET),
        (0, 0, 0, 2.5, StopReason.COST_BUDGET),
    ],
)
def test_budget_gate(iteration: int, tokens: int, elapsed: float, cost: float, expected: StopReason | None) -> None:
    decision = gates.budget_gate(gates.Spent(iteration, tokens, elapsed, cost), S)
    assert (decision.reason if isinstance(decision, gates.Stop) else None) == expected


def test_the_cost_budget_names_dollars_spent() -> None:
    stop = gates.budget_gate(gates.Spent(cost_usd=2.5123), S)
    assert isinstance(stop, gates.Stop) and stop.detail == "$2.51 spent of max_cost_usd=2.5"


def test_unbounded_budgets_never_stop() -> None:
    assert isinstance(gates.budget_gate(gates.Spent(10**6, 10**9, 10**9, 10**6), Settings()), gates.Continue)


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


@pytest.mark.parametrize(
    ("retry_in", "streak", "seconds"), [(-20.0, 1, 5.0), (-20.0, 2, 10.0), (0.2, 3, 20.0), (30.0, 1, 30.0)]
)
def test_a_stated_time_already_past_waits_at_least_the_growing_backoff(
    retry_in: float, streak: int, seconds: float
) -> None:
    settings = Settings(backoff_base_sec=5, backoff_max_sec=300, backoff_jitter=0)
    assert gates.usage_limit_gate(retry_in, 0.0, streak, settings) == gates.Backoff(seconds, "usage limit")


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


# The gate table: every entry is checked here, so a new gate gets these rows for free.
STREAK_GATES = [g for g in gates.GATES if g.kind is gates.Kind.STREAK]
BUDGET_GATES = [g for g in gates.GATES if g.kind is gates.Kind.BUDGET]


@pytest.mark.parametrize("gate", gates.GATES, ids=lambda g: g.name)
def test_every_gate_names_a_real_counter_cap_and_backoff(gate: gates.Gate) -> None:
    holder = gates.Spent() if gate.kind is gates.Kind.BUDGET else Streaks()
    assert hasattr(holder, gate.counter), f"{gate.name}: no counter {gate.counter!r}"
    for key in (gate.cap, gate.backoff, gate.switch):
        assert key is None or key in Settings.model_fields, f"{gate.name}: {key!r} is not a setting"
    assert exit_code_for(gate.reason) in {1, 2, 3}
    assert gate.kind is gates.Kind.BUDGET or gate.bump, f"{gate.name}: nothing bumps its counter"
    assert not gate.bump & gate.reset
    assert len({g.name for g in gates.GATES}) == len(gates.GATES)


@pytest.mark.parametrize("gate", STREAK_GATES, ids=lambda g: g.name)
def test_a_streak_gate_stops_at_its_cap_and_not_below(gate: gates.Gate) -> None:
    cap = getattr(S, gate.cap)
    at_cap = gates.streak_gate(Streaks(**{gate.counter: cap}), S)
    assert isinstance(at_cap, gates.Stop) and at_cap.reason is gate.reason
    assert str(cap) in at_cap.detail
    below = gates.streak_gate(Streaks(**{gate.counter: cap - 1}), S)
    assert not isinstance(below, gates.Stop)
    if gate.backoff is not None and cap > 1:
        assert isinstance(below, gates.Backoff) and below.reason == gate.label


@pytest.mark.parametrize("gate", BUDGET_GATES, ids=lambda g: g.name)
def test_a_budget_gate_stops_when_spent_and_zero_means_no_budget(gate: gates.Gate) -> None:
    cap = getattr(S, gate.cap)
    spent = gates.Spent(**{gate.counter: cap})
    stop = gates.budget_gate(spent, S)
    assert isinstance(stop, gates.Stop) and stop.reason is gate.reason
    assert isinstance(gates.budget_gate(gates.Spent(**{gate.counter: cap - 1}), S), gates.Continue)
    assert isinstance(gates.budget_gate(spent, S.model_copy(update={gate.cap: 0})), gates.Continue)


@pytest.mark.parametrize("gate", [g for g in gates.GATES if g.bump], ids=lambda g: g.name)
def test_events_bump_and_reset_only_their_counters(gate: gates.Gate) -> None:
    bump = next(iter(gate.bump))
    bumped = gates.count(Streaks(), bump, bump)
    assert getattr(bumped, gate.counter) == 2
    for event in gate.reset:
        assert getattr(gates.count(bumped, event), gate.counter) == 0
    others = {g.counter for g in gates.GATES if bump in g.bump}
    assert {k for k, v in bumped.model_dump().items() if v} == others


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ((gates.Event.CLAIM_REJECTED, gates.Event.CLAIM_REJECTED), 2),  # same workspace: the streak grows
        ((gates.Event.CLAIM_REJECTED, gates.Event.CLAIM_PROGRESSED, gates.Event.CLAIM_REJECTED), 1),  # new work
    ],
)
def test_false_completions_restart_when_the_claim_is_on_new_work(
    events: tuple[gates.Event, ...], expected: int
) -> None:
    assert gates.count(Streaks(), *events).false_completions == expected


@pytest.mark.parametrize(("event", "reason"), list(gates.STOPS_ON.items()))
def test_immediate_stops(event: gates.Event, reason: StopReason) -> None:
    assert gates.stop_on(event, "why") == gates.Stop(reason, "why")
