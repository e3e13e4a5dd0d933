"""Writing the status.json snapshot (state/snapshot.py is its model): what the loop is doing right now."""

from __future__ import annotations

import os
import time

from codex_self_iter import __version__
from codex_self_iter.loop.context import LoopContext
from codex_self_iter.loop.gates import last_iteration
from codex_self_iter.outcome import StopReason
from codex_self_iter.state.fsio import atomic_write_json
from codex_self_iter.state.runtime import RuntimeState
from codex_self_iter.state.snapshot import Phase, PlanProgress, StatusSnapshot, StatusTotals
from codex_self_iter.workspace.inputs import read_plan_progress


def write_status(
    ctx: LoopContext,
    state: RuntimeState,
    phase: Phase,
    role: str | None = None,
    exit_code: int | None = None,
    detail: str = "",
    agent_pid: int | None = None,
    call_iteration: int | None = None,
) -> None:
    """Write the snapshot of this phase."""
    now = ctx.deps.clock()
    snapshot = StatusSnapshot(
        version=__version__,
        state=phase,
        pid=os.getpid(),
        agent_pid=agent_pid,
        role=role,
        call_iteration=call_iteration,
        call_started_at=now if agent_pid is not None else None,
        iteration=state.iteration,
        last_iteration=last_iteration(state, ctx.settings),
        plan=PlanProgress(done=plan[0], total=plan[1]) if (plan := read_plan_progress(ctx.layout)) else None,
        task=state.task,
        goal=state.goal,
        goal_history=state.goal_history[-10:],
        streaks=state.streaks,
        backoff_until=state.backoff_until or None,
        backoff_reason=state.backoff_reason or None,
        totals=StatusTotals.model_validate(state.totals.model_dump()),
        model=ctx.model,
        cost_usd=round(state.totals.cost_usd, 6) if ctx.price is not None else None,
        baseline=state.baseline,
        last_checks=state.last_checks,
        last_review=state.last_review,
        last_summary=state.last_summary,
        stop_reason=StopReason(state.stop_reason) if state.stop_reason else None,
        stop_detail=detail or None,
        exit_code=exit_code,
        started_at=ctx.started_at,
        updated_at=now,
        elapsed_sec=round(now - ctx.started_at, 3),
        workspace=str(ctx.layout.workspace),
        state_dir=str(ctx.layout.state_dir),
        runner=ctx.runner.name,
        agent=ctx.runner.status_fields(),
        bypass_sandbox=ctx.bypass,
        checks=[" ".join(spec.argv) for spec in ctx.checks],
        checks_source=ctx.checks_source,
        config_file=str(ctx.config_path) if ctx.config_path else None,
        written_at=time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(now)),
    )
    atomic_write_json(ctx.layout.status_file, snapshot.to_json())
