"""`run --worktree`: pick the run to continue or create a new one, and point the loop's layout at it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from codex_self_iter.options import Prepared
from codex_self_iter.state.fsio import read_json
from codex_self_iter.state.layout import LAYOUT_KEYS, Layout
from codex_self_iter.state.loop_lock import is_locked
from codex_self_iter.workspace.inputs import read_inputs
from codex_self_iter.workspace.runs import Repo, WorktreeRun, find_run, list_runs, open_repo
from codex_self_iter.workspace.worktree import (
    carry_commit,
    create_run,
    ensure_worktree,
    planned_run,
    refuse_dirty,
    slug_from,
    translate_roots,
    uncommitted,
)


@dataclass(frozen=True)
class IsolationRequest:
    """What the command line asks of a worktree run."""

    include_uncommitted: bool = False
    new: bool = False  # --fresh: a new run even when one could be continued
    run_name: str | None = None


def isolate(prepared: Prepared, request: IsolationRequest, create: bool = True) -> Prepared:
    """The Prepared of the worktree run to use (continued or new). With create off (a dry run) a new run is only
    planned: named and placed as it would be, its worktree and state dir not created (Prepared.planned)."""
    user = prepared.layout
    repo = open_repo(user.workspace)
    subdir = _relative(user.workspace, repo.toplevel) or ""
    exclude = _relative(user.state_dir, repo.toplevel)
    run: WorktreeRun | None = None
    if request.run_name:
        run = find_run(repo, request.run_name)
    elif not request.new:
        run = resumable(repo, subdir)
    if run is None:
        dirty = uncommitted(repo, exclude)
        if dirty and not request.include_uncommitted:
            refuse_dirty(dirty, repo)
        slug = slug_from(read_inputs(user).task)
        if not create:
            planned = worktree_prepared(prepared, planned_run(repo, subdir, slug, carried=bool(dirty)), repo)
            return replace(planned, planned_from=user)
        start = carry_commit(repo, exclude) if dirty else repo.head
        run = create_run(repo, subdir, slug, start, carried=bool(dirty))
    ensure_worktree(run)
    return worktree_prepared(prepared, run, repo)


def worktree_prepared(prepared: Prepared, run: WorktreeRun, repo: Repo) -> Prepared:
    """The loop's settings and layout inside the run: workspace = the checkout, state dir = the run's."""
    settings, user = prepared.settings, prepared.layout
    names = {**settings.model_dump(include=set(LAYOUT_KEYS)), "state_dir": run.state_dir}
    layout = Layout.from_names(run.workspace, names)
    # The user's own `.codex-stop` stops worktree runs too; the agent cannot write it from its checkout.
    layout = replace(layout, global_stop_file=user.global_stop_file)
    codex = settings.codex
    if codex.writable_roots:
        roots = translate_roots(codex.writable_roots, user.workspace, run, repo)
        settings = settings.model_copy(update={"codex": codex.model_copy(update={"writable_roots": roots})})
    return replace(prepared, settings=settings, layout=layout, worktree=run)


def resumable(repo: Repo, subdir: str) -> WorktreeRun | None:
    """The newest run started from where the user is now that is unfinished and not running."""
    for run in reversed(list_runs(repo)):
        if run.merged_at or run.start_commit != repo.head or run.start_branch != repo.branch or run.subdir != subdir:
            continue
        runtime = read_json(Path(run.state_dir) / "runtime.json")
        if not isinstance(runtime, dict) or runtime.get("completed"):
            continue
        if is_locked(run.lock_file):
            continue
        return run
    return None


def _relative(path: Path, root: Path) -> str | None:
    try:
        relative = path.resolve().relative_to(root)
    except ValueError:
        return None
    return "" if str(relative) == "." else relative.as_posix()
