"""What runs next is one pure function, used by the loop and by `run --dry-run`."""

from __future__ import annotations

import pytest

from codex_self_iter.agent.kinds import Role
from codex_self_iter.config import Settings
from codex_self_iter.loop.next_call import FIRST_PLAN, next_call
from codex_self_iter.state.runtime import RuntimeState
from codex_self_iter.workspace.inputs import Inputs

INPUTS = Inputs(task="t", plan="p", task_hash="h1")


@pytest.mark.parametrize(
    ("state", "settings", "iteration", "role", "reason", "changed"),
    [
        (RuntimeState(), Settings(), 1, Role.PLANNER, FIRST_PLAN, False),
        (RuntimeState(goal="g", task_hash="h1"), Settings(), 2, Role.EXECUTOR, "goal: g", False),
        (RuntimeState(goal="g", task_hash="h0"), Settings(), 2, Role.PLANNER, "TASK.md changed", True),
        (RuntimeState(goal="g", task_hash="h1"), Settings(plan_every=3), 4, Role.PLANNER, "plan_every=3", False),
        (RuntimeState(goal="g", task_hash="h1"), Settings(plan_every=3), 3, Role.EXECUTOR, "goal: g", False),
        (RuntimeState(goal="g", task_hash="h1", replan_reason="stuck"), Settings(), 5, Role.PLANNER, "stuck", False),
    ],
)
def test_next_call(
    state: RuntimeState, settings: Settings, iteration: int, role: Role, reason: str, changed: bool
) -> None:
    upcoming = next_call(settings, state, INPUTS, iteration)
    assert upcoming.role is role and reason in upcoming.reason and upcoming.task_changed is changed
    assert (upcoming.replan_reason is not None) == (role is Role.PLANNER and reason != FIRST_PLAN)
