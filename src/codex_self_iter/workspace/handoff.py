"""What a worktree run hands back: its branch, what changed (`git diff --stat`), and how to review and merge."""

from __future__ import annotations

import shlex
from pathlib import Path

from codex_self_iter.workspace.checkpoint import list_checkpoints
from codex_self_iter.workspace.git_cmd import git
from codex_self_iter.workspace.runs import WorktreeRun

STAT_LINES = 12


def diff_stat(run: WorktreeRun) -> list[str]:
    """`git diff --stat base..branch`, at most STAT_LINES lines (the total line always kept)."""
    done = git(Path(run.repo), "diff", "--stat=100", "--no-color", f"{run.base}..{run.branch}", check=False)
    lines = [line.rstrip() for line in done.stdout.splitlines() if line.strip()]
    if not lines:
        return ["(no changes committed on the branch yet)"]
    if len(lines) > STAT_LINES:
        lines = [*lines[: STAT_LINES - 2], f" ... {len(lines) - STAT_LINES + 1} more file(s)", lines[-1]]
    return lines


def handoff_lines(run: WorktreeRun) -> list[str]:
    """The branch, checkpoints, diff stat and the review/merge commands, for the end-of-run summary."""
    count = len(list_checkpoints(run))
    start = run.start_branch or run.start_commit[:12]
    name = shlex.quote(run.id)
    lines = [
        f"branch: {run.branch} ({count} checkpoint commit(s) on top of {start} @ {run.base[:12]})",
        f"worktree: {run.worktree}",
    ]
    lines += [f"  {line}" for line in diff_stat(run)]
    lines.append(f"review: codex-self-iter diff --run {name}   (or: git diff {run.base[:12]}..{run.branch})")
    target = f" into {run.start_branch}" if run.start_branch else ""
    lines.append(f"merge{target}: codex-self-iter merge --run {name}   (or: git merge {run.branch})")
    return lines
