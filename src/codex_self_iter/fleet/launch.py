"""Starting one loop of a fleet as its own OS process: `run --worktree`, its own branch, worktree and state dir."""

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
from codex_self_iter.state.snapshot import read_snapshot
from codex_self_iter.workspace.runs import Repo, list_runs, open_repo

NO_QUEUE = ".codex-self-iter-fleet-single-task"  # a tasks_dir that does not exist: `run` takes --task-file alone
FOUND_SLACK_SEC = 5.0  # a run record older than the loop's first start (minus this) is not the loop's
_repos: dict[str, Repo] = {}


def loop_dir(fleet_dir: Path, loop: LoopRecord) -> Path:
    """What the fleet itself keeps of one loop: its output log (and its config, for a single task)."""
    return fleet_dir / "loops" / loop.id


def loop_argv(fleet_dir: Path, fleet: FleetRecord, loop: LoopRecord) -> list[str]:
    """`python -m codex_self_iter run --worktree`: a new worktree run the first time, then that same run again."""
    argv = [sys.executable, "-m", "codex_self_iter", "run", "--workspace", loop.repo, "--worktree", "--clear-stop"]
    argv += ["--run", loop.run_id] if loop.run_id else ["--fresh"]  # --fresh: never continue another loop's run
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
    source = Path(config) if config else Path(loop.repo) / DEFAULT_CONFIG_NAME
    table = {**load_config(source if source.is_file() else None), "tasks_dir": NO_QUEUE}
    path = loop_dir(fleet_dir, loop) / "config.toml"
    atomic_write_text(path, tomli_w.dumps(table))
    return path


def start(fleet_dir: Path, fleet: FleetRecord, loop: LoopRecord) -> subprocess.Popen[bytes]:
    """Start the loop in its own session (a terminal's Ctrl-C reaches the fleet, which stops the loops)."""
    loop.log = loop.log or str(loop_dir(fleet_dir, loop) / "output.log")
    argv = loop_argv(fleet_dir, fleet, loop)
    make_private_dir(Path(loop.log).parent)
    fd = os.open(loop.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "ab") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} fleet start {loop.starts + 1}\n".encode())
        log.flush()
        return subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=loop.repo
        )


def find_run(loop: LoopRecord) -> bool:
    """Learn which worktree run the loop's process made (its status.json names the pid); True once known."""
    if loop.run_id:
        return True
    if loop.pid is None or not loop.spans:
        return False
    repo = _repos.get(loop.repo)
    if repo is None:
        try:
            repo = _repos[loop.repo] = open_repo(Path(loop.repo))  # three git calls: once per repository
        except UserError:
            return False
    for run in reversed(list_runs(repo)):
        if run.created_at < loop.spans[0][0] - FOUND_SLACK_SEC:
            break
        snapshot = read_snapshot(Path(run.state_dir) / "status.json")[0]
        if snapshot is not None and snapshot.pid == loop.pid:
            loop.run_id, loop.branch = run.id, run.branch
            loop.workspace, loop.state_dir = str(run.workspace), run.state_dir
            return True
    return False


def ask_to_stop(loop: LoopRecord, reason: str) -> bool:
    """Write the loop's own STOP sentinel: it stops before its next agent call (exit 5), its state kept."""
    if not loop.state_dir:
        return False
    with contextlib.suppress(UserError):
        write_stop_file(Layout.create(Path(loop.workspace), "TASK.md", "plan.md", loop.state_dir), reason)
    return True
