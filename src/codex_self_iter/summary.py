"""The end of a run: one line naming the stop reason, then the evidence."""

from __future__ import annotations

from typing import TextIO

from codex_self_iter.context import LoopContext
from codex_self_iter.diffs import changed_files
from codex_self_iter.loop import LoopResult
from codex_self_iter.runtime import RuntimeState


def print_summary(ctx: LoopContext, state: RuntimeState, result: LoopResult, out: TextIO) -> None:
    """Print the stop line (always) and the details (unless quiet)."""
    base = state.baseline.head if state.baseline else None
    files = changed_files(ctx.layout.workspace, base, ctx.state_exclude)
    totals = state.totals
    files_text = "?" if files is None else str(files)
    print(
        f"codex-self-iter: stopped: {result.reason.value} (exit {result.exit_code}) — {result.detail}\n"
        f"  iterations: {state.iteration} · agent calls: {totals.agent_calls} · agent time: "
        f"{totals.agent_seconds:.1f}s · files changed: {files_text} · tokens: {totals.tokens}",
        file=out,
    )
    if ctx.settings.quiet:
        return
    checks = state.last_checks
    if checks:
        print(f"  checks: {checks.get('summary')} (iteration {checks.get('iteration')})", file=out)
    else:
        print(f"  checks: {ctx.checks_source}", file=out)
    review = state.last_review
    if review:
        reasons = "; ".join(str(r) for r in review.get("reasons", []))[:300]
        print(f"  review: {review.get('verdict')} at iteration {review.get('iteration')}: {reasons}", file=out)
    for goal in state.goal_history[-3:]:
        print(f"  goal: {' '.join(goal.split())[:160]}", file=out)
    print(f"  artifacts: {ctx.layout.state_dir} (status.json, logs/iterations.jsonl, runs/, prompts/)", file=out)
