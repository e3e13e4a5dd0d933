"""One task's episode: a fresh goal and baseline, the task file as the objective, the same loop and success gate."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from codex_self_iter.config import Settings
from codex_self_iter.loop.context import LoopContext
from codex_self_iter.loop.core import LoopResult, run_loop
from codex_self_iter.loop.launch import record_baseline
from codex_self_iter.outcome import StopReason
from codex_self_iter.state.journal import Journal
from codex_self_iter.state.runtime import RuntimeState, Streaks, save_runtime
from codex_self_iter.state.stop_request import StopSignals
from codex_self_iter.tasks.files import TaskFile
from codex_self_iter.tasks.queue import DELETED_MID_EPISODE, QueueState, TaskRecord, save_queue


class TaskJournal(Journal):
    """The run's journal, with the task id on every record."""

    def __init__(self, path: Path, clock: Any, task: str) -> None:
        super().__init__(path, clock)
        self.task = task

    def record(self, event: str, **fields: Any) -> None:
        """Append one event, tagged with the task."""
        super().record(event, **{"task": self.task, **fields})


class TaskWatch(StopSignals):
    """The run's stop signals, plus one more reason to end the episode: its task file was deleted."""

    def __init__(self, run: StopSignals, task_file: Path, shown: str) -> None:
        super().__init__(run.stop_files, run.latch)
        self.run, self.task_file, self.shown = run, task_file, shown

    def cancelled(self) -> bool:
        """The run's: a deleted task file lets the agent call in flight finish."""
        return self.run.cancelled()

    def pending(self) -> tuple[StopReason, str] | None:
        """The run's stop request, else the end of this episode when its task file is gone."""
        request = self.run.pending()
        if request is None and not self.task_file.exists():
            return StopReason.BAD_INPUT, f"{self.shown}: {DELETED_MID_EPISODE}; the queue goes on without it"
        return request


def run_task(
    ctx: LoopContext, state: RuntimeState, queue: QueueState, record: TaskRecord, task: TaskFile
) -> LoopResult:
    """Run (or resume) the loop on one task until it is verified complete or something stops it."""
    if state.task != record.id or record.state != "in_progress":
        _start(ctx, state, queue, record, task)
    else:
        ctx.reporter.info(f"resuming task {record.id}: {record.title}")
    episode = episode_context(ctx, state, record, task)
    record_baseline(episode, state)
    if queue.base is None:
        queue.base = state.baseline
        save_queue(ctx.layout.queue_file, queue)
    result = run_loop(episode, state)
    if result.reason is StopReason.MAX_ITERATIONS and _task_cap_binds(ctx.settings, state, record):
        detail = f"task {record.id} used its max_iterations_per_task={ctx.settings.max_iterations_per_task}"
        result = replace(result, detail=detail)
    return result


def _start(ctx: LoopContext, state: RuntimeState, queue: QueueState, record: TaskRecord, task: TaskFile) -> None:
    # The runtime first: if a kill lands between the two writes, the queue still says "pending" and the task
    # simply starts again; a queue saying "in_progress" always has a runtime that belongs to that task.
    state.task, state.goal, state.goal_history, state.replan_reason = record.id, None, [], None
    state.task_hash, state.baseline, state.streaks = None, None, Streaks()
    state.replanned_for_stagnation, state.last_claim_fingerprint, state.last_review = False, None, None
    state.completed, state.stop_reason, state.clean_exit = False, None, False
    save_runtime(ctx.layout.runtime_file, state)
    record.state, record.digest, record.outcome = "in_progress", task.digest, ""
    record.started_iteration, record.finished_iteration = state.iteration, None
    record.budget = ctx.settings.max_iterations_per_task
    save_queue(ctx.layout.queue_file, queue)
    ctx.journal.record("task_started", task=record.id, title=record.title, file=record.file, iteration=state.iteration)
    ctx.reporter.info(f"task {record.id}: {record.title}")


def episode_context(ctx: LoopContext, state: RuntimeState, record: TaskRecord, task: TaskFile) -> LoopContext:
    """The run's context with the task file as the objective (TASK.md beside it) and the per-task budget."""
    layout = replace(ctx.layout, task_file=task.path, context_file=ctx.layout.task_file)
    cap = iteration_cap(ctx.settings, state, record)
    # A task's end is not the run's: on_complete and on_stop run once, when the queue's run ends (tasks/driver.py).
    hooks = ctx.settings.hooks.model_copy(update={"on_complete": [], "on_stop": []})
    settings = ctx.settings.model_copy(update={"task_file": record.file, "max_iterations": cap, "hooks": hooks})
    journal = TaskJournal(ctx.layout.journal, ctx.deps.clock, record.id)
    signals = TaskWatch(ctx.signals, task.path, record.file)
    return replace(ctx, layout=layout, settings=settings, journal=journal, signals=signals)


def iteration_cap(settings: Settings, state: RuntimeState, record: TaskRecord) -> int:
    """max_iterations for the budget gate (counted from the run's first iteration): the run's or the task's cap."""
    if not settings.max_iterations_per_task:
        return settings.max_iterations
    # Like the run's budget, a task's counts from this run's start; a run resumed after a crash keeps its count.
    first = max(record.started_iteration or 0, state.run_first_iteration)
    task_cap = first - state.run_first_iteration + settings.max_iterations_per_task
    return min(settings.max_iterations, task_cap) if settings.max_iterations else task_cap


def _task_cap_binds(settings: Settings, state: RuntimeState, record: TaskRecord) -> bool:
    cap = iteration_cap(settings, state, record)
    return bool(settings.max_iterations_per_task) and (not settings.max_iterations or cap < settings.max_iterations)
