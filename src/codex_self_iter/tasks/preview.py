"""What the task queue would run next, for `run --dry-run`: read-only (the queue is reconciled in memory only)."""

from __future__ import annotations

from dataclasses import dataclass

from codex_self_iter.loop.context import LoopContext
from codex_self_iter.state.runtime import RuntimeState
from codex_self_iter.tasks.episode import episode_context
from codex_self_iter.tasks.files import scan_tasks
from codex_self_iter.tasks.queue import QueueState, read_queue
from codex_self_iter.tasks.recover import replay


@dataclass(frozen=True)
class QueuedCall:
    """The next task's context (None: the final audit is next) and a line saying which task it is."""

    ctx: LoopContext | None
    line: str


def next_in_queue(ctx: LoopContext, state: RuntimeState) -> QueuedCall | None:
    """None without a task queue; else the task the next call works on, with state set up as its episode starts."""
    files = scan_tasks(ctx.layout.workspace / ctx.settings.tasks_dir, ctx.layout.workspace)
    if files is None:
        return None
    queue = read_queue(ctx.layout.queue_file)
    if queue is None and ctx.layout.queue_file.exists():  # corrupt: what `run` would rebuild from the journal
        queue, _ = replay(ctx.layout.journal, files, ctx.layout.workspace)
    queue = queue or QueueState()
    queue.reconcile(files, ctx.layout.workspace, state.iteration)
    record = queue.next_task(set())
    if record is None:
        return QueuedCall(None, "every task is done: `run` would start the final audit of the whole task file")
    if state.task != record.id or record.state != "in_progress":
        state.goal, state.task_hash, state.replan_reason, state.baseline = None, None, None, None
        record.started_iteration = state.iteration
    task = next(t for t in files if t.id == record.id)
    done = sum(t.state == "done" for t in queue.tasks)
    total = sum(t.state != "removed" for t in queue.tasks)
    line = f"{record.id} {record.title} ({record.file}; {done}/{total} tasks done)"
    return QueuedCall(episode_context(ctx, state, record, task), line)
