"""The steps of one iteration: plan (when needed), execute, and judge a completion claim."""

from __future__ import annotations

from codex_self_iter.agent.control import ExecutorReport, PlannerResult, ReviewerVerdict
from codex_self_iter.agent.kinds import FailureKind, Role
from codex_self_iter.checks.report import CheckReport
from codex_self_iter.loop import gates
from codex_self_iter.loop.calls import call_role
from codex_self_iter.loop.context import LoopContext
from codex_self_iter.loop.gates import Event
from codex_self_iter.loop.goals import is_near_duplicate
from codex_self_iter.loop.ledger import INVALID_OUTPUT, CallOutcome
from codex_self_iter.loop.protect import rejection_goal, tampering_rejection
from codex_self_iter.loop.success import decide_success, run_project_checks
from codex_self_iter.prompts.roles import executor_prompt, planner_prompt, reviewer_prompt
from codex_self_iter.state.fsio import atomic_write_text
from codex_self_iter.state.records import ReviewRecord
from codex_self_iter.state.runtime import Baseline, RuntimeState
from codex_self_iter.workspace.diffs import diff_since
from codex_self_iter.workspace.fingerprint import take_fingerprint
from codex_self_iter.workspace.inputs import Inputs

DIFF_FILE_CHARS = 2_000_000


def failure_decision(ctx: LoopContext, state: RuntimeState, outcome: CallOutcome) -> gates.Decision:
    """Count a failed call against the right streak; usage limits and setup errors have their own paths."""
    result = outcome.result
    if result.cancelled:
        pending = ctx.signals.pending()
        if pending is not None:
            return gates.stop_requested(pending)
        return gates.stop_on(Event.CANCELLED, "the agent call was cancelled")
    if outcome.failure is FailureKind.FATAL:
        return gates.stop_on(Event.SETUP_FAILED, outcome.error or "the agent cannot run")
    if outcome.failure is FailureKind.USAGE_LIMIT:
        state.streaks = gates.count(state.streaks, Event.USAGE_LIMITED)
        retry_in = result.retry_at - ctx.deps.clock() if result.retry_at else None
        return gates.usage_limit_gate(retry_in, state.usage_wait_total_sec, state.streaks.usage_limits, ctx.settings)
    invalid = outcome.failure == INVALID_OUTPUT
    state.streaks = gates.count(state.streaks, Event.INVALID_OUTPUT if invalid else Event.CALL_FAILED)
    ctx.reporter.warn(f"agent call failed ({outcome.failure}): {outcome.error}")
    return gates.Continue()


def plan(
    ctx: LoopContext, state: RuntimeState, iteration: int, inputs: Inputs, reason: str, stuck: bool
) -> gates.Decision:
    """Ask the planner for the next goal (stuck: a re-plan after stagnation, which must yield a new goal)."""
    outcome = call_role(ctx, state, iteration, Role.PLANNER, planner_prompt(ctx, state, inputs, reason))
    if not isinstance(outcome.block, PlannerResult):
        return failure_decision(ctx, state, outcome)
    result = outcome.block
    if result.stop:
        state.streaks = gates.count(state.streaks, Event.ANSWERED, Event.PLANNER_STOPPED)
        ctx.reporter.info(f"#{iteration} planner says stop: {result.summary}")
        return gates.Continue()
    state.streaks = gates.count(state.streaks, Event.ANSWERED, Event.PLANNED)
    state.replan_reason = None
    if stuck and any(
        is_near_duplicate(result.next_goal, g, ctx.settings.goal_similarity) for g in state.goal_history[-3:]
    ):
        return gates.stop_on(Event.REPLAN_REPEATED, "the re-plan produced the same goal again")
    state.set_goal(result.next_goal)
    state.last_summary = result.summary
    return gates.Continue()


def execute(ctx: LoopContext, state: RuntimeState, iteration: int, inputs: Inputs) -> gates.Decision:
    """The executor's turn, then the no-change, blocked, stagnation and claim logic."""
    exclude = ctx.state_exclude
    before = take_fingerprint(ctx.layout.workspace, exclude)
    prompt = executor_prompt(ctx, state, inputs)
    outcome = call_role(ctx, state, iteration, Role.EXECUTOR, prompt, before.digest)
    state.iteration = iteration
    if not isinstance(outcome.block, ExecutorReport):
        return failure_decision(ctx, state, outcome)
    report = outcome.block
    state.last_summary = report.summary
    after = take_fingerprint(ctx.layout.workspace, exclude)
    state.last_fingerprint = after.digest
    changed = Event.CHANGED if after.digest != (outcome.before or before.digest) else Event.UNCHANGED
    state.streaks = gates.count(state.streaks, Event.ANSWERED, changed)
    pending = ctx.checkpoints is not None and (changed is Event.CHANGED or after.dirty > 0)
    checks = None
    if ctx.settings.checks_every_iteration and report.status != "complete":
        checks = run_project_checks(ctx, state, iteration, "checks")
    if pending and report.status != "complete":
        checkpoint(ctx, state, iteration, report, checks)
    if report.status == "blocked":
        state.streaks = gates.count(state.streaks, Event.BLOCKED)
        ctx.reporter.warn(f"#{iteration} the agent is blocked: {report.summary}")
        state.set_goal(report.next_goal)
        return gates.Continue()
    state.streaks = gates.count(state.streaks, Event.REPORTED)
    if report.status == "complete":
        return judge_claim(ctx, state, iteration, inputs, report, after.digest, pending)
    recent = state.goal_history[-max(ctx.settings.max_stagnation, 2) :]
    # A near-copy of a recent goal is stagnation only while the workspace stands still: numbered steps that
    # change files each turn ("Step 16: tidy item 16") are progress.
    similar = any(is_near_duplicate(report.next_goal, goal, ctx.settings.goal_similarity) for goal in recent)
    repeated = similar and changed is Event.UNCHANGED
    state.streaks = gates.count(state.streaks, Event.GOAL_REPEATED if repeated else Event.GOAL_NEW)
    state.set_goal(report.next_goal)
    every = ctx.settings.review_every
    if every and ctx.settings.reviewer and iteration % every == 0:
        return periodic_review(ctx, state, iteration, inputs, report)
    return gates.Continue()


def periodic_review(
    ctx: LoopContext, state: RuntimeState, iteration: int, inputs: Inputs, report: ExecutorReport
) -> gates.Decision:
    """review_every: an advisory review without a claim; a rejection replaces the next goal."""
    diff = _reviewer_diff(ctx, state, iteration)
    prompt = reviewer_prompt(ctx, state, inputs, report, diff, periodic=True)
    outcome = call_role(ctx, state, iteration, Role.REVIEWER, prompt)
    if not isinstance(outcome.block, ReviewerVerdict):
        return failure_decision(ctx, state, outcome)
    state.last_review = ReviewRecord(iteration=iteration, periodic=True, **outcome.block.model_dump())
    if outcome.block.verdict == "reject" and outcome.block.next_goal:
        state.set_goal(outcome.block.next_goal)
    return gates.Continue()


def checkpoint(
    ctx: LoopContext, state: RuntimeState, iteration: int, report: ExecutorReport, checks: CheckReport | None
) -> str:
    """Commit the worktree as iteration N's checkpoint; the workspace fingerprint after it."""
    assert ctx.checkpoints is not None
    result = "not run" if checks is None else ("passed" if checks.all_passed else "failed") + f" ({checks.summary()})"
    commit = ctx.checkpoints.commit(iteration, state.goal or "", report.status, result, report.summary)
    if commit is not None:
        ctx.journal.record("checkpoint", iteration=iteration, commit=commit, branch=ctx.checkpoints.run.branch)
        state.last_fingerprint = take_fingerprint(ctx.layout.workspace, ctx.state_exclude).digest
    return state.last_fingerprint or ""


def _reviewer_diff(ctx: LoopContext, state: RuntimeState, iteration: int) -> str:
    base = state.baseline or Baseline()
    head = ctx.checkpoints.diff_range if ctx.checkpoints is not None else base.head
    diff = diff_since(ctx.layout.workspace, head, ctx.state_exclude, DIFF_FILE_CHARS, base.preexisting)
    atomic_write_text(ctx.layout.run_dir(iteration, "reviewer") / "diff.patch", diff)
    return diff


def judge_claim(
    ctx: LoopContext,
    state: RuntimeState,
    iteration: int,
    inputs: Inputs,
    report: ExecutorReport,
    fingerprint: str,
    pending: bool = False,
) -> gates.Decision:
    """A completion claim: checks first (cheap, objective), then the reviewer, then the loop's own decision;
    pending: the worktree has changes to checkpoint before the reviewer looks at base..branch."""
    ctx.journal.record("claim", iteration=iteration, summary=report.summary, evidence=report.evidence)
    state.replanned_for_stagnation = False
    state.streaks = gates.count(state.streaks, Event.CLAIMED)
    tampered = tampering_rejection(ctx, iteration)
    if tampered is not None:
        if pending:
            fingerprint = checkpoint(ctx, state, iteration, report, None)
        # Weakened tests make passing checks meaningless: reject before spending a check run or a review.
        ctx.journal.record("decision", iteration=iteration, kind="claim", success=False, reason=tampered)
        return _rejected(ctx, state, iteration, fingerprint, tampered, rejection_goal(tampered))
    checks = run_project_checks(ctx, state, iteration, "checks")
    if pending:
        fingerprint = checkpoint(ctx, state, iteration, report, checks)
    checks_passed = None if checks is None else checks.all_passed
    review: ReviewerVerdict | None = None
    next_goal = ""
    if checks_passed is False:
        assert checks is not None
        failing = ", ".join(r.name for r in checks.results if r.status != "passed")
        next_goal = f"The completion claim was premature: make the failing checks pass ({failing})."
    elif ctx.settings.reviewer:
        diff = _reviewer_diff(ctx, state, iteration)
        outcome = call_role(ctx, state, iteration, Role.REVIEWER, reviewer_prompt(ctx, state, inputs, report, diff))
        if not isinstance(outcome.block, ReviewerVerdict):
            return failure_decision(ctx, state, outcome)
        review = outcome.block
        state.last_review = ReviewRecord(iteration=iteration, **review.model_dump())
        next_goal = review.next_goal
    verdict = decide_success(checks_passed, review, ctx.settings.reviewer, state.baseline, fingerprint)
    ctx.journal.record("decision", iteration=iteration, kind="claim", success=verdict.success, reason=verdict.reason)
    if verdict.success:
        state.completed = True
        return gates.stop_on(Event.VERIFIED, verdict.reason)
    return _rejected(ctx, state, iteration, fingerprint, verdict.reason, next_goal)


def _rejected(
    ctx: LoopContext, state: RuntimeState, iteration: int, fingerprint: str, reason: str, next_goal: str
) -> gates.Decision:
    progressed = state.last_claim_fingerprint != fingerprint
    rejected = (Event.CLAIM_PROGRESSED, Event.CLAIM_REJECTED) if progressed else (Event.CLAIM_REJECTED,)
    state.streaks = gates.count(state.streaks, *rejected)
    state.last_claim_fingerprint = fingerprint
    ctx.reporter.warn(f"#{iteration} completion claim rejected: {reason}")
    state.set_goal(next_goal or f"Address why the claim was rejected: {reason}.")
    return gates.Continue()
