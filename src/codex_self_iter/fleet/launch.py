"""Starting one loop of a fleet as its own OS process, on its own branch in its own git worktree."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import tomli_w

from codex_self_iter.commands.stop import write_stop_file
from codex_self_iter.config import load_config
from codex_self_iter.errors import UserError
from codex_self_iter.fleet.record import FleetRecord, LoopRecord
from codex_self_iter.options import DEFAULT_CONFIG_NAME
from codex_self_iter.state.fsio import PRIVATE_FILE_MODE, atomic_write_text, make_private_dir
from codex_self_iter.state.layout import Layout
from codex_self_iter.workspace.git import run_git

BRANCH_PREFIX = "codex-self-iter/fleet-"
NO_QUEUE = ".codex-self-iter-fleet-single-task"  # a tasks_dir that does not exist: `run` takes --task-file alone


def loop_dir(fleet_dir: Path, loop: LoopRecord) -> Path:
    """Everything the fleet keeps of one loop: its output log, and its worktree and state dir."""
    return fleet_dir / "loops" / loop.id


def place(fleet_dir: Path, fleet: FleetRecord, loop: LoopRecord) -> None:
    """Fix where the loop lives (once): a worktree on a new branch, a state dir, a log — all outside the repo."""
    if loop.workspace:
        return
    home = loop_dir(fleet_dir, loop)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(fleet.created_at))
    loop.branch = f"{BRANCH_PREFIX}{stamp}-{loop.id}"
    loop.workspace = str(home / "worktree")
    loop.state_dir = str(home / "state")
    loop.log = str(home / "output.log")


def ensure_worktree(loop: LoopRecord) -> None:
    """Create the loop's worktree and branch from the repository's HEAD unless a previous start did."""
    workspace = Path(loop.workspace)
    if (workspace / ".git").exists():
        return
    make_private_dir(workspace.parent)
    done = run_git(Path(loop.repo), ["worktree", "add", "--quiet", "-b", loop.branch, str(workspace), "HEAD"])
    if done.code != 0:
        raise UserError(f"{loop.repo}: cannot create the worktree for {loop.id}: {done.error()}")


def loop_argv(fleet_dir: Path, fleet: FleetRecord, loop: LoopRecord) -> list[str]:
    """`python -m codex_self_iter run` for this loop: its workspace, state dir, task and the fleet's options."""
    argv = [sys.executable, "-m", "codex_self_iter", "run", "--workspace", loop.workspace]
    argv += ["--state-dir", loop.state_dir, "--clear-stop"]  # a STOP the fleet wrote earlier does not count now
    options = fleet.options
    config = options.config
    if loop.task:
        argv += ["--task-file", loop.task]
        config = str(single_task_config(fleet_dir, loop, config))
    if config:
        argv += ["--config", config]
    if options.agent_command_template:
        argv += ["--agent-command-template", options.agent_command_template]
    if options.max_iterations is not None:
        argv += ["--max-iterations", str(options.max_iterations)]
    return argv


def single_task_config(fleet_dir: Path, loop: LoopRecord, config: str | None) -> Path:
    """The loop's config with the task queue off, so `run` works on the one task file this loop was given."""
    source = Path(config) if config else Path(loop.workspace) / DEFAULT_CONFIG_NAME
    table = {**load_config(source if source.is_file() else None), "tasks_dir": NO_QUEUE}
    path = loop_dir(fleet_dir, loop) / "config.toml"
    atomic_write_text(path, tomli_w.dumps(table))
    return path


def start(fleet_dir: Path, fleet: FleetRecord, loop: LoopRecord) -> subprocess.Popen[bytes]:
    """Start the loop in its own session (a terminal's Ctrl-C reaches the fleet, which stops the loops)."""
    place(fleet_dir, fleet, loop)
    ensure_worktree(loop)
    log_path = Path(loop.log)
    make_private_dir(log_path.parent)
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "ab") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} fleet start {loop.starts + 1}\n".encode())
        log.flush()
        return subprocess.Popen(
            loop_argv(fleet_dir, fleet, loop),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=loop.workspace,
        )


def ask_to_stop(loop: LoopRecord, reason: str) -> None:
    """Write the loop's own STOP sentinel: it stops before its next agent call (exit 5), its state kept."""
    if loop.state_dir:
        with contextlib.suppress(UserError):
            write_stop_file(Layout.create(Path(loop.workspace), "TASK.md", "plan.md", loop.state_dir), reason)


def commit_work(loop: LoopRecord) -> str | None:
    """Commit what the loop left in its worktree onto its branch; the commit, or None when nothing changed."""
    workspace = loop.workspace
    if not workspace or not (Path(workspace) / ".git").exists() or not _git(workspace, "status", "--porcelain"):
        return None
    identity: list[str] = []
    if not _git(workspace, "config", "user.email"):
        identity = ["-c", "user.name=codex-self-iter", "-c", "user.email=codex-self-iter@localhost"]
    _git(workspace, "add", "-A")
    message = f"codex-self-iter fleet: {loop.id} {loop.state} ({loop.stop_reason or 'no stop reason'})"
    _git(workspace, *identity, "commit", "--quiet", "--no-verify", "-m", message)
    return _git(workspace, "rev-parse", "HEAD") or None


def _git(workspace: str, *args: str) -> str:
    done = run_git(Path(workspace), list(args))
    return done.text().strip() if done.code == 0 else ""
