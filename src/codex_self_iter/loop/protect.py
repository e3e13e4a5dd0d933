"""The protected-tests guard in the loop: snapshot at the baseline, judge every claim, tell the reviewer."""

from __future__ import annotations

from codex_self_iter.checks.protected import ProtectedSnapshot, Tampering, describe, find_tampering
from codex_self_iter.loop.context import LoopContext

PROMPT_CHANGES = 40


def record_snapshot(ctx: LoopContext, fresh_baseline: bool) -> None:
    """Take the snapshot with a new baseline; a resumed run reads the one its baseline took."""
    path = ctx.layout.protected_file
    keep = fresh_baseline and ctx.state_lost  # runtime.json deleted: a new baseline, not a new snapshot
    ctx.state_lost = False
    snapshot = None if fresh_baseline and not keep else ProtectedSnapshot.load(path)
    if keep and snapshot is not None:
        ctx.journal.record("protected_kept", files=len(snapshot.files), reason="runtime.json was missing")
        ctx.reporter.warn(
            f"{ctx.layout.runtime_file} is missing: the episode starts over, but the tests stay protected as "
            "the earlier snapshot recorded them; `run --fresh` protects them as they are now"
        )
    if snapshot is None:
        if not fresh_baseline:
            ctx.reporter.warn(f"{path} is missing or unreadable; protecting the test files as they are now")
        snapshot = ProtectedSnapshot.take(
            ctx.layout.workspace, ctx.checks, ctx.settings.protected_paths, ctx.state_exclude
        )
        snapshot.save(path)
        ctx.journal.record("protected", files=len(snapshot.files), tests=snapshot.tests, globs=snapshot.globs)
    ctx.protected = snapshot
    if ctx.settings.allow_test_changes:
        ctx.journal.record("allow_test_changes", enabled=True)
        ctx.reporter.warn(
            "allow_test_changes = true: claims that delete, skip or weaken tests or narrow the checks are NOT rejected"
        )


def tampering_rejection(ctx: LoopContext, iteration: int) -> str | None:
    """Why a claim must be rejected for weakened tests, or None (allow_test_changes only warns and records)."""
    if ctx.protected is None:
        return None
    found = find_tampering(ctx.protected, ctx.layout.workspace)
    if not found:
        return None
    lines = [str(item) for item in found]
    if ctx.settings.allow_test_changes:
        ctx.journal.record("tampering_allowed", iteration=iteration, changes=lines)
        ctx.reporter.warn(f"#{iteration} allow_test_changes = true: accepting weakened tests: {'; '.join(lines)}")
        return None
    ctx.journal.record("tampering", iteration=iteration, changes=lines)
    return "protected tests were weakened since the baseline: " + "; ".join(lines)


def rejection_goal(reason: str) -> str:
    """The next executor goal after a tampering rejection."""
    return (
        f"The completion claim was rejected because {reason}. Restore those tests and the checks' configuration"
        " (the task must be met with the original tests, not weaker ones), then finish the work and claim again."
    )


def changes_for_reviewer(ctx: LoopContext) -> str:
    """The "protected files changed" section of the reviewer's prompt."""
    if ctx.protected is None:
        return "(no protected-tests snapshot was recorded)"
    changes: list[Tampering] = find_tampering(ctx.protected, ctx.layout.workspace, include_harmless=True)
    if not changes:
        return "(none: no test file, check configuration or protected path changed since the baseline)"
    shown = describe(changes[:PROMPT_CHANGES])
    more = f"\n- ... and {len(changes) - PROMPT_CHANGES} more" if len(changes) > PROMPT_CHANGES else ""
    return shown + more
