"""The status.json snapshot: what the loop is doing right now, for `status` and for people."""

from __future__ import annotations

import os
import time
from typing import Any

from codex_self_iter import __version__
from codex_self_iter.loop.context import LoopContext
from codex_self_iter.state.fsio import atomic_write_json
from codex_self_iter.state.runtime import RuntimeState

STATUS_SCHEMA_VERSION = 1


def write_status(
    ctx: LoopContext,
    state: RuntimeState,
    phase: str,
    role: str | None = None,
    exit_code: int | None = None,
    detail: str = "",
    agent_pid: int | None = None,
    call_iteration: int | None = None,
) -> None:
    """Write the snapshot; phase is starting | running | backing_off | stopped | complete | crashed."""
    now = ctx.deps.clock()
    snapshot: dict[str, Any] = {
        "schema": STATUS_SCHEMA_VERSION,
        "version": __version__,
        "state": phase,
        "pid": os.getpid(),
        "agent_pid": agent_pid,
        "role": role,
        "call_iteration": call_iteration,
        "call_started_at": now if agent_pid is not None else None,
        "iteration": state.iteration,
        "task": state.task,
        "goal": state.goal,
        "goal_history": state.goal_history[-10:],
        "streaks": state.streaks.model_dump(),
        "backoff_until": state.backoff_until or None,
        "backoff_reason": state.backoff_reason or None,
        "totals": {**state.totals.model_dump(), "tokens": state.totals.tokens},
        "baseline": state.baseline.model_dump() if state.baseline else None,
        "last_checks": state.last_checks,
        "last_review": state.last_review,
        "last_summary": state.last_summary,
        "stop_reason": state.stop_reason,
        "stop_detail": detail or None,
        "exit_code": exit_code,
        "started_at": ctx.started_at,
        "updated_at": now,
        "elapsed_sec": round(now - ctx.started_at, 3),
        "workspace": str(ctx.layout.workspace),
        "state_dir": str(ctx.layout.state_dir),
        "runner": ctx.runner.name,
        "agent": ctx.runner.status_fields(),
        "bypass_sandbox": ctx.bypass,
        "checks": [" ".join(spec.argv) for spec in ctx.checks],
        "checks_source": ctx.checks_source,
        "config_file": str(ctx.config_path) if ctx.config_path else None,
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(now)),
    }
    atomic_write_json(ctx.layout.status_file, snapshot)
