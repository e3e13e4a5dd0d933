"""`merge`: the finished branch into the branch the run started from, refusing (and saying how) rather than
leaving the user's tree half-merged."""

from __future__ import annotations

import time

from codex_self_iter.errors import UserError
from codex_self_iter.state.loop_lock import is_locked
from codex_self_iter.workspace.git_cmd import git, identity_env, ok, out
from codex_self_iter.workspace.runs import Repo, WorktreeRun
from codex_self_iter.workspace.worktree import uncommitted, worktree_dirty


class MergeConflict(UserError):
    """The branches conflict; nothing was changed."""

    exit_code = 2


def merge_run(run: WorktreeRun, repo: Repo, exclude: str | None) -> str:
    """Merge run.branch into the checked-out start branch; returns the merge commit (or HEAD if nothing to do)."""
    if is_locked(run.lock_file):
        raise UserError(
            f"{run.branch}: its loop is still running; stop it first (`codex-self-iter stop --run {run.id}`)"
        )
    by_hand = f"git switch {run.start_branch or run.start_commit[:12]} && git merge {run.branch}"
    if run.start_branch and repo.branch != run.start_branch:
        raise UserError(
            f"{repo.toplevel}: on {repo.branch or 'a detached HEAD'}, but the run started from {run.start_branch}; "
            f"switch back first, or merge by hand: {by_hand}"
        )
    dirty = uncommitted(repo, exclude)
    if dirty:
        raise UserError(
            f"{repo.toplevel}: {len(dirty)} uncommitted change(s) ({', '.join(dirty[:3])}); merge needs a clean tree: "
            f"commit or stash them, then `codex-self-iter merge --run {run.id}` (or by hand: git merge {run.branch})"
        )
    if worktree_dirty(run):
        print(f"codex-self-iter: warning: {run.worktree} has changes not committed on {run.branch}; they stay there")
    if ok(repo.toplevel, "merge-base", "--is-ancestor", run.branch, "HEAD"):
        _mark_merged(run)
        return repo.head
    trial = git(repo.toplevel, "merge-tree", "--write-tree", "--name-only", "HEAD", run.branch, check=False)
    if trial.returncode == 1:
        names = trial.stdout.split("\n\n", 1)[0].splitlines()[1:]  # tree id, then the conflicted paths
        files = [name for name in names if name.strip()]
        shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
        raise MergeConflict(
            f"{run.branch} conflicts with {repo.branch or 'HEAD'} in {shown or 'some files'}; nothing was changed. "
            f"To finish by hand: git merge {run.branch}, resolve the conflicts, git add <files>, git commit"
        )
    message = f"Merge {run.branch}\n\nThe codex-self-iter run {run.id}, started from {run.start_commit[:12]}.\n"
    git(repo.toplevel, "merge", "--no-ff", "--no-edit", "-m", message, run.branch, env=identity_env(repo.toplevel))
    _mark_merged(run)
    return out(repo.toplevel, "rev-parse", "HEAD")


def _mark_merged(run: WorktreeRun) -> None:
    run.merged_at = time.time()
    run.save()
