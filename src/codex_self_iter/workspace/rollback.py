"""`rollback --to N`: the run's branch and worktree back to checkpoint N, and the loop's state with them."""

from __future__ import annotations

import time
from pathlib import Path

from codex_self_iter.errors import UserError
from codex_self_iter.outcome import StopReason
from codex_self_iter.state.fsio import atomic_write_json
from codex_self_iter.state.journal import Journal
from codex_self_iter.state.layout import Layout
from codex_self_iter.state.loop_lock import loop_locks
from codex_self_iter.state.retention import later_than, remove_entry
from codex_self_iter.state.runtime import RuntimeState, load_runtime, save_runtime
from codex_self_iter.state.snapshot import read_snapshot
from codex_self_iter.workspace.checkpoint import Checkpoint, list_checkpoints, load_snapshot
from codex_self_iter.workspace.git_cmd import git, out
from codex_self_iter.workspace.runs import WorktreeRun


def rollback(run: WorktreeRun, layout: Layout, to: int) -> tuple[Checkpoint, str]:
    """Reset the branch to checkpoint `to` and restore the loop state saved there; returns it and the old tip."""
    with loop_locks(layout):  # exit 4 while a loop runs this worktree
        checkpoints = list_checkpoints(run)
        target = next((cp for cp in checkpoints if cp.iteration == to), None)
        if target is None:
            known = ", ".join(str(cp.iteration) for cp in checkpoints) or "none yet"
            raise UserError(f"{run.branch}: no checkpoint for iteration {to} (checkpoints: {known})")
        tree = Path(run.worktree)
        old_tip = out(tree, "rev-parse", f"refs/heads/{run.branch}")
        git(tree, "reset", "--quiet", "--hard", target.commit)
        git(tree, "clean", "-fdq")  # untracked leftovers of later iterations; ignored files (caches, venvs) stay
        current = load_runtime(layout.runtime_file)
        state = _state_at(run, to, current, [cp for cp in checkpoints if cp.iteration > to])
        save_runtime(layout.runtime_file, state)
        for path in later_than(layout, to):  # the undone iterations' files would mix with the redone ones
            remove_entry(path)
        _mark_status(layout, state, f"rolled back to checkpoint {to} ({target.commit[:12]})")
        Journal(layout.journal, time.time).record(
            "rollback", iteration=to, commit=target.commit, previous_tip=old_tip, branch=run.branch
        )
    return target, old_tip


def _state_at(run: WorktreeRun, to: int, current: RuntimeState, later: list[Checkpoint]) -> RuntimeState:
    saved = load_snapshot(run, to)
    if saved is not None:
        state = RuntimeState.model_validate(saved)
    else:  # pruned by keep_runs: keep the counters, take the goal the next checkpoint worked on
        state = current.model_copy(deep=True)
        state.iteration = to
        if later:
            state.set_goal(_goal_of(run, later[0]))
    state.totals = current.totals  # tokens and time spent stay spent
    state.baseline = current.baseline
    state.config_digest = current.config_digest
    state.backoff_until, state.backoff_reason = 0.0, ""
    state.completed = False
    state.stop_reason = current.stop_reason or StopReason.INTERRUPTED  # a stopped run: `run` continues it
    state.clean_exit = True
    state.run_first_iteration, state.run_first_tokens = to, current.totals.tokens
    return state


def _goal_of(run: WorktreeRun, checkpoint: Checkpoint) -> str:
    message = out(Path(run.repo), "log", "-1", "--format=%B", checkpoint.commit)
    for line in message.splitlines():
        if line.startswith("Goal: "):
            return line[len("Goal: ") :]
    return checkpoint.subject.split(": ", 1)[-1]


def _mark_status(layout: Layout, state: RuntimeState, detail: str) -> None:
    snapshot, _ = read_snapshot(layout.status_file)
    if snapshot is None:
        return
    update = {"iteration": state.iteration, "goal": state.goal, "stop_detail": detail, "updated_at": time.time()}
    atomic_write_json(layout.status_file, snapshot.model_copy(update=update).to_json())
