"""`cleanup`: what can go (finished runs' worktrees, merged branches, old iteration files), as a plan first."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from codex_self_iter.state.fsio import read_json
from codex_self_iter.state.layout import Layout, workspace_private_dir
from codex_self_iter.state.loop_lock import is_locked
from codex_self_iter.state.retention import prunable, prune
from codex_self_iter.workspace.git_cmd import git, ok
from codex_self_iter.workspace.runs import Repo, WorktreeRun, age_days, list_runs
from codex_self_iter.workspace.worktree import remove_worktree, worktree_dirty


@dataclass(frozen=True)
class Action:
    """One thing cleanup would do."""

    text: str
    do: Callable[[], object]


@dataclass
class CleanupPlan:
    """The actions, and why the rest is kept."""

    actions: list[Action] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CleanupRequest:
    """cleanup's options."""

    keep: int = 0  # the newest N finished runs are left alone
    older_than_days: float = 0.0
    delete_unmerged: bool = False
    keep_runs: int = 50


def plan_cleanup(repo: Repo, request: CleanupRequest, layouts: list[Layout], now: float) -> CleanupPlan:
    """Everything cleanup would remove, and what it keeps and why (nothing is touched here)."""
    plan = CleanupPlan()
    finished = 0
    for run in reversed(list_runs(repo)):
        why = _busy(run)
        if why:
            plan.kept.append(f"{run.id}: kept ({why})")
            continue
        finished += 1
        if finished <= request.keep:
            plan.kept.append(f"{run.id}: kept (one of the newest {request.keep})")
            continue
        if age_days(run, now) < request.older_than_days:
            plan.kept.append(f"{run.id}: kept (younger than {request.older_than_days:g} days)")
            continue
        _plan_run(run, request, plan)
    for layout in layouts:
        old = prunable(layout, request.keep_runs)
        if old:
            keep = request.keep_runs
            plan.actions.append(
                Action(f"prune {len(old)} old iteration file(s) in {layout.state_dir}", _pruner(layout, keep))
            )
    return plan


def _busy(run: WorktreeRun) -> str:
    if is_locked(run.lock_file):
        return "its loop is running"
    runtime = read_json(Path(run.state_dir) / "runtime.json")
    if run.merged_at is None and isinstance(runtime, dict) and not runtime.get("clean_exit", True):
        return "unfinished: `run --worktree` continues it"
    return ""


def _plan_run(run: WorktreeRun, request: CleanupRequest, plan: CleanupPlan) -> None:
    repo = Path(run.repo)
    tree = Path(run.worktree)
    if tree.exists():
        if worktree_dirty(run):
            plan.kept.append(f"{run.id}: worktree kept ({tree} has changes not committed on {run.branch})")
            return
        plan.actions.append(Action(f"remove worktree {tree}", lambda: remove_worktree(run)))
    has_branch = ok(repo, "show-ref", "--verify", "-q", f"refs/heads/{run.branch}")
    merged = run.merged_at is not None or (
        run.start_branch is not None and ok(repo, "merge-base", "--is-ancestor", run.branch, run.start_branch)
    )
    if has_branch and not merged and not request.delete_unmerged:
        plan.kept.append(f"{run.id}: branch {run.branch} kept (not merged; --delete-unmerged deletes it)")
        return
    if has_branch:
        flag = "-d" if merged else "-D"
        label = "merged" if merged else "NOT merged"
        plan.actions.append(
            Action(f"delete branch {run.branch} ({label})", lambda: git(repo, "branch", flag, run.branch))
        )
    private = run.lock_file.parent  # its lock, snapshot, agent and config records, outside the repository
    plan.actions.append(
        Action(f"remove state dir {run.state_dir} and its private state {private}", lambda: _remove_state(run))
    )


def _remove_state(run: WorktreeRun) -> None:
    shutil.rmtree(run.state_dir)
    for private in (run.lock_file.parent, workspace_private_dir(run.workspace)):
        shutil.rmtree(private, ignore_errors=True)


def _pruner(layout: Layout, keep: int) -> Callable[[], object]:
    return lambda: prune(layout, keep)
