"""The final audit: after the last task the reviewer judges the whole TASK.md; gaps become follow-up task files."""

from __future__ import annotations

from pathlib import Path

from codex_self_iter.agent.control import AuditGap, AuditVerdict
from codex_self_iter.agent.kinds import Role
from codex_self_iter.loop import gates
from codex_self_iter.loop.calls import call_role
from codex_self_iter.loop.context import LoopContext
from codex_self_iter.loop.core import before_call, wait_out_backoff
from codex_self_iter.loop.ledger import CallOutcome
from codex_self_iter.loop.steps import DIFF_FILE_CHARS, failure_decision
from codex_self_iter.loop.success import run_project_checks
from codex_self_iter.prompts.render import INPUT_MAX_CHARS, bounded, render
from codex_self_iter.prompts.roles import DIFF_PROMPT_CHARS, checks_text
from codex_self_iter.state.fsio import atomic_write_text
from codex_self_iter.state.runtime import Baseline, RuntimeState, save_runtime
from codex_self_iter.state.snapshot import Phase
from codex_self_iter.state.status import write_status
from codex_self_iter.tasks.files import TaskFile, write_task
from codex_self_iter.tasks.queue import QueueState, task_line
from codex_self_iter.workspace.diffs import diff_since
from codex_self_iter.workspace.inputs import read_inputs

AUDIT_GOAL = "final audit: is the whole objective done?"


def final_audit(
    ctx: LoopContext, state: RuntimeState, queue: QueueState, files: list[TaskFile], tasks_dir: Path
) -> gates.Stop | None:
    """Audit the whole run: Stop(COMPLETE) on approval, None when follow-up tasks were added or the call failed
    and is retried after a backoff (the agent-failure and invalid-output gates bound that), else a Stop."""
    before = before_call(ctx, state) or wait_out_backoff(ctx, state)
    if before is not None:
        return before
    iteration = state.iteration + 1
    state.task, state.goal = None, AUDIT_GOAL
    checks = run_project_checks(ctx, state, iteration, "audit-checks")
    base = queue.base or Baseline()
    diff = diff_since(ctx.layout.workspace, base.head, ctx.state_exclude, DIFF_FILE_CHARS, base.preexisting)
    atomic_write_text(ctx.layout.run_dir(iteration, Role.AUDITOR.value) / "diff.patch", diff)
    outcome = call_role(ctx, state, iteration, Role.AUDITOR, _prompt(ctx, state, queue, diff))
    state.iteration = iteration
    if not isinstance(outcome.block, AuditVerdict):
        return _failed(ctx, state, outcome)
    state.streaks = gates.count(state.streaks, gates.Event.ANSWERED)
    verdict = outcome.block
    gaps = list(verdict.gaps) if verdict.verdict == "reject" else []
    if checks is not None and not checks.all_passed:
        failing = [r.name for r in checks.results if r.status != "passed"]
        gaps.append(
            AuditGap(
                title="Make the failing checks pass",
                details=f"At the final audit these checks fail: {', '.join(failing)}.",
                done_when=[f"`{name}` passes" for name in failing],
            )
        )
    approved = not gaps
    queue.audit.verdict, queue.audit.reasons, queue.audit.iteration = (
        "approve" if approved else "reject",
        verdict.reasons,
        iteration,
    )
    ctx.journal.record(
        "audit",
        iteration=iteration,
        verdict=queue.audit.verdict,
        reasons=verdict.reasons,
        gaps=[gap.title for gap in gaps],
        round=queue.audit.rounds + 1,
    )
    if approved:
        state.completed = True
        return gates.stop_on(gates.Event.VERIFIED, "every task is verified and the final audit approved")
    if queue.audit.rounds >= ctx.settings.max_followups:
        reasons = "; ".join([*verdict.reasons, *(gap.title for gap in gaps)])[:300]
        return gates.stop_on(
            gates.Event.AUDIT_GAPS_LEFT,
            f"the final audit still finds gaps after {queue.audit.rounds} follow-up round(s) "
            f"(max_followups={ctx.settings.max_followups}): {reasons}",
        )
    queue.audit.rounds += 1
    number = max((task.number for task in files), default=0) + 1
    added = []
    for offset, gap in enumerate(gaps):
        path = write_task(tasks_dir, number + offset, gap.title, gap.details, gap.done_when, "audit")
        added.append(path.name)
    ctx.journal.record("audit_followups", iteration=iteration, files=added, round=queue.audit.rounds)
    ctx.reporter.info(f"final audit: {len(added)} gap(s); added follow-up task(s): {', '.join(added)}")
    return None


def _failed(ctx: LoopContext, state: RuntimeState, outcome: CallOutcome) -> gates.Stop | None:
    """A failed audit call counts like any failed call: a streak at its cap stops the run, else back off and retry."""
    decision = failure_decision(ctx, state, outcome)
    if isinstance(decision, gates.Continue):
        decision = gates.streak_gate(state.streaks, ctx.settings, ctx.deps.random())
    if isinstance(decision, gates.Stop):
        return decision
    if isinstance(decision, gates.Backoff):
        spent = before_call(ctx, state)
        if spent is not None:
            return spent  # no wait right before a budget ends the run anyway
        state.backoff_until, state.backoff_reason = ctx.deps.clock() + decision.seconds, decision.reason
        if decision.reason == gates.gate("usage_limit").label:
            state.usage_wait_total_sec += decision.seconds
        ctx.journal.record(
            "decision", iteration=state.iteration, kind="backoff", seconds=round(decision.seconds, 3),
            reason=decision.reason,
        )  # fmt: skip
        ctx.reporter.info(f"final audit: backing off {decision.seconds:.1f}s ({decision.reason}), then auditing again")
        save_runtime(ctx.layout.runtime_file, state)
        write_status(ctx, state, Phase.BACKING_OFF)
    return None  # the driver comes back here: the audit runs again once the backoff is over


def _prompt(ctx: LoopContext, state: RuntimeState, queue: QueueState, diff: str) -> str:
    s = ctx.settings
    inputs = read_inputs(ctx.layout)
    task = bounded(inputs.task, INPUT_MAX_CHARS, s.task_file) if inputs.task.strip() else "(no task file)"
    return render(
        "audit",
        {
            "task": task,
            "task_file": s.task_file,
            "plan": bounded(inputs.plan, INPUT_MAX_CHARS, s.plan_file),
            "plan_file": s.plan_file,
            "hint": s.reviewer_model_hint,
            "round": queue.audit.rounds + 1,
            "rounds_left": max(0, s.max_followups - queue.audit.rounds),
            "tasks": "\n".join(task_line(record, with_file=True) for record in queue.tasks),
            "checks": checks_text(ctx, state),
            "diff": bounded(diff, DIFF_PROMPT_CHARS, "git diff"),
        },
    )
