"""The variables each role's prompt is rendered with: pure functions of the loop's state and inputs."""

from __future__ import annotations

from typing import Any

from codex_self_iter.agent.control import ExecutorReport
from codex_self_iter.agent.kinds import Role
from codex_self_iter.loop.context import LoopContext
from codex_self_iter.loop.protect import changes_for_reviewer
from codex_self_iter.prompts.render import INPUT_MAX_CHARS, bounded, render
from codex_self_iter.state.runtime import RuntimeState
from codex_self_iter.workspace.inputs import Inputs

CHECKS_PROMPT_CHARS = 4000
DIFF_PROMPT_CHARS = 20_000


def _common(ctx: LoopContext, state: RuntimeState, inputs: Inputs) -> dict[str, Any]:
    s = ctx.settings
    return {
        "task": bounded(inputs.task, INPUT_MAX_CHARS, s.task_file) if inputs.task.strip() else "(no task file)",
        "plan": bounded(inputs.plan, INPUT_MAX_CHARS, s.plan_file),
        "task_file": s.task_file,
        "plan_file": s.plan_file,
        "state_dir": ctx.layout.relative_state_dir() or str(ctx.layout.state_dir),
        "history": ctx.journal.history_text(s.history_tail, s.history_max_chars),
        "last_review": _review_text(state),
        "checks": checks_text(ctx, state),
        "goal": state.goal or "(none yet)",
        "iteration": state.iteration + 1,
    }


def checks_text(ctx: LoopContext, state: RuntimeState) -> str:
    """The configured checks and their latest results (failing output bounded)."""
    if not ctx.checks:
        return "(no checks configured or detected: the reviewer alone decides)"
    names = "\n".join(f"- {' '.join(spec.argv)}" for spec in ctx.checks)
    last = state.last_checks
    if not last:
        return f"{names}\n(not run yet)"
    shown = bounded(last.prompt_text or last.summary, CHECKS_PROMPT_CHARS, "the check output")
    return f"{names}\nLatest results (iteration {last.iteration}):\n{shown}"


def _review_text(state: RuntimeState) -> str:
    review = state.last_review
    if not review:
        return "(no review yet)"
    reasons = "; ".join(review.reasons) or "(no reasons given)"
    return f"{review.verdict} at iteration {review.iteration}: {reasons}"


def planner_prompt(ctx: LoopContext, state: RuntimeState, inputs: Inputs, reason: str) -> str:
    """The planner's prompt."""
    variables = _common(ctx, state, inputs) | {"reason": reason, "hint": ctx.settings.planner_model_hint}
    return render(Role.PLANNER.value, variables)


def executor_prompt(ctx: LoopContext, state: RuntimeState, inputs: Inputs) -> str:
    """The executor's prompt."""
    return render(Role.EXECUTOR.value, _common(ctx, state, inputs))


CLAIM_OCCASION = "The executor claims the task is complete. Decide, strictly, whether it really is."
PERIODIC_OCCASION = (
    "This is a periodic review (review_every): the executor has not claimed completion. Judge the work so far;"
    " reject with a better next goal if it is heading the wrong way."
)


def reviewer_prompt(
    ctx: LoopContext, state: RuntimeState, inputs: Inputs, report: ExecutorReport, diff: str, periodic: bool = False
) -> str:
    """The reviewer's prompt: goal, task, the executor's report, check results, baseline and diff."""
    baseline = state.baseline
    if baseline is None:
        base_text = "(not recorded)"
    else:
        green = {True: "all checks passed", False: "some checks failed", None: "no checks"}[baseline.checks_passed]
        base_text = f"{green} before the first iteration. {baseline.checks_summary}".strip()
    evidence = "\n".join(f"- {item}" for item in report.evidence) or "- (none given)"
    variables = _common(ctx, state, inputs) | {
        "hint": ctx.settings.reviewer_model_hint,
        "occasion": PERIODIC_OCCASION if periodic else CLAIM_OCCASION,
        "report": f"status: {report.status}\nsummary: {report.summary}\nevidence:\n{evidence}",
        "baseline": base_text,
        "diff": bounded(diff, DIFF_PROMPT_CHARS, "git diff"),
        "protected": changes_for_reviewer(ctx),
    }
    return render(Role.REVIEWER.value, variables)
