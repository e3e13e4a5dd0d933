"""Is the work done? The project's own checks, and the success decision (a pure function)."""

from __future__ import annotations

from dataclasses import dataclass

from codex_self_iter.agent.control import ReviewerVerdict
from codex_self_iter.checks.report import excerpt_lines
from codex_self_iter.checks.run import CheckReport, CheckStatus, run_checks
from codex_self_iter.loop.context import LoopContext
from codex_self_iter.state.records import CheckExcerpt, CheckLine, ChecksRecord
from codex_self_iter.state.runtime import Baseline, RuntimeState

PROMPT_CHECK_CHARS = 4000


def run_project_checks(ctx: LoopContext, state: RuntimeState, iteration: int, label: str) -> CheckReport | None:
    """Run the configured checks (never commands from the agent), record them, remember the latest results."""
    if not ctx.checks:
        return None
    out_dir = ctx.layout.run_dir(iteration, label)
    ctx.reporter.info(f"#{iteration} running {len(ctx.checks)} check(s)")
    report = run_checks(ctx.checks, ctx.layout.workspace, out_dir, cancel=ctx.signals.cancelled)
    ctx.reporter.info(f"#{iteration} {report.summary()}")
    for result in report.not_passed:
        if result.status is not CheckStatus.CANCELLED:
            ctx.reporter.lines(excerpt_lines(result.name, result.excerpt()))
    record = checks_record(report, iteration)
    state.last_checks = record
    ctx.journal.record("checks", label=label, **record.model_dump(exclude={"prompt_text"}))
    return report


def checks_record(report: CheckReport, iteration: int) -> ChecksRecord:
    """What runtime.json and status.json keep of a check run."""
    return ChecksRecord(
        iteration=iteration,
        all_passed=report.all_passed,
        summary=report.summary(),
        prompt_text=report.summary_for_prompt(PROMPT_CHECK_CHARS),
        checks=[
            CheckLine(
                name=r.name,
                status=r.status,
                exit_code=r.exit_code,
                duration_sec=round(r.duration_sec, 3),
                excerpt=None if r.passed else CheckExcerpt.model_validate(r.excerpt()),
            )
            for r in report.results
        ],
    )


@dataclass(frozen=True)
class Verdict:
    """The loop's own decision on a completion claim."""

    success: bool
    reason: str


def decide_success(
    checks_passed: bool | None,
    review: ReviewerVerdict | None,
    reviewer_enabled: bool,
    baseline: Baseline | None,
    fingerprint_now: str,
) -> Verdict:
    """Success = claim (implied) + every check passes + the reviewer approves; green-and-unchanged needs a yes."""
    if checks_passed is False:
        return Verdict(False, "the project's checks fail")
    if reviewer_enabled and review is None:
        return Verdict(False, "no usable review")
    if review is not None and review.verdict != "approve":
        return Verdict(False, "the reviewer rejected the claim")
    unchanged = baseline is not None and baseline.fingerprint == fingerprint_now
    green_before = baseline is not None and baseline.checks_passed is not False
    if unchanged and green_before and (review is None or not review.no_change_needed):
        return Verdict(
            False, "nothing changed since the baseline and the reviewer did not confirm that nothing needed to change"
        )
    return Verdict(True, "checks pass and the reviewer approved" if review else "checks pass (reviewer off)")
