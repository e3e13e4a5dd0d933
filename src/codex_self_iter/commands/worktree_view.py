"""What `status` and `doctor` say about worktree runs: the run a status is of, whether this workspace can have
them, and how the existing ones stand."""

from __future__ import annotations

from pathlib import Path

from codex_self_iter.agent.types import FAIL, OK, WARN, Finding
from codex_self_iter.errors import UserError
from codex_self_iter.state.fsio import read_json
from codex_self_iter.state.loop_lock import is_locked
from codex_self_iter.workspace.checkpoint import list_checkpoints
from codex_self_iter.workspace.git_cmd import git, ok
from codex_self_iter.workspace.runs import list_runs, load_run, open_repo


def worktree_findings(workspace: Path, isolation: str) -> list[Finding]:
    """A line for isolation = "worktree" (can it work here) and one per existing run."""
    try:
        repo = open_repo(workspace)
    except UserError as exc:
        return [Finding(FAIL, f"worktree runs: {exc}", "")] if isolation == "worktree" else []
    findings: list[Finding] = []
    if isolation == "worktree":
        merge_tree = (
            git(repo.toplevel, "merge-tree", "-h", check=False).stdout
            + git(repo.toplevel, "merge-tree", "-h", check=False).stderr
        )
        level = OK if "--write-tree" in merge_tree else WARN
        fix = "" if level == OK else "git >= 2.38 lets `merge` check for conflicts first; update git"
        findings.append(Finding(level, f"worktree runs: on (branches from {repo.branch or repo.head[:12]})", fix))
    for run in list_runs(repo)[-5:]:
        runtime = read_json(Path(run.state_dir) / "runtime.json")
        state = "running" if is_locked(run.lock_file) else "not running"
        if isinstance(runtime, dict):
            state += f", iteration {runtime.get('iteration', 0)}" + (", complete" if runtime.get("completed") else "")
        if run.merged_at:
            state += ", merged"
        has_branch = ok(repo.toplevel, "show-ref", "--verify", "-q", f"refs/heads/{run.branch}")
        has_tree = (Path(run.worktree) / ".git").exists()
        level = OK if has_branch else WARN
        where = "" if has_tree else " (worktree removed)"
        fix = "" if has_branch else "its branch is gone; `codex-self-iter cleanup --apply` forgets the run"
        findings.append(Finding(level, f"worktree run {run.id}: branch {run.branch}{where}; {state}", fix))
    return findings


def worktree_facts(state_dir: Path) -> dict[str, object] | None:
    """What `status` shows of a worktree run (None for a plain loop)."""
    run = load_run(state_dir)
    if run is None:
        return None
    return {
        "id": run.id,
        "branch": run.branch,
        "worktree": run.worktree,
        "worktree_exists": Path(run.worktree).is_dir(),
        "base": run.base,
        "start_branch": run.start_branch,
        "checkpoints": len(list_checkpoints(run)),
        "merged": run.merged_at is not None,
    }
