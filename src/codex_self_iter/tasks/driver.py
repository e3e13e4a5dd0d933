"""`run` with a task queue: one loop episode per task file, in order, then the final audit."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from codex_self_iter.errors import UserError
from codex_self_iter.loop import gates
from codex_self_iter.loop.context import Deps, LoopContext
from codex_self_iter.loop.core import LoopResult, finish
from codex_self_iter.loop.hooks import run_hook
from codex_self_iter.loop.launch import RunFlags, open_session, print_end, run_session
from codex_self_iter.loop.summary import print_summary
from codex_self_iter.options import Prepared
from codex_self_iter.outcome import StopReason
from codex_self_iter.state.fsio import read_json
from codex_self_iter.state.runtime import RuntimeState
from codex_self_iter.state.snapshot import Phase
from codex_self_iter.state.status import write_status
from codex_self_iter.tasks.audit import final_audit
from codex_self_iter.tasks.episode import run_task
from codex_self_iter.tasks.files import TaskFile, file_digest, scan_tasks
from codex_self_iter.tasks.queue import QueueState, queue_summary, read_queue, save_queue
from codex_self_iter.tasks.recover import recover


def run(prepared: Prepared, flags: RunFlags, deps: Deps | None = None, out: TextIO | None = None) -> int:
    """The task queue when the tasks directory holds task files, else the single-objective loop."""
    files = scan_tasks(tasks_dir(prepared), prepared.layout.workspace)
    if files is None:
        return run_session(prepared, flags, deps, out)
    deps, out = deps or Deps(), out or sys.stdout
    verified = _verified_before(prepared.layout.runtime_file)
    with open_session(prepared, flags, deps) as (ctx, state):
        try:
            queue = _open_queue(ctx, state, files)
        except UserError as exc:
            queue = QueueState()
            result = finish(ctx, state, gates.stop_on(gates.Event.BAD_INPUT, str(exc)))
        else:
            result = _drive(ctx, state, queue, verified)
    state.baseline = queue.base or state.baseline  # the summary's "files changed" covers the whole queue

    def write(stream: TextIO) -> None:
        print_summary(ctx, state, result, stream)
        print_queue(queue, stream)

    return print_end(out, result.exit_code, write)


def tasks_dir(prepared: Prepared) -> Path:
    """The workspace's tasks directory."""
    return prepared.layout.workspace / prepared.settings.tasks_dir


def _open_queue(ctx: LoopContext, state: RuntimeState, files: list[TaskFile]) -> QueueState:
    """The saved queue; a corrupt one is set aside and rebuilt from the journal, never silently started over."""
    path = ctx.layout.queue_file
    queue = read_queue(path)
    if queue is not None or not path.exists():
        return queue or QueueState()
    queue, line = recover(path, ctx.layout.journal, files, ctx.layout.workspace, worked=state.iteration > 0)
    ctx.reporter.warn(line)
    ctx.journal.record("queue_recovered", iteration=state.iteration, note=line)
    save_queue(path, queue)
    return queue


def _verified_before(runtime_file: Path) -> str | None:
    """The task whose episode the last run verified, read before the session resumes (and resets) the state."""
    data = read_json(runtime_file)
    if isinstance(data, dict) and data.get("completed") and isinstance(data.get("task"), str):
        return str(data["task"])
    return None


def _drive(ctx: LoopContext, state: RuntimeState, queue: QueueState, verified: str | None) -> LoopResult:
    skipped: set[str] = set()  # tasks blocked in this run (continue_on_blocked)
    folder = ctx.layout.workspace / ctx.settings.tasks_dir
    while True:
        try:
            files = _refresh(ctx, state, queue, folder, verified)
        except UserError as exc:
            return finish(ctx, state, gates.stop_on(gates.Event.BAD_INPUT, str(exc)))
        verified = None
        record = queue.next_task(skipped)
        if record is None:
            stop = _after_last_task(ctx, state, queue, files, folder, skipped)
            save_queue(ctx.layout.queue_file, queue)
            if stop is None:
                continue
            return finish(ctx, state, stop)
        task = next(t for t in files if t.id == record.id)
        result = run_task(ctx, state, queue, record, task)
        if result.reason is StopReason.BAD_INPUT and not task.path.exists():
            continue  # its file was deleted during its episode: the next refresh marks it removed
        if result.reason is StopReason.COMPLETE:
            _mark(ctx, state, queue, record.id, "done", f"verified at iteration {state.iteration}")
            continue
        if result.reason is StopReason.AGENT_BLOCKED:
            _mark(ctx, state, queue, record.id, "blocked", result.detail)
            if ctx.settings.continue_on_blocked:
                skipped.add(record.id)
                ctx.reporter.warn(f"task {record.id} is blocked; continuing with the next (continue_on_blocked)")
                continue
            detail = f"task {record.id} ({record.title}) is blocked: {result.detail}"
        else:
            record.outcome = f"stopped: {result.reason.value}"
            save_queue(ctx.layout.queue_file, queue)
            detail = result.detail if result.detail.startswith("task ") else f"task {record.id}: {result.detail}"
        write_status(ctx, state, Phase.STOPPED, exit_code=result.exit_code, detail=detail)
        run_hook(ctx, state, "on_stop", result.reason, detail)  # the episode's own stop ran no hook
        return LoopResult(result.reason, detail, result.exit_code)


def _refresh(
    ctx: LoopContext, state: RuntimeState, queue: QueueState, folder: Path, verified: str | None
) -> list[TaskFile]:
    """Re-read the task files (edits of pending ones count), note edits of done ones, settle a verified task."""
    files = scan_tasks(folder, ctx.layout.workspace)
    if files is None:
        raise UserError(f"{folder}: the tasks directory disappeared during the run; restore it")
    before = queue.model_dump()
    found = queue.reconcile(files, ctx.layout.workspace, state.iteration)
    for note in found.edited:
        ctx.reporter.warn(note)
        ctx.journal.record("task_edited", iteration=state.iteration, note=note)
    for gone in found.removed:
        was = gone.removed_from or "pending"
        ctx.reporter.warn(
            f"{gone.file}: deleted; task {gone.id} ({was.replace('_', ' ')}) leaves the queue and counts as removed"
        )
        ctx.journal.record("task_removed", task=gone.id, iteration=state.iteration, file=gone.file, was=was)
    current = queue.current()
    if verified is not None and current is not None and current.id == verified:
        _mark(ctx, state, queue, verified, "done", "verified (recorded after a restart)")
    if queue.model_dump() != before or not ctx.layout.queue_file.exists():
        save_queue(ctx.layout.queue_file, queue)  # a durable write only when something changed (one per task)
    return files


def _after_last_task(
    ctx: LoopContext, state: RuntimeState, queue: QueueState, files: list[TaskFile], folder: Path, skipped: set[str]
) -> gates.Stop | None:
    blocked = [t.id for t in queue.tasks if t.state == "blocked"]
    if skipped or blocked:
        names = ", ".join(blocked)
        return gates.stop_on(gates.Event.TASKS_BLOCKED, f"task(s) {names} blocked; the other tasks are done")
    if queue.audit.verdict == "approve":
        state.completed = True
        return gates.stop_on(gates.Event.VERIFIED, "every task is verified and the final audit approved earlier")
    if not ctx.settings.reviewer:
        state.completed = True
        return gates.stop_on(gates.Event.VERIFIED, "every task is verified (reviewer off: no final audit)")
    return final_audit(ctx, state, queue, files, folder)


def _mark(ctx: LoopContext, state: RuntimeState, queue: QueueState, task_id: str, to: str, outcome: str) -> None:
    record = queue.get(task_id)
    assert record is not None
    record.state = "done" if to == "done" else "blocked"
    record.outcome, record.finished_iteration = outcome, state.iteration
    record.digest = file_digest(ctx.layout.workspace / record.file)  # the version verified; later edits are reported
    save_queue(ctx.layout.queue_file, queue)
    ctx.journal.record(f"task_{record.state}", task=task_id, iteration=state.iteration, outcome=outcome)
    ctx.reporter.info(f"task {task_id} {record.state}: {outcome}")


def print_queue(queue: QueueState, out: TextIO) -> None:
    """Every task's outcome, and the audit's, under the run's summary."""
    for line in queue_summary(queue):
        print(f"  {line}", file=out)
