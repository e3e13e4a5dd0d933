"""Every stop and backoff of the loop, decided in one table: pure (counters, settings) -> Continue | Backoff | Stop."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum

from codex_self_iter.config import Settings
from codex_self_iter.outcome import StopReason
from codex_self_iter.state.runtime import RuntimeState, Streaks


@dataclass(frozen=True)
class Continue:
    """Go on to the next agent call."""


@dataclass(frozen=True)
class Backoff:
    """Sleep this long (STOP-aware) before the next agent call."""

    seconds: float
    reason: str


@dataclass(frozen=True)
class Replan:
    """Ask the planner for a new goal before giving up."""

    reason: str


@dataclass(frozen=True)
class Stop:
    """End the loop for a named reason."""

    reason: StopReason
    detail: str


Decision = Continue | Backoff | Replan | Stop


class Event(StrEnum):
    """What happened in a step; the table says which counters each event bumps or resets."""

    CALL_FAILED = "call_failed"  # no usable answer (exit, timeout)
    INVALID_OUTPUT = "invalid_output"  # an answer still without a valid control block after its repair
    USAGE_LIMITED = "usage_limited"
    ANSWERED = "answered"  # a valid control block came back
    PLANNER_STOPPED = "planner_stopped"
    PLANNED = "planned"
    UNCHANGED = "unchanged"  # the executor's turn left the workspace fingerprint as it was
    CHANGED = "changed"
    BLOCKED = "blocked"
    REPORTED = "reported"  # an executor report that is not 'blocked'
    GOAL_REPEATED = "goal_repeated"
    GOAL_NEW = "goal_new"
    CLAIMED = "claimed"
    REPLANNED = "replanned"
    CLAIM_REJECTED = "claim_rejected"
    CLAIM_PROGRESSED = "claim_progressed"  # a claim on a workspace that changed since the last rejected one
    # Events that stop the loop at once (STOPS_ON).
    SETUP_FAILED = "setup_failed"
    CANCELLED = "cancelled"
    BAD_INPUT = "bad_input"
    REPLAN_REPEATED = "replan_repeated"
    VERIFIED = "verified"
    TASKS_BLOCKED = "tasks_blocked"  # task queue: the tasks left are blocked
    AUDIT_GAPS_LEFT = "audit_gaps_left"  # task queue: gaps remain after max_followups rounds


class Kind(Enum):
    """When a gate is read and what reaching its cap does."""

    BUDGET = "budget"  # before every call; counter is a Spent field; a cap of 0 means no budget
    STREAK = "streak"  # after every iteration; counter is a Streaks field; below the cap it backs off
    REPLAN = "replan"  # after every iteration; at the cap it asks for a re-plan once, then stops
    WAIT = "wait"  # on a usage limit; the cap bounds the total wait


@dataclass(frozen=True)
class Gate:
    """One gate: its counter, its cap (a Settings key), its backoff and the stop it makes."""

    name: str
    kind: Kind
    counter: str
    cap: str
    reason: StopReason
    detail: str  # str.format fields: n (the counter), cap, and the gate's own extras
    bump: frozenset[Event] = frozenset()
    reset: frozenset[Event] = frozenset()
    backoff: str | None = None  # Settings key of the base wait; doubles per step, capped by backoff_max_sec
    label: str = ""  # why the loop waits, as printed and journalled
    switch: str | None = None  # Settings key of a bool that turns the gate off


def _on(*events: Event) -> frozenset[Event]:
    return frozenset(events)


E = Event
# THE GATE TABLE. To add a gate: add its counter (a Streaks field in state/runtime.py for "N in a row", or a
# Spent field below for a per-run budget, filled in loop/core.py), its cap key in config.Settings (plus
# config.example.toml and README), its StopReason and exit code in outcome.py, and one entry here naming the
# events (new ones go in Event) that bump and reset the counter. Steps report events with gates.count(); the
# loop needs no other change. A stop that needs no counter (it ends the loop the first time) is an Event in
# STOPS_ON, raised with gates.stop_on().
# tests/test_gates.py checks every entry (cap stops, below cap continues, events move the counter); add a row
# there for anything special. Order matters: the first gate at its cap wins; the longest backoff wins.
# fmt: off
GATES: tuple[Gate, ...] = (
    Gate("max_iterations", Kind.BUDGET, "iterations", "max_iterations", StopReason.MAX_ITERATIONS,
         "{n} of max_iterations={cap} done"),
    Gate("wall_clock", Kind.BUDGET, "seconds", "max_wall_clock_sec", StopReason.WALL_CLOCK,
         "ran {n:.0f}s of max_wall_clock_sec"),
    Gate("token_budget", Kind.BUDGET, "tokens", "max_total_tokens", StopReason.TOKEN_BUDGET,
         "{n} tokens used of max_total_tokens={cap}"),
    Gate("cost_budget", Kind.BUDGET, "cost_usd", "max_cost_usd", StopReason.COST_BUDGET,
         "${n:.2f} spent of max_cost_usd={cap:g}"),
    Gate("agent_failure", Kind.STREAK, "agent_failures", "max_agent_failures", StopReason.AGENT_FAILURE,
         "{n} failed agent calls in a row", bump=_on(E.CALL_FAILED), reset=_on(E.ANSWERED),
         backoff="backoff_base_sec", label="agent failure"),
    Gate("invalid_output", Kind.STREAK, "invalid_outputs", "max_invalid_outputs", StopReason.INVALID_OUTPUT,
         "{n} answers in a row without a valid control block, even after a repair attempt",
         bump=_on(E.INVALID_OUTPUT), reset=_on(E.ANSWERED), backoff="backoff_base_sec", label="invalid output"),
    Gate("blocked", Kind.STREAK, "blocked", "max_blocked", StopReason.AGENT_BLOCKED,
         "the agent reported 'blocked' {n} times in a row", bump=_on(E.BLOCKED), reset=_on(E.REPORTED),
         backoff="continue_false_backoff_sec", label="blocked"),
    Gate("planner_stop", Kind.STREAK, "planner_stops", "max_planner_stops", StopReason.PLANNER_STOP,
         "the planner said stop {n} times in a row", bump=_on(E.PLANNER_STOPPED), reset=_on(E.PLANNED),
         backoff="planner_stop_backoff_sec", label="planner"),
    Gate("false_completion", Kind.STREAK, "false_completions", "max_false_completions",
         StopReason.FALSE_COMPLETION, "{n} rejected completion claims in a row",
         bump=_on(E.CLAIM_REJECTED), reset=_on(E.CLAIM_PROGRESSED)),
    Gate("no_change", Kind.STREAK, "no_change", "max_no_change", StopReason.NO_CHANGE,
         "{n} executor turns in a row changed nothing", bump=_on(E.UNCHANGED), reset=_on(E.CHANGED),
         backoff="no_change_backoff_sec", label="no change", switch="no_change_gate"),
    Gate("stagnation", Kind.REPLAN, "stagnation", "max_stagnation", StopReason.STAGNATION,
         "the goal barely changed for {n} iterations", bump=_on(E.GOAL_REPEATED),
         reset=_on(E.GOAL_NEW, E.CLAIMED, E.REPLANNED)),
    Gate("usage_limit", Kind.WAIT, "usage_limits", "usage_limit_max_wait_sec", StopReason.USAGE_LIMIT,
         "usage limit: next try in {retry:.0f}s exceeds usage_limit_max_wait_sec={cap:g} "
         "(already waited {waited:.0f}s)", bump=_on(E.USAGE_LIMITED), reset=_on(E.ANSWERED), label="usage limit"),
)
# fmt: on

# Events that end the loop at once, whatever the counters say.
STOPS_ON: dict[Event, StopReason] = {
    Event.SETUP_FAILED: StopReason.AGENT_SETUP,
    Event.CANCELLED: StopReason.SIGNAL,
    Event.BAD_INPUT: StopReason.BAD_INPUT,
    Event.REPLAN_REPEATED: StopReason.STAGNATION,
    Event.VERIFIED: StopReason.COMPLETE,
    Event.TASKS_BLOCKED: StopReason.AGENT_BLOCKED,
    Event.AUDIT_GAPS_LEFT: StopReason.AUDIT_REJECTED,
}


@dataclass(frozen=True)
class Spent:
    """What this run has used so far: the counters of the BUDGET gates."""

    iterations: int = 0
    tokens: int = 0
    seconds: float = 0.0
    cost_usd: float = 0.0

    @classmethod
    def of_run(cls, state: RuntimeState, seconds: float) -> Spent:
        """What the run that state is in has used (a run resumed after a crash counts from the crashed run)."""
        return cls(
            iterations=state.iteration - state.run_first_iteration,
            tokens=state.totals.tokens - state.run_first_tokens,
            seconds=seconds,
            cost_usd=round(state.totals.cost_usd - state.run_first_cost_usd, 6),
        )


def last_iteration(state: RuntimeState, settings: Settings) -> int | None:
    """The iteration at which this run's max_iterations budget ends it, or None without one."""
    return state.run_first_iteration + settings.max_iterations if settings.max_iterations else None


def gate(name: str) -> Gate:
    """The table entry of that name."""
    return next(g for g in GATES if g.name == name)


def count(streaks: Streaks, *events: Event) -> Streaks:
    """The streaks after these events, in order: the one place the loop's counters change."""
    values = streaks.model_dump()
    for event in events:
        for g in GATES:
            if event in g.bump:
                values[g.counter] += 1
            elif event in g.reset:
                values[g.counter] = 0
    return Streaks.model_validate(values)


def stop_on(event: Event, detail: str) -> Stop:
    """The stop an immediate event makes."""
    return Stop(STOPS_ON[event], detail)


def stop_requested(request: tuple[StopReason, str]) -> Stop:
    """The stop a STOP file or a signal asked for (state/stop_request.py names the reason)."""
    return Stop(*request)


def backoff_seconds(base: float, cap: float, streak: int, jitter: float = 0.0, sample: float = 0.5) -> float:
    """min(cap, base * 2^(streak-1)), spread by +/- jitter (sample is a uniform 0..1 draw)."""
    if streak <= 0 or base <= 0:
        return 0.0
    raw = min(cap, base * 2.0 ** min(streak - 1, 60))
    return max(0.0, min(cap, raw * (1 + jitter * (2 * sample - 1))))


def _stop(g: Gate, n: float, settings: Settings, **extra: float) -> Stop:
    return Stop(g.reason, g.detail.format(n=n, cap=getattr(settings, g.cap), **extra))


def _on_switch(g: Gate, settings: Settings) -> bool:
    return g.switch is None or bool(getattr(settings, g.switch))


def budget_gate(spent: Spent, settings: Settings) -> Stop | Continue:
    """Before a call: stop when an iteration, wall-clock or other budget of this run is spent."""
    for g in GATES:
        if g.kind is Kind.BUDGET and _on_switch(g, settings):
            n, cap = getattr(spent, g.counter), getattr(settings, g.cap)
            if cap and n >= cap:
                return _stop(g, n, settings)
    return Continue()


def streak_gate(streaks: Streaks, settings: Settings, sample: float = 0.5) -> Decision:
    """After an iteration: stop when a streak reached its cap, else back off for the longest active streak."""
    active = [g for g in GATES if g.kind is Kind.STREAK and _on_switch(g, settings)]
    for g in active:
        n = getattr(streaks, g.counter)
        if n >= getattr(settings, g.cap):
            return _stop(g, n, settings)
    j, most = settings.backoff_jitter, settings.backoff_max_sec
    waits = [
        (backoff_seconds(getattr(settings, g.backoff), most, getattr(streaks, g.counter), j, sample), g.label)
        for g in active
        if g.backoff is not None
    ]
    seconds, why = max(waits, default=(0.0, ""))
    return Backoff(seconds, why) if seconds > 0 else Continue()


def stagnation_gate(streak: int, replanned: bool, settings: Settings) -> Replan | Stop | Continue:
    """Near-identical goals for max_stagnation iterations: re-plan once, then stop."""
    g = gate("stagnation")
    if streak < getattr(settings, g.cap):
        return Continue()
    if not replanned:
        return Replan(g.detail.format(n=streak))
    return Stop(g.reason, g.detail.format(n=streak) + ", even after a re-plan")


def usage_limit_gate(retry_in: float | None, waited: float, streak: int, settings: Settings) -> Backoff | Stop:
    """Wait out a usage limit until its stated reset (or exponentially), within usage_limit_max_wait_sec."""
    g = gate("usage_limit")
    if retry_in is None:
        retry_in = backoff_seconds(max(settings.backoff_base_sec, 60.0), max(settings.backoff_max_sec, 60.0), streak)
    # A stated time already past (or about to be) must not become a tight retry loop: wait at least the backoff.
    retry_in = max(retry_in, backoff_seconds(settings.backoff_base_sec, settings.backoff_max_sec, streak), 1.0)
    if waited + retry_in > getattr(settings, g.cap):
        return _stop(g, streak, settings, retry=retry_in, waited=waited)
    return Backoff(retry_in, g.label)
