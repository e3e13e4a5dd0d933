"""The end of a run: one line naming the stop reason, then the evidence and what to do next."""

from __future__ import annotations

from typing import TextIO

from codex_self_iter.loop.context import LoopContext
from codex_self_iter.loop.core import LoopResult
from codex_self_iter.loop.reporter import cost_text, human_duration
from codex_self_iter.options import ADD_CHECK_HINT
from codex_self_iter.outcome import StopReason
from codex_self_iter.state.runtime import Baseline, RuntimeState
from codex_self_iter.state.stop_request import stop_file_present
from codex_self_iter.text import say
from codex_self_iter.workspace.diffs import changed_files
from codex_self_iter.workspace.handoff import handoff_lines

NEXT_STEPS: dict[StopReason, str] = {
    StopReason.COMPLETE: "review the changes (git diff) and commit them",
    StopReason.STOP_FILE: "remove the STOP file (or `run --clear-stop`) to continue from here",
    StopReason.SIGNAL: "`run` continues from here (with --clear-stop if a STOP file was left)",
    StopReason.INTERRUPTED: "`run` continues from here",
    StopReason.AGENT_SETUP: "fix the agent setup named above (`codex-self-iter doctor` helps), then `run`",
    StopReason.BAD_INPUT: "fix the input named above, then `run` continues from here",
}
DEFAULT_NEXT = "see `codex-self-iter history`; edit plan.md or the config if needed, then `run` continues"


def print_summary(ctx: LoopContext, state: RuntimeState, result: LoopResult, out: TextIO) -> None:
    """Print the stop line (always) and the details (unless quiet)."""
    base = state.baseline or Baseline()
    files = changed_files(ctx.layout.workspace, base.head, ctx.state_exclude, base.preexisting)
    totals = state.totals
    files_text = "?" if files is None else str(files)
    known = totals.cost_usd if ctx.price is not None else None
    cost = f" · cost: {cost_text(known, ctx.model)}" if ctx.model else ""
    wall = human_duration(max(0.0, ctx.deps.clock() - ctx.started_at)) if ctx.started_at else "?"
    say(
        f"codex-self-iter: stopped: {result.reason.value} (exit {result.exit_code}) — {result.detail}\n"
        f"  iterations: {state.iteration} · agent calls: {totals.agent_calls} · agent time: "
        f"{human_duration(totals.agent_seconds)} · run time: {wall} · files changed: {files_text} · "
        f"tokens: {totals.tokens:,}{cost}",
        file=out,
    )
    if ctx.settings.quiet:
        return
    checks = state.last_checks
    if checks:
        say(f"  checks: {checks.summary} (iteration {checks.iteration})", file=out)
    elif ctx.checks:
        say(f"  checks: {ctx.checks_source}", file=out)
    else:
        say(f"  checks: NONE ({ctx.checks_source}) — nothing verified the work; {ADD_CHECK_HINT}", file=out)
    if ctx.settings.allow_test_changes:
        say("  protected tests: allow_test_changes = true — weakened tests were NOT rejected", file=out)
    review = state.last_review
    if review:
        reasons = "; ".join(review.reasons)[:300]
        say(f"  review: {review.verdict} at iteration {review.iteration}: {reasons}", file=out)
    for goal in state.goal_history[-3:]:
        say(f"  goal: {' '.join(goal.split())[:160]}", file=out)
    say(f"  artifacts: {ctx.layout.state_dir} (status.json, logs/iterations.jsonl, runs/, prompts/)", file=out)
    if ctx.checkpoints is not None:
        for line in handoff_lines(ctx.checkpoints.run):
            say(f"  {line}", file=out)
    say(f"  next: {_next_step(ctx, result.reason)}", file=out)


def _next_step(ctx: LoopContext, reason: StopReason) -> str:
    text = _plain_next_step(ctx, reason)
    # A worktree run is continued by `run --worktree`: a bare `run` would work in the user's own tree.
    return text.replace("`run", "`run --worktree") if ctx.checkpoints is not None else text


def _plain_next_step(ctx: LoopContext, reason: StopReason) -> str:
    stop = stop_file_present(ctx.signals.stop_files)
    if stop is not None and reason is not StopReason.STOP_FILE:
        return f"{stop} is present: remove it (or `run --clear-stop`) before the next run"
    if reason is StopReason.COMPLETE and ctx.checkpoints is not None:
        return "review the branch (`codex-self-iter diff`), then `codex-self-iter merge`"
    return NEXT_STEPS.get(reason, DEFAULT_NEXT)
