"""Checkpoints: the loop commits the worktree after every executor turn that changed files, one commit per
iteration, with trailers for the executor's outcome and the check result; and keeps the loop state of each
checkpoint so `rollback --to N` can put both back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_self_iter.state.fsio import atomic_write_json, read_json
from codex_self_iter.state.retention import SNAPSHOT_DIR
from codex_self_iter.workspace.git_cmd import git, identity_env, out
from codex_self_iter.workspace.runs import WorktreeRun

ITERATION_TRAILER = "Codex-Self-Iter-Iteration"
EXECUTOR_TRAILER = "Codex-Self-Iter-Executor"
CHECKS_TRAILER = "Codex-Self-Iter-Checks"
SUBJECT_GOAL_CHARS = 72


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint commit on the run's branch."""

    iteration: int
    commit: str
    subject: str


def commit_message(iteration: int, goal: str, status: str, checks: str, summary: str = "") -> str:
    """`iteration N: <goal>`, the full goal and summary, then the trailers."""
    flat = " ".join(goal.split()) or "(no goal)"
    subject = flat if len(flat) <= SUBJECT_GOAL_CHARS else flat[: SUBJECT_GOAL_CHARS - 1].rstrip() + "…"
    body = [f"iteration {iteration}: {subject}", ""]
    if subject != flat:
        body += [f"Goal: {flat}", ""]
    if summary.strip():
        body += [" ".join(summary.split())[:2000], ""]
    body += [f"{ITERATION_TRAILER}: {iteration}", f"{EXECUTOR_TRAILER}: {status}", f"{CHECKS_TRAILER}: {checks}"]
    return "\n".join(body) + "\n"


class Checkpoints:
    """The checkpoint commits and loop-state snapshots of one worktree run."""

    def __init__(self, run: WorktreeRun) -> None:
        self.run = run
        self.tree = Path(run.worktree)
        self.snapshots = Path(run.state_dir) / SNAPSHOT_DIR
        self.env = identity_env(self.tree)
        self.last_committed: int | None = None

    @property
    def ref(self) -> str:
        """The branch's full ref name."""
        return f"refs/heads/{self.run.branch}"

    @property
    def diff_range(self) -> str:
        """`base..branch`: everything the run has committed (what the reviewer sees)."""
        return f"{self.run.base}..{self.run.branch}"

    def commit(self, iteration: int, goal: str, status: str, checks: str, summary: str = "") -> str | None:
        """Commit everything in the worktree as iteration N's checkpoint; None when nothing differs.

        A re-run of iteration N (after a crash) replaces N's checkpoint instead of adding a second one."""
        git(self.tree, "add", "-A", "--", ".", env=self.env)
        tree = out(self.tree, "write-tree")
        tip = out(self.tree, "rev-parse", "--verify", self.ref)
        parent = tip
        if tip != self.run.base and _trailer_iteration(self.tree, tip) == iteration:
            parent = out(self.tree, "rev-parse", f"{tip}^")
        if parent == tip and out(self.tree, "rev-parse", f"{tip}^{{tree}}") == tree and self._is_checkpoint(tip):
            return None
        message = commit_message(iteration, goal, status, checks, summary)
        commit = git(self.tree, "commit-tree", tree, "-p", parent, "-F", "-", env=self.env, stdin=message).stdout
        commit = commit.strip()
        git(self.tree, "update-ref", "-m", f"codex-self-iter: iteration {iteration}", self.ref, commit, tip)
        if git(self.tree, "symbolic-ref", "-q", "HEAD", check=False).stdout.strip() != self.ref:
            git(self.tree, "symbolic-ref", "HEAD", self.ref)  # the agent switched branches: back to the run's
            git(self.tree, "reset", "-q", "--mixed", commit)
        self.last_committed = iteration
        return commit

    def _is_checkpoint(self, commit: str) -> bool:
        return commit == self.run.base or _trailer_iteration(self.tree, commit) is not None

    def remember(self, iteration: int, state: dict[str, Any]) -> None:
        """Keep the loop state as it is after a checkpointed iteration (what rollback restores)."""
        if self.last_committed == iteration:
            atomic_write_json(self.snapshots / f"{iteration:05d}.json", state)


def list_checkpoints(run: WorktreeRun) -> list[Checkpoint]:
    """The run's checkpoint commits on its branch since base, oldest first."""
    fmt = f"%H%x1f%s%x1f%(trailers:key={ITERATION_TRAILER},valueonly,separator=%x2c)%x1e"
    done = git(Path(run.repo), "log", "--first-parent", f"--format={fmt}", f"{run.base}..{run.branch}", check=False)
    found: list[Checkpoint] = []
    for record in done.stdout.split("\x1e"):
        parts = record.strip("\n").split("\x1f")
        if len(parts) == 3 and parts[2].strip().isdigit():
            found.append(Checkpoint(int(parts[2].strip()), parts[0], parts[1]))
    return list(reversed(found))


def load_snapshot(run: WorktreeRun, iteration: int) -> dict[str, Any] | None:
    """The loop state saved after checkpoint N, if it is still kept."""
    data = read_json(Path(run.state_dir) / SNAPSHOT_DIR / f"{iteration:05d}.json")
    return data if isinstance(data, dict) else None


def _trailer_iteration(cwd: Path, commit: str) -> int | None:
    value = out(cwd, "log", "-1", f"--format=%(trailers:key={ITERATION_TRAILER},valueonly)", commit)
    return int(value) if value.strip().isdigit() else None
