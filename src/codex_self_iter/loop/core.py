"""The loop: re-read the inputs, plan when needed, execute, judge claims, apply the gates; save after every step."""

from __future__ import annotations

from dataclasses import dataclass

from codex_self_iter.agent.kinds import Role
from codex_self_iter.errors import UserError
from codex_self_iter.loop import gates
from codex_self_iter.loop.config_pin import ConfigGuard
from codex_self_iter.loop.context import LoopContext
from codex_self_iter.loop.hooks import run_hook
from codex_self_iter.loop.next_call import next_call
from codex_self_iter.loop.steps import execute, plan
from codex_self_iter.options import DEFAULT_CONFIG_NAME
from codex_self_iter.outcome import StopReason, exit_code_for
from codex_self_iter.state.retention import prune
from codex_self_iter.state.runtime import RuntimeState, save_runtime
from codex_self_iter.state.snapshot import Phase
from codex_self_iter.state.status import write_status
from codex_self_iter.state.stop_request import stop_aware_sleep
from codex_self_iter.workspace.inputs import read_inputs


@dataclass(frozen=True)
class LoopResult:
    """How the run ended."""

    reason: StopReason
    detail: str
    exit_code: int


def run_loop(ctx: LoopContext, state: RuntimeState) -> LoopResult:
    """Iterate until a gate, a budget, the user or a verified success stops the loop."""
    stop: gates.Stop | None = None
    crashed = True
    watched = ctx.config_path or ctx.layout.workspace / DEFAULT_CONFIG_NAME
    guard = ConfigGuard.start(watched, ctx.checks, ctx.layout.config_record)
    try:
        while stop is None:
            guard.watch(ctx.journal, ctx.reporter, state.iteration)
            stop = before_call(ctx, state)
            if stop is not None:
                break
            if state.backoff_until > ctx.deps.clock():
                stop = wait_out_backoff(ctx, state)
                continue
            done_before = state.iteration
            decision = _iterate(ctx, state)
            stop = _apply(ctx, state, decision)
            if state.iteration > done_before:
                run_hook(ctx, state, "on_iteration")
            prune(ctx.layout, ctx.settings.keep_runs)
        crashed = False
    except UserError as exc:
        stop, crashed = gates.stop_on(gates.Event.BAD_INPUT, str(exc)), False
    finally:
        if crashed:
            # A bug, not a stop: keep clean_exit False so the next run resumes exactly where this one was.
            save_runtime(ctx.layout.runtime_file, state)
            write_status(ctx, state, Phase.CRASHED)
    assert stop is not None
    guard.watch(ctx.journal, ctx.reporter, state.iteration)
    return finish(ctx, state, stop)


def _iterate(ctx: LoopContext, state: RuntimeState) -> gates.Decision:
    inputs = read_inputs(ctx.layout)
    iteration = state.iteration + 1
    upcoming = next_call(ctx.settings, state, inputs, iteration)
    if upcoming.task_changed:
        ctx.journal.record("task_changed", iteration=iteration)
        state.goal = None
    state.task_hash, state.replan_reason = inputs.task_hash, upcoming.replan_reason
    if upcoming.role is Role.PLANNER:
        stuck = state.replanned_for_stagnation and state.replan_reason is not None
        decision = plan(ctx, state, iteration, inputs, upcoming.reason, stuck)
        _save(ctx, state, Phase.RUNNING)
        if not isinstance(decision, gates.Continue) or state.goal is None or state.replan_reason:
            return decision
        spent = _budget_stop(ctx, state)  # the planner's call may have spent the tokens or dollars left
        if spent is not None:
            return spent
    return execute(ctx, state, iteration, inputs)


def _apply(ctx: LoopContext, state: RuntimeState, decision: gates.Decision) -> gates.Stop | None:
    if isinstance(decision, gates.Stop):
        return decision
    if isinstance(decision, gates.Backoff):
        return _schedule(ctx, state, decision)
    stagnation = gates.stagnation_gate(state.streaks.stagnation, state.replanned_for_stagnation, ctx.settings)
    if isinstance(stagnation, gates.Stop):
        return stagnation
    if isinstance(stagnation, gates.Replan):
        ctx.journal.record("decision", iteration=state.iteration, kind="replan", reason=stagnation.reason)
        ctx.reporter.info(f"stagnation: {stagnation.reason}; asking the planner for a new goal")
        state.replan_reason, state.replanned_for_stagnation = stagnation.reason, True
        state.streaks = gates.count(state.streaks, gates.Event.REPLANNED)
    streak = gates.streak_gate(state.streaks, ctx.settings, ctx.deps.random())
    if isinstance(streak, gates.Stop):
        return streak
    if isinstance(streak, gates.Backoff):
        return _schedule(ctx, state, streak)
    _save(ctx, state, Phase.RUNNING)
    return None


def _schedule(ctx: LoopContext, state: RuntimeState, backoff: gates.Backoff) -> gates.Stop | None:
    budget = _budget_stop(ctx, state)
    if budget is not None:
        return budget  # no wait (nor a line announcing one) right before a budget ends the run anyway
    state.backoff_until = ctx.deps.clock() + backoff.seconds
    state.backoff_reason = backoff.reason
    if backoff.reason == "usage limit":
        state.usage_wait_total_sec += backoff.seconds
    ctx.journal.record(
        "decision", iteration=state.iteration, kind="backoff", seconds=round(backoff.seconds, 3), reason=backoff.reason
    )
    ctx.reporter.info(f"backing off {backoff.seconds:.1f}s ({backoff.reason})")
    _save(ctx, state, Phase.BACKING_OFF)
    return None


def before_call(ctx: LoopContext, state: RuntimeState) -> gates.Stop | None:
    """A stop the user asked for, or a spent budget: checked before every agent call."""
    pending = ctx.signals.pending()
    if pending is not None:
        return gates.stop_requested(pending)
    return _budget_stop(ctx, state)


def _budget_stop(ctx: LoopContext, state: RuntimeState) -> gates.Stop | None:
    spent = gates.Spent.of_run(state, ctx.deps.clock() - ctx.started_at)
    budget = gates.budget_gate(spent, ctx.settings)
    return budget if isinstance(budget, gates.Stop) else None


def wait_out_backoff(ctx: LoopContext, state: RuntimeState) -> gates.Stop | None:
    """Sleep until the saved backoff ends (at once if it has), unless a stop request comes first."""
    seconds = state.backoff_until - ctx.deps.clock()
    if seconds <= 0:
        return None
    _save(ctx, state, Phase.BACKING_OFF)
    interrupted = stop_aware_sleep(seconds, ctx.signals, ctx.deps.sleep, ctx.deps.clock)
    if interrupted is not None:
        return gates.stop_requested(interrupted)
    state.backoff_until, state.backoff_reason = 0.0, ""
    return None


def _save(ctx: LoopContext, state: RuntimeState, phase: Phase) -> None:
    save_runtime(ctx.layout.runtime_file, state)
    write_status(ctx, state, phase)
    if ctx.checkpoints is not None:
        ctx.checkpoints.remember(state.iteration, state.model_dump(mode="json"))


def finish(ctx: LoopContext, state: RuntimeState, stop: gates.Stop) -> LoopResult:
    """Record how the run ended: runtime.json, then status.json, then the journal's stop line."""
    state.stop_reason = stop.reason
    state.clean_exit = True
    code = exit_code_for(stop.reason)
    # The snapshot first: if the disk is full, status.json must not keep saying "running".
    save_runtime(ctx.layout.runtime_file, state)
    phase = Phase.COMPLETE if stop.reason is StopReason.COMPLETE else Phase.STOPPED
    write_status(ctx, state, phase, exit_code=code, detail=stop.detail)
    ctx.journal.record("stop", iteration=state.iteration, reason=stop.reason.value, detail=stop.detail, exit_code=code)
    if stop.reason is StopReason.COMPLETE:
        run_hook(ctx, state, "on_complete", stop.reason, stop.detail)
    run_hook(ctx, state, "on_stop", stop.reason, stop.detail)
    return LoopResult(stop.reason, stop.detail, code)
