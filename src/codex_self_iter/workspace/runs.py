"""The record of worktree runs: where each run's checkout, branch and state dir live, and which one a command means.

Everything of a worktree run lives under the repository's git dir, `<git-common-dir>/codex-self-iter/`:
`worktrees/<id>/` is the checkout (on branch `codex-self-iter/<id>`) and `state/<id>/` is the loop's state dir,
with `worktree.json` (this record). The user's working tree gets no new file, and the sandboxed agent, whose
writable root is its checkout, cannot reach the loop's state.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from codex_self_iter.errors import UserError
from codex_self_iter.state.fsio import atomic_write_json, read_json
from codex_self_iter.state.layout import private_dir_for, state_dir_path
from codex_self_iter.workspace.git_cmd import git

BRANCH_PREFIX = "codex-self-iter/"
RUNS_DIR = "codex-self-iter"
RECORD_NAME = "worktree.json"


class WorktreeRun(BaseModel):
    """One isolated run: its branch, checkout, state dir and where it started from."""

    model_config = ConfigDict(extra="ignore")

    version: int = 1
    id: str
    branch: str
    worktree: str
    state_dir: str
    repo: str
    subdir: str = ""
    start_branch: str | None = None
    start_commit: str
    base: str
    carried_uncommitted: bool = False
    created_at: float
    merged_at: float | None = None

    @property
    def workspace(self) -> Path:
        """The loop's workspace inside the checkout (the same subdirectory the user ran from)."""
        return Path(self.worktree) / self.subdir if self.subdir else Path(self.worktree)

    @property
    def lock_file(self) -> Path:
        """The run's loop lock: in private state outside the repository, where its loop's Layout puts it."""
        return private_dir_for(state_dir_path(self.workspace, self.state_dir)) / "loop.lock"

    @property
    def record_file(self) -> Path:
        """Where this record is kept."""
        return Path(self.state_dir) / RECORD_NAME

    def save(self) -> None:
        """Write the record atomically."""
        atomic_write_json(self.record_file, self.model_dump(mode="json"), durable=True)


@dataclass(frozen=True)
class Repo:
    """The user's repository as it is now."""

    toplevel: Path
    common_dir: Path
    head: str
    branch: str | None

    @property
    def runs_root(self) -> Path:
        """`<git-common-dir>/codex-self-iter`."""
        return self.common_dir / RUNS_DIR


def open_repo(workspace: Path) -> Repo:
    """The repository the workspace is in, with a commit to branch from; a clear error otherwise."""
    found = git(workspace, "rev-parse", "--show-toplevel", "--git-common-dir", check=False)
    lines = found.stdout.splitlines()
    if found.returncode != 0 or len(lines) != 2:
        raise UserError(f"{workspace}: not inside a git repository; worktree runs need one (`git init` and commit)")
    toplevel = Path(lines[0]).resolve()
    common = Path(lines[1])
    common = (workspace / common).resolve() if not common.is_absolute() else common.resolve()
    head = git(workspace, "rev-parse", "--verify", "-q", "HEAD^{commit}", check=False)
    if head.returncode != 0:
        raise UserError(f"{toplevel}: the repository has no commit yet; commit once, then start a worktree run")
    branch = git(workspace, "symbolic-ref", "-q", "--short", "HEAD", check=False).stdout.strip() or None
    return Repo(toplevel, common, head.stdout.strip(), branch)


def load_run(state_dir: Path) -> WorktreeRun | None:
    """The record in a run's state dir, or None when missing or unreadable."""
    data = read_json(state_dir / RECORD_NAME)
    if not isinstance(data, dict):
        return None
    try:
        return WorktreeRun.model_validate(data)
    except ValidationError:
        return None


def list_runs(repo: Repo) -> list[WorktreeRun]:
    """Every recorded run of the repository, oldest first."""
    root = repo.runs_root / "state"
    if not root.is_dir():
        return []
    runs = [run for entry in sorted(root.iterdir()) if (run := load_run(entry)) is not None]
    return sorted(runs, key=lambda run: (run.created_at, run.id))


def find_run(repo: Repo, name: str) -> WorktreeRun:
    """The run called name (its id or its branch); a clear error naming the known ones otherwise."""
    runs = list_runs(repo)
    for run in runs:
        if name in (run.id, run.branch, run.worktree):
            return run
    known = ", ".join(run.id for run in runs[-5:]) or "none yet"
    raise UserError(f"{name}: no such worktree run in {repo.toplevel} (recent runs: {known}); see `status --runs`")


def run_for_path(repo: Repo, path: Path) -> WorktreeRun | None:
    """The run whose checkout contains path (a command started inside a worktree), if any."""
    resolved = path.resolve()
    for run in list_runs(repo):
        if resolved == Path(run.worktree) or Path(run.worktree) in resolved.parents:
            return run
    return None


def age_days(run: WorktreeRun, now: float | None = None) -> float:
    """Days since the run was created."""
    return max(0.0, ((now if now is not None else time.time()) - run.created_at) / 86400)
