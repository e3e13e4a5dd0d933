"""What runs next, and the request that runs it: shared by the loop and `run --dry-run`, so they cannot disagree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from codex_self_iter.agent.kinds import Role, TokenUsage
from codex_self_iter.agent.types import AgentRequest
from codex_self_iter.config import Settings
from codex_self_iter.proc.process import ProcessHandle
from codex_self_iter.state.layout import Layout
from codex_self_iter.state.runtime import RuntimeState
from codex_self_iter.workspace.inputs import Inputs

FIRST_PLAN = "there is no current goal yet (first iteration)"


@dataclass(frozen=True)
class NextCall:
    """The role the next iteration starts with, and why."""

    role: Role
    reason: str  # shown by --dry-run; a planner gets it in its prompt
    task_changed: bool  # the task file changed since the saved state: the current goal is dropped
    replan_reason: str | None  # what the state's replan_reason becomes (kept across a failed plan)


def next_call(settings: Settings, state: RuntimeState, inputs: Inputs, iteration: int) -> NextCall:
    """A pure decision from the saved state and the inputs read now."""
    goal, replan = state.goal, state.replan_reason
    changed = state.task_hash is not None and state.task_hash != inputs.task_hash
    if changed:
        goal, replan = None, f"{settings.task_file} changed; plan for the new task"
    every = settings.plan_every
    if every and goal and iteration > 1 and (iteration - 1) % every == 0 and not replan:
        replan = f"periodic re-plan (plan_every={every})"
    if goal is None or replan:
        return NextCall(Role.PLANNER, replan or FIRST_PLAN, changed, replan)
    return NextCall(Role.EXECUTOR, f"goal: {' '.join(goal.split())[:120]}", changed, replan)


def agent_request(
    layout: Layout,
    settings: Settings,
    role: Role,
    iteration: int,
    label: str,
    prompt_file: Path,
    prompt: str,
    cancel: Callable[[], bool] = lambda: False,
    on_start: Callable[[ProcessHandle], None] | None = None,
    on_tick: Callable[[float, TokenUsage | None], None] | None = None,
) -> AgentRequest:
    """The request for one agent call; label is the role, or e.g. 'executor-repair' for a repair attempt."""
    run_dir = layout.run_dir(iteration, label)
    return AgentRequest(
        role=role,
        iteration=iteration,
        prompt_file=prompt_file,
        prompt_text=prompt,
        workspace=layout.workspace,
        state_dir=layout.state_dir,
        run_dir=run_dir,
        schema_file=run_dir / "schema.json",
        timeout_sec=settings.command_timeout_sec,
        cancel=cancel,
        on_start=on_start,
        on_tick=on_tick,
    )
