"""A corrupt tasks.json: keep it aside and rebuild the queue from the journal, so no task already done runs again.

The journal (logs/iterations.jsonl) records every step of the queue: `task_started`, `task_done`, `task_blocked`,
`task_removed`, the final audit's `audit` and `audit_followups`, and each episode's `baseline` (tagged with its
task). Replaying them in order gives each task's last state; the task files give the rest (file, title, origin).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from codex_self_iter.errors import UserError
from codex_self_iter.state.fsio import iter_jsonl, set_aside
from codex_self_iter.state.runtime import Baseline
from codex_self_iter.tasks.files import TaskFile
from codex_self_iter.tasks.queue import AuditRecord, QueueState, TaskRecord

TASK_EVENTS = ("task_started", "task_done", "task_blocked", "task_removed")


def replay(journal: Path, files: list[TaskFile], workspace: Path) -> tuple[QueueState, int]:
    """The queue as the journal tells it, in the task files' order; and how many task records it held."""
    records: dict[str, TaskRecord] = {}
    audit, base, seen = AuditRecord(), None, 0
    shown = {task.id: task for task in files}
    for event in iter_jsonl(journal):
        name, task_id = event.get("event"), event.get("task")
        if name in TASK_EVENTS and isinstance(task_id, str):
            seen += 1
            record = records.setdefault(task_id, _record(task_id, event, shown.get(task_id), workspace))
            _apply(record, name, event)
            if name == "task_started" and audit.verdict is not None:
                audit = audit.model_copy(update={"verdict": None})  # the audit looks again once this is done
        elif name == "audit":
            audit.verdict, audit.iteration = _text(event.get("verdict")) or None, _number(event.get("iteration"))
            audit.reasons = [str(reason) for reason in event.get("reasons") or []]
        elif name == "audit_followups":
            audit.rounds = _number(event.get("round")) or audit.rounds
        elif name == "baseline" and isinstance(task_id, str) and base is None:
            base = _baseline(event)
    order = [task.id for task in files] + sorted(set(records) - set(shown))
    queue = QueueState(tasks=[records[i] for i in order if i in records], audit=audit, base=base)
    return queue, seen


def recover(
    queue_file: Path, journal: Path, files: list[TaskFile], workspace: Path, worked: bool
) -> tuple[QueueState, str]:
    """Set the corrupt queue file aside and rebuild the queue (with one line saying so); refuse when nothing tells
    which tasks were done (worked: the state dir shows iterations already run)."""
    aside = set_aside(queue_file, time.time())
    kept = f" (kept as {aside.name})" if aside is not None else ""
    queue, seen = replay(journal, files, workspace)
    if not seen and worked:
        raise UserError(
            f"{queue_file}: unreadable{kept}, and {journal} has no record of the tasks' episodes, so which tasks are "
            "done is unknown: put a good copy back as tasks.json, or `run` again to start every task over"
        )
    counts = [f"{sum(t.state == s for t in queue.tasks)} {s.replace('_', ' ')}" for s in ("done", "in_progress")]
    counts += [f"{n} {s}" for s in ("blocked", "removed") if (n := sum(t.state == s for t in queue.tasks))]
    return queue, f"{queue_file.name}: unreadable{kept}; rebuilt the queue from {journal.name} ({', '.join(counts)})"


def _record(task_id: str, event: dict[str, Any], task: TaskFile | None, workspace: Path) -> TaskRecord:
    if task is None:  # its file is gone: the queue's reconcile reports it as removed
        file = _text(event.get("file")) or f"(task {task_id}'s file)"
        return TaskRecord(id=task_id, file=file, title=_text(event.get("title")) or "?")
    try:
        file = str(task.path.relative_to(workspace))
    except ValueError:
        file = str(task.path)
    return TaskRecord(id=task_id, file=file, title=task.title, origin=task.origin, digest=task.digest)


def _apply(record: TaskRecord, name: str, event: dict[str, Any]) -> None:
    iteration = _number(event.get("iteration"))
    if name == "task_started":
        record.state, record.outcome, record.finished_iteration = "in_progress", "", None
        record.started_iteration = iteration
    elif name == "task_removed":
        record.state, record.removed_at = "removed", iteration
        was = event.get("was")
        record.removed_from = was if was in ("pending", "in_progress", "done", "blocked") else "pending"
    else:
        record.state = "done" if name == "task_done" else "blocked"
        record.outcome, record.finished_iteration = _text(event.get("outcome")), iteration


def _baseline(event: dict[str, Any]) -> Baseline | None:
    try:
        return Baseline.model_validate(event)
    except ValidationError:
        return None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
