"""Gate decisions as pure functions: (counters, settings, now) -> Continue | Backoff | Replan | Stop."""

from __future__ import annotations

from dataclasses import dataclass

from codex_self_iter.config import Settings
from codex_self_iter.outcome import StopReason
from codex_self_iter.state.runtime import Streaks


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


def backoff_seconds(base: float, cap: float, streak: int, jitter: float = 0.0, sample: float = 0.5) -> float:
    """min(cap, base * 2^(streak-1)), spread by +/- jitter (sample is a uniform 0..1 draw)."""
    if streak <= 0 or base <= 0:
        return 0.0
    raw = min(cap, base * 2.0 ** min(streak - 1, 60))
    return max(0.0, min(cap, raw * (1 + jitter * (2 * sample - 1))))


def budget_gate(iteration: int, tokens: int, started_at: float, now: float, settings: Settings) -> Stop | Continue:
    """Stop when an iteration, wall-clock or token budget is spent."""
    if settings.max_iterations and iteration >= settings.max_iterations:
        return Stop(StopReason.MAX_ITERATIONS, f"{iteration} of max_iterations={settings.max_iterations} done")
    if settings.max_wall_clock_sec and now - started_at >= settings.max_wall_clock_sec:
        return Stop(StopReason.WALL_CLOCK, f"ran {now - started_at:.0f}s of max_wall_clock_sec")
    if settings.max_total_tokens and tokens >= settings.max_total_tokens:
        return Stop(StopReason.TOKEN_BUDGET, f"{tokens} tokens used of max_total_tokens={settings.max_total_tokens}")
    return Continue()


def streak_gate(streaks: Streaks, settings: Settings, sample: float = 0.5) -> Decision:
    """After an iteration: stop when a streak reached its cap, else back off for the longest active streak."""
    s, j = settings, settings.backoff_jitter
    if streaks.agent_failures >= s.max_agent_failures:
        return Stop(StopReason.AGENT_FAILURE, f"{streaks.agent_failures} failed agent calls in a row")
    if streaks.blocked >= s.max_blocked:
        return Stop(StopReason.AGENT_BLOCKED, f"the agent reported 'blocked' {streaks.blocked} times in a row")
    if streaks.planner_stops >= s.max_planner_stops:
        return Stop(StopReason.PLANNER_STOP, f"the planner said stop {streaks.planner_stops} times in a row")
    if streaks.false_completions >= s.max_false_completions:
        return Stop(StopReason.FALSE_COMPLETION, f"{streaks.false_completions} rejected completion claims in a row")
    if s.no_change_gate and streaks.no_change >= s.max_no_change:
        return Stop(StopReason.NO_CHANGE, f"{streaks.no_change} executor turns in a row changed nothing")
    waits = [
        (backoff_seconds(s.backoff_base_sec, s.backoff_max_sec, streaks.agent_failures, j, sample), "agent failure"),
        (backoff_seconds(s.continue_false_backoff_sec, s.backoff_max_sec, streaks.blocked, j, sample), "blocked"),
        (backoff_seconds(s.planner_stop_backoff_sec, s.backoff_max_sec, streaks.planner_stops, j, sample), "planner"),
        (backoff_seconds(s.no_change_backoff_sec, s.backoff_max_sec, streaks.no_change, j, sample), "no change"),
    ]
    if not s.no_change_gate:
        waits.pop()
    seconds, why = max(waits)
    return Backoff(seconds, why) if seconds > 0 else Continue()


def stagnation_gate(streak: int, replanned: bool, settings: Settings) -> Replan | Stop | Continue:
    """Near-identical goals for max_stagnation iterations: re-plan once, then stop."""
    if streak < settings.max_stagnation:
        return Continue()
    if not replanned:
        return Replan(f"the goal barely changed for {streak} iterations")
    return Stop(StopReason.STAGNATION, f"the goal barely changed for {streak} iterations, even after a re-plan")


def usage_limit_gate(retry_in: float | None, waited: float, streak: int, settings: Settings) -> Backoff | Stop:
    """Wait out a usage limit until its stated reset (or exponentially), within usage_limit_max_wait_sec."""
    if retry_in is None:
        retry_in = backoff_seconds(max(settings.backoff_base_sec, 60.0), max(settings.backoff_max_sec, 60.0), streak)
    retry_in = max(retry_in, 1.0)
    if waited + retry_in > settings.usage_limit_max_wait_sec:
        return Stop(
            StopReason.USAGE_LIMIT,
            f"usage limit: next try in {retry_in:.0f}s exceeds usage_limit_max_wait_sec="
            f"{settings.usage_limit_max_wait_sec:g} (already waited {waited:.0f}s)",
        )
    return Backoff(retry_in, "usage limit")
