"""The workspace inputs re-read at every iteration: TASK.md (optional) and plan.md (required)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from codex_self_iter.errors import UserError
from codex_self_iter.state.layout import Layout

_CHECKBOX = re.compile(r"^[ \t]*(?:[-*+]|\d+[.)])[ \t]+\[([ xX])\]", re.MULTILINE)


@dataclass(frozen=True)
class Inputs:
    """The task and plan as they are now."""

    task: str
    plan: str
    task_hash: str


def read_inputs(layout: Layout) -> Inputs:
    """Read TASK.md and plan.md; a missing plan or an unreadable file is the user's to fix."""
    if not layout.plan_file.is_file():
        raise UserError(
            f"{layout.plan_file}: plan file not found; create it (e.g. `codex-self-iter init`) or pass --plan-file"
        )
    plan = _read(layout.plan_file, "plan")
    task = _read(layout.task_file, "task") if layout.task_file.exists() else ""
    context = layout.context_file
    if context is not None and context.is_file():
        # A queued task: its own file first, the whole objective after it, for context.
        whole = _read(context, "task").strip()
        task += f"\n\n---\nThe whole objective ({context.name}), for context; work on the task above:\n\n{whole}\n"
    return Inputs(task=task, plan=plan, task_hash=hashlib.sha256(task.encode("utf-8")).hexdigest())


def plan_progress(plan: str) -> tuple[int, int] | None:
    """(checked, all) of the plan's Markdown checklist items (`- [x]` / `- [ ]`), or None when it has none."""
    marks = _CHECKBOX.findall(plan)
    return (sum(mark in "xX" for mark in marks), len(marks)) if marks else None


def read_plan_progress(layout: Layout) -> tuple[int, int] | None:
    """plan_progress of the plan file as it is now; None when it cannot be read (the loop reports that itself)."""
    try:
        return plan_progress(layout.plan_file.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path}: the {what} file is not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read the {what} file ({exc.strerror}); check its permissions") from exc
