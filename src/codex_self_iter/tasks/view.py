"""The queue as `status` shows it: `[x] 001 Title`, `[~] 002 Title — iteration k/N`, and the audit."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from codex_self_iter.tasks.queue import AuditRecord, queue_summary, read_queue, task_line
from codex_self_iter.tasks.recover import replay


class TaskView(BaseModel):
    """One task in `status --json`."""

    id: str
    title: str
    file: str
    origin: str
    state: str
    iterations: int | None  # iterations spent on it (so far, for the one in progress)
    max_iterations: int | None  # max_iterations_per_task when it started
    outcome: str | None
    line: str  # as `status` prints it


class QueueView(BaseModel):
    """The `tasks` object of `status --json`."""

    done: int
    total: int  # the tasks still in the queue (removed ones not counted)
    removed: int  # tasks whose file was deleted
    tasks: list[TaskView]
    audit: AuditRecord
    lines: list[str]  # as `status` prints the queue


def queue_view(queue_file: Path, journal: Path, iteration_now: int) -> QueueView | None:
    """The queue seen at this iteration, or None when this state dir has no task queue."""
    if not queue_file.is_file():
        return None
    queue = read_queue(queue_file)
    note = []
    if queue is None:  # what the next `run` rebuilds it from
        queue = replay(journal, [], queue_file.parent)[0]
        note = [f"{queue_file.name} is unreadable; as the journal tells it (the next `run` rebuilds it so):"]
    tasks = []
    for record in queue.tasks:
        started = record.started_iteration
        if record.state == "in_progress" and started is not None:
            iterations: int | None = max(0, iteration_now - started)
        elif record.finished_iteration is not None and started is not None:
            iterations = record.finished_iteration - started
        else:
            iterations = None
        tasks.append(
            TaskView(
                id=record.id,
                title=record.title,
                file=record.file,
                origin=record.origin,
                state=record.state,
                iterations=iterations,
                max_iterations=record.budget or None,
                outcome=record.outcome or None,
                line=task_line(record, iteration=iteration_now),
            )
        )
    done = sum(task.state == "done" for task in tasks)
    removed = sum(task.state == "removed" for task in tasks)
    lines = note + queue_summary(queue, iteration=iteration_now)
    return QueueView(
        done=done, total=len(tasks) - removed, removed=removed, tasks=tasks, audit=queue.audit, lines=lines
    )


def queue_lines(view: QueueView) -> list[str]:
    """The human lines for a queue view (as the run's summary prints them)."""
    return view.lines
