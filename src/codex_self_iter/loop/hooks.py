"""Lifecycle hooks: the user's commands run after an iteration, on completion and when a run ends.

Each hook is an argv list (no shell) run in the workspace with the outcome in CODEX_SELF_ITER_* environment
variables, bounded by hooks.timeout_sec, its output kept under runs/NNNNN/hooks/. A hook that fails, times out
or cannot start is a warning and a journal line, never the end of the loop.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping

from codex_self_iter.loop.context import LoopContext
from codex_self_iter.outcome import StopReason, exit_code_for
from codex_self_iter.proc.process import run_process
from codex_self_iter.state.runtime import RuntimeState

ENV_PREFIX = "CODEX_SELF_ITER_"
HOOK_OUTPUT_BYTES = 256 * 1024


def run_hook(
    ctx: LoopContext, state: RuntimeState, event: str, reason: StopReason | None = None, detail: str = ""
) -> None:
    """Run the hook configured for event ('on_iteration', 'on_complete' or 'on_stop'), if any."""
    argv: list[str] = getattr(ctx.settings.hooks, event)
    if not argv:
        return
    env = {**os.environ, **hook_env(ctx, state, event, reason, detail)}
    out_dir = ctx.layout.run_dir(state.iteration, "hooks")
    try:
        done = run_process(
            argv,
            cwd=ctx.layout.workspace,
            stdout_path=out_dir / f"{event}-stdout.log",
            stderr_path=out_dir / f"{event}-stderr.log",
            timeout_sec=ctx.settings.hooks.timeout_sec,
            env=env,
            max_output_bytes=HOOK_OUTPUT_BYTES,
        )
    except OSError as exc:  # e.g. the state dir cannot take the log: the loop goes on
        ctx.reporter.warn(f"hook {event} could not run ({exc}); the loop goes on")
        ctx.journal.record("hook", iteration=state.iteration, hook=event, argv=argv, error=str(exc))
        return
    failed = done.start_error or done.timed_out or done.exit_code != 0
    ctx.journal.record(
        "hook",
        iteration=state.iteration,
        hook=event,
        argv=argv,
        exit_code=done.exit_code,
        timed_out=done.timed_out,
        duration_sec=round(done.duration_sec, 3),
        error=done.start_error or None,
    )
    if failed:
        why = done.start_error or (
            f"timed out after {ctx.settings.hooks.timeout_sec:g}s" if done.timed_out else f"exit {done.exit_code}"
        )
        ctx.reporter.warn(f"hook {event} failed ({why}); its output: {done.stderr_path}; the loop goes on")


def hook_env(
    ctx: LoopContext, state: RuntimeState, event: str, reason: StopReason | None, detail: str
) -> Mapping[str, str]:
    """The outcome a hook sees: CODEX_SELF_ITER_EVENT, REASON, EXIT_CODE, ITERATION, TOKENS, COST_USD, BRANCH, …"""
    cost = state.totals.cost_usd - state.run_first_cost_usd if ctx.price is not None else None
    values = {
        "EVENT": event,
        "REASON": reason.value if reason else "",
        "EXIT_CODE": str(exit_code_for(reason)) if reason else "",
        "DETAIL": detail,
        "ITERATION": str(state.iteration),
        "GOAL": state.goal or "",
        "TOKENS": str(state.totals.tokens - state.run_first_tokens),
        "COST_USD": "" if cost is None else f"{cost:.4f}",
        "BRANCH": _branch(ctx),
        "WORKSPACE": str(ctx.layout.workspace),
        "STATE_DIR": str(ctx.layout.state_dir),
    }
    return {ENV_PREFIX + key: value for key, value in values.items()}


def _branch(ctx: LoopContext) -> str:
    if ctx.checkpoints is not None:
        return ctx.checkpoints.run.branch
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--abbrev-ref", "HEAD"],
            cwd=ctx.layout.workspace,
            capture_output=True,
            text=True,
            timeout=10,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""
