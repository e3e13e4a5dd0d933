"""Git worktrees for isolated runs: a new branch from HEAD, uncommitted changes carried over or refused."""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path

from codex_self_iter.errors import UserError
from codex_self_iter.state.fsio import make_private_dir
from codex_self_iter.workspace.git_cmd import GitError, git, identity_env, ok, out
from codex_self_iter.workspace.runs import BRANCH_PREFIX, Repo, WorktreeRun

SLUG_WORDS = 6
SLUG_CHARS = 40
MAX_NAME_TRIES = 50
GENERIC_HEADINGS = {"task", "tasks", "objective", "goal", "todo", "plan"}


def slug_from(task_text: str) -> str:
    """A short branch-safe slug from the task's first meaningful line ('run' when there is none)."""
    lines = [line.strip() for line in task_text.splitlines() if line.strip()]
    heading = next((line.lstrip("#").strip() for line in lines if line.startswith("#")), "")
    text = next((line for line in lines if not line.startswith("#")), "")
    if heading and heading.lower() not in GENERIC_HEADINGS:
        text = heading
    words = re.findall(r"[a-z0-9]+", text.lower())[:SLUG_WORDS]
    return "-".join(words)[:SLUG_CHARS].strip("-") or "run"


def uncommitted(repo: Repo, exclude: str | None) -> list[str]:
    """Paths with changes not in HEAD (tracked edits, staged or not, and untracked files), state dir excluded."""
    spec = ["--", "."] + ([f":(exclude){exclude}"] if exclude else [])
    done = git(repo.toplevel, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--ignore-submodules", *spec)
    entries = [entry for entry in done.stdout.split("\0") if entry]
    paths: list[str] = []
    skip = False
    for entry in entries:
        if skip:  # the original path of a rename
            skip = False
            continue
        paths.append(entry[3:])
        skip = entry[0] in "RC"
    return paths


def refuse_dirty(paths: list[str], repo: Repo) -> None:
    """The one-line refusal for a dirty tree."""
    shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
    raise UserError(
        f"{repo.toplevel}: {len(paths)} uncommitted change(s) ({shown}) would not be on the run's branch; "
        "commit or stash them first, or run again with --include-uncommitted to carry them over"
    )


def carry_commit(repo: Repo, exclude: str | None) -> str:
    """A commit on top of HEAD holding the working tree as it is, made through a temporary index.

    The user's index, HEAD, stash and files are not touched: only new objects are written."""
    spec = ["--", "."] + ([f":(exclude){exclude}"] if exclude else [])
    with tempfile.TemporaryDirectory(prefix="codex-self-iter-index-") as scratch:
        env = {"GIT_INDEX_FILE": str(Path(scratch) / "index"), **identity_env(repo.toplevel)}
        git(repo.toplevel, "read-tree", repo.head, env=env)
        git(repo.toplevel, "add", "-A", *spec, env=env)
        tree = out(repo.toplevel, "write-tree", env=env)
        message = f"uncommitted changes carried over from {repo.branch or repo.head[:12]}\n"
        return out(repo.toplevel, "commit-tree", tree, "-p", repo.head, "-m", message, env=env)


def create_run(repo: Repo, subdir: str, slug: str, start: str, carried: bool, now: float | None = None) -> WorktreeRun:
    """Claim a fresh id, create its state dir and a worktree on branch codex-self-iter/<id> at commit start."""
    now = time.time() if now is None else now
    make_private_dir(repo.runs_root / "state")
    (repo.runs_root / "worktrees").mkdir(parents=True, exist_ok=True)
    for run_id in _run_ids(slug, now):
        run = _new_run(repo, run_id, subdir, start, carried, now)
        try:
            os.mkdir(run.state_dir, 0o700)  # the claim: atomic, so two runs starting together get distinct ids
        except FileExistsError:
            continue
        if _branch_exists(repo, run.branch):
            continue  # a branch of that name exists (e.g. its run was cleaned up): keep it, take the next name
        try:
            git(repo.toplevel, "worktree", "add", "--quiet", "--no-track", "-b", run.branch, run.worktree, start)
        except GitError:
            if _branch_exists(repo, run.branch):
                continue  # another process took the branch name between our check and our add
            raise
        run.save()
        return run
    raise UserError(f"{repo.runs_root}: no free run name for {slug!r}; remove old runs with `cleanup --apply`")


def planned_run(repo: Repo, subdir: str, slug: str, carried: bool, now: float | None = None) -> WorktreeRun:
    """The run create_run would make now, named and placed the same way; nothing is claimed or created."""
    now = time.time() if now is None else now
    for run_id in _run_ids(slug, now):
        run = _new_run(repo, run_id, subdir, repo.head, carried, now)
        if not os.path.lexists(run.state_dir) and not _branch_exists(repo, run.branch):
            return run
    raise UserError(f"{repo.runs_root}: no free run name for {slug!r}; remove old runs with `cleanup --apply`")


def _run_ids(slug: str, now: float) -> list[str]:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return [f"{slug}-{stamp}" + (f"-{attempt}" if attempt > 1 else "") for attempt in range(1, MAX_NAME_TRIES + 1)]


def _new_run(repo: Repo, run_id: str, subdir: str, start: str, carried: bool, now: float) -> WorktreeRun:
    return WorktreeRun(
        id=run_id,
        branch=BRANCH_PREFIX + run_id,
        worktree=str(repo.runs_root / "worktrees" / run_id),
        state_dir=str(repo.runs_root / "state" / run_id),
        repo=str(repo.toplevel),
        subdir=subdir,
        start_branch=repo.branch,
        start_commit=repo.head,
        base=start,
        carried_uncommitted=carried,
        created_at=now,
    )


def _branch_exists(repo: Repo, branch: str) -> bool:
    return ok(repo.toplevel, "show-ref", "--verify", "-q", f"refs/heads/{branch}")


def ensure_worktree(run: WorktreeRun) -> None:
    """Re-create a run's checkout from its branch when it was removed (e.g. by cleanup), so the run can go on."""
    if (Path(run.worktree) / ".git").exists():
        return
    repo = Path(run.repo)
    if not ok(repo, "show-ref", "--verify", "-q", f"refs/heads/{run.branch}"):
        raise UserError(f"{run.branch}: the run's branch is gone; start a new run with `run --worktree --fresh`")
    git(repo, "worktree", "prune")
    git(repo, "worktree", "add", "--quiet", run.worktree, run.branch)


def worktree_dirty(run: WorktreeRun) -> bool:
    """True when the checkout has changes that are not on the branch."""
    if not Path(run.worktree).is_dir():
        return False
    return bool(git(Path(run.worktree), "status", "--porcelain", "--untracked-files=all").stdout.strip())


def remove_worktree(run: WorktreeRun) -> None:
    """Remove the checkout (the branch stays)."""
    repo = Path(run.repo)
    if Path(run.worktree).exists():
        git(repo, "worktree", "remove", "--force", run.worktree)
    git(repo, "worktree", "prune")


def git_writable_roots(run: WorktreeRun, repo: Repo) -> list[str]:
    """What `.git` in codex.writable_roots means in a worktree: its own git dir, the object store and the
    ref dirs of loop branches; never the user's HEAD, index, other refs or stash."""
    common = repo.common_dir
    gitdir = common / "worktrees" / Path(run.worktree).name  # git's admin dir, named after the checkout
    pointer = Path(run.worktree) / ".git"
    if pointer.is_file():  # `gitdir: <path>` says exactly where it is (git adds a number on a name clash)
        text = pointer.read_text(encoding="utf-8", errors="replace").strip()
        if text.startswith("gitdir: "):
            gitdir = Path(text[len("gitdir: ") :])
    prefix = BRANCH_PREFIX.rstrip("/")
    return [str(gitdir), str(common / "objects"), str(common / "refs" / "heads" / prefix),
            str(common / "logs" / "refs" / "heads" / prefix)]  # fmt: skip


def translate_roots(roots: list[str], user_workspace: Path, run: WorktreeRun, repo: Repo) -> list[str]:
    """codex.writable_roots for a worktree run: `.git` mapped as above, other relative roots kept pointing
    where they pointed from the user's workspace."""
    translated: list[str] = []
    for root in roots:
        path = Path(root)
        target = path if path.is_absolute() else user_workspace / path
        if os.path.normpath(target) == os.path.normpath(repo.toplevel / ".git") or path.parts[:1] == (".git",):
            translated += [r for r in git_writable_roots(run, repo) if r not in translated]
        else:
            translated.append(str(target))
    return translated
