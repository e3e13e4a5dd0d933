"""The queue's state (<state-dir>/tasks.json): which tasks are done, in progress, blocked or pending."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from codex_self_iter.state.fsio import atomic_write_json, read_json
from codex_self_iter.state.runtime import Baseline
from codex_self_iter.tasks.files import TaskFile

TaskState = Literal["pending", "in_progress", "done", "blocked", "removed"]
DELETED_MID_EPISODE = "deleted during its episode"  # the stop of such an episode ends the task, not the run
MARKS: dict[str, str] = {"done": "[x]", "in_progress": "[~]", "blocked": "[!]", "pending": "[ ]", "removed": "[-]"}


class TaskRecord(BaseModel):
    """What the queue knows about one task."""

    model_config = ConfigDict(extra="ignore")

    id: str
    file: str
    title: str
    origin: str = "user"
    state: TaskState = "pending"
    digest: str = ""
    started_iteration: int | None = None
    finished_iteration: int | None = None
    outcome: str = ""
    budget: int = 0  # max_iterations_per_task when it started (0 = none), for `status`
    edited_after_done: bool = False
    removed_from: TaskState | None = None  # its state before its file was deleted (restored if the file comes back)
    removed_at: int | None = None  # the iteration at which the deletion was seen


class AuditRecord(BaseModel):
    """The final audit: how many follow-up rounds it started and its last verdict."""

    model_config = ConfigDict(extra="ignore")

    rounds: int = 0
    verdict: str | None = None
    reasons: list[str] = Field(default_factory=list)
    iteration: int | None = None


@dataclass(frozen=True)
class Reconciled:
    """What reconciling the queue with the task files found: notes on edited done tasks, tasks whose file is gone."""

    edited: list[str]
    removed: list[TaskRecord]


class QueueState(BaseModel):
    """The whole queue, in task order."""

    model_config = ConfigDict(extra="ignore")

    version: int = 1
    tasks: list[TaskRecord] = Field(default_factory=list)
    audit: AuditRecord = Field(default_factory=AuditRecord)
    base: Baseline | None = None  # the first task's baseline: the audit's diff and "files changed" start here

    def get(self, task_id: str) -> TaskRecord | None:
        """The record of a task, or None."""
        return next((t for t in self.tasks if t.id == task_id), None)

    def current(self) -> TaskRecord | None:
        """The task in progress, if any."""
        return next((t for t in self.tasks if t.state == "in_progress"), None)

    def reconcile(self, files: list[TaskFile], workspace: Path, iteration: int = 0) -> Reconciled:
        """Bring the queue in line with the task files: new files join it, deleted ones are marked removed."""
        notes: list[str] = []
        records = {t.id: t for t in self.tasks}
        merged: list[TaskRecord] = []
        for task in files:
            record = records.pop(task.id, None)
            rel = _relative(task.path, workspace)
            if record is not None and record.state == "removed":
                record.state, record.removed_from, record.removed_at = record.removed_from or "pending", None, None
                if record.state == "in_progress":
                    record.state = "pending"  # its episode was given up when the file went: it starts afresh
            if record is None:
                record = TaskRecord(id=task.id, file=rel, title=task.title, origin=task.origin)
                if task.origin != "audit":
                    self.audit = AuditRecord()  # the user added work: the audit looks again, with fresh rounds
            elif record.state in ("pending", "blocked") or (record.state == "in_progress" and not record.digest):
                record.file, record.title, record.origin = rel, task.title, task.origin
            elif record.state == "done" and record.digest != task.digest and not record.edited_after_done:
                record.edited_after_done = True
                notes.append(f"{rel}: task {task.id} was edited after it was done; it is not run again")
            merged.append(record)
        removed = [record for record in records.values() if record.state != "removed"]
        for record in removed:
            record.removed_from, record.removed_at, record.state = record.state, iteration, "removed"
        self.tasks = sorted([*merged, *records.values()], key=lambda t: int(t.id) if t.id.isdigit() else 0)
        return Reconciled(notes, removed)

    def next_task(self, skip: set[str]) -> TaskRecord | None:
        """The task to work on next: the one in progress, else the first pending or blocked one not in skip."""
        current = self.current()
        if current is not None:
            return current
        return next((t for t in self.tasks if t.state in ("pending", "blocked") and t.id not in skip), None)


def read_queue(path: Path) -> QueueState | None:
    """The saved queue (Layout.queue_file); None when it is missing or unreadable (tasks/recover.py rebuilds it)."""
    data = read_json(path)
    if isinstance(data, dict):
        with contextlib.suppress(ValidationError):
            return QueueState.model_validate(data)
    return None


def save_queue(path: Path, queue: QueueState) -> None:
    """Write the queue atomically and durably."""
    atomic_write_json(path, queue.model_dump(mode="json"), durable=True)


def _relative(path: Path, workspace: Path) -> str:
    try:
        return str(path.relative_to(workspace))
    except ValueError:
        return str(path)


def task_line(record: TaskRecord, with_file: bool = False, iteration: int | None = None) -> str:
    """`[x] 001 Title — outcome` (with the file, or `iteration k/N` for the task in progress)."""
    text = f"{MARKS[record.state]} {record.id} {record.title}"
    if with_file:
        text += f" ({record.file}, from {record.origin})"
    if record.state == "removed":
        was = record.removed_from or "pending"
        after = f" after it was {was.replace('_', ' ')}" if was != "pending" else ""
        text += f" — removed: its file {record.file} was deleted{after}"
    elif record.state == "in_progress" and iteration is not None and record.started_iteration is not None:
        done = max(0, iteration - record.started_iteration)
        text += f" — iteration {done}/{record.budget}" if record.budget else f" — iteration {done}"
    elif record.outcome:
        text += f" — {record.outcome}"
    return text


def queue_summary(queue: QueueState, iteration: int | None = None) -> list[str]:
    """`tasks: 2/3 done · final audit: …`, then one line per task (indented)."""
    audit = queue.audit
    verdict = f"final audit: {audit.verdict}" if audit.verdict else "final audit: not yet"
    rounds = f" · follow-up rounds: {audit.rounds}" if audit.rounds else ""
    done = sum(t.state == "done" for t in queue.tasks)
    removed = sum(t.state == "removed" for t in queue.tasks)
    gone = f" · {removed} removed" if removed else ""
    head = f"tasks: {done}/{len(queue.tasks) - removed} done{gone} · {verdict}{rounds}"
    return [head] + [f"  {task_line(record, iteration=iteration)}" for record in queue.tasks]
