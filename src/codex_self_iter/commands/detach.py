"""`run --detach`: the same run in the background, in its own session, logging to <state-dir>/logs/loop.log."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from codex_self_iter.commands.loop_view import holder_pid, pid_alive
from codex_self_iter.errors import LockHeldError, UserError
from codex_self_iter.loop.context import Deps
from codex_self_iter.loop.launch import build_context
from codex_self_iter.options import DEFAULT_CONFIG_NAME, Prepared
from codex_self_iter.state.fsio import PRIVATE_FILE_MODE
from codex_self_iter.state.layout import Layout
from codex_self_iter.state.loop_lock import describe_holder, is_locked
from codex_self_iter.state.nofollow import open_file
from codex_self_iter.state.snapshot import Phase, read_snapshot
from codex_self_iter.state.stop_request import stop_file_present

STARTUP_WAIT_SEC = 20.0
POLL_SEC = 0.1
LOG_TAIL_LINES = 15


def child_argv(argv: Sequence[str]) -> list[str]:
    """The same command line without --detach (or an abbreviation of it), run by this interpreter."""
    kept = [arg for arg in argv if not (len(arg) > 3 and "--detach".startswith(arg))]
    return [sys.executable, "-m", "codex_self_iter", *kept]


def detach(prepared: Prepared, argv: Sequence[str], clear_stop: bool, out: TextIO) -> int:
    """Start the loop in the background; 0 once it is past its setup (its own exit code if it ends first)."""
    layout = prepared.layout
    found = stop_file_present((layout.stop_file, layout.global_stop_file))
    if found is not None and not clear_stop:
        raise UserError(f"{found}: a STOP sentinel is present; remove it or run again with --clear-stop")
    if pid_alive(holder_pid(layout)) and is_locked(layout.lock_file):
        raise LockHeldError(f"{layout.lock_file}: another loop holds the lock ({describe_holder(layout.holder_file)})")
    build_context(prepared, Deps(), dry_run=True)  # bad inputs, config or agent command fail here, in the foreground
    log_path = layout.loop_log
    try:
        fd = open_file(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE_MODE, create_dirs=True)
        log = os.fdopen(fd, "ab")  # handed to the child, closed right after it starts
    except OSError as exc:
        raise UserError(f"{log_path}: cannot open the log ({exc.strerror}); check the state dir's permissions") from exc
    command = child_argv(argv)
    with log:
        offset = log.seek(0, os.SEEK_END)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        log.write(f"\n=== {stamp} codex-self-iter run --detach: {shlex.join(command)}\n".encode())
        log.flush()
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # no terminal signal or hang-up reaches it; it outlives this process
            cwd=os.getcwd(),
        )
    deadline = time.monotonic() + STARTUP_WAIT_SEC
    while time.monotonic() < deadline and child.poll() is None and not _past_startup(layout, child.pid):
        time.sleep(POLL_SEC)
    code = child.poll()
    if code is not None:
        print(f"codex-self-iter: the detached loop ended at once (exit {code}); its log says:", file=sys.stderr)
        print(_log_tail(log_path, offset), file=sys.stderr)
        return code
    child.returncode = 0  # it is not ours to wait for: keep Popen's destructor from warning about it
    _announce(prepared, child.pid, _past_startup(layout, child.pid), out)
    return 0


def _past_startup(layout: Layout, pid: int) -> bool:
    """True once the loop of pid holds the lock and has got past its baseline (its setup errors come before)."""
    status, _ = read_snapshot(layout.status_file)
    return status is not None and status.pid == pid and status.state not in (None, Phase.STARTING)


def _announce(prepared: Prepared, pid: int, started: bool, out: TextIO) -> None:
    layout = prepared.layout
    flags = "" if layout.workspace == Path.cwd().resolve() else f" -w {shlex.quote(str(layout.workspace))}"
    if prepared.worktree is not None:  # a worktree run: named from the user's repository, not its checkout
        here = Path(prepared.worktree.repo) == Path.cwd().resolve()
        flags = ("" if here else f" -w {shlex.quote(prepared.worktree.repo)}") + f" --run {prepared.worktree.id}"
    home = Path(prepared.worktree.repo) if prepared.worktree is not None else layout.workspace
    if prepared.config_path and prepared.config_path != home / DEFAULT_CONFIG_NAME:
        flags += f" --config {shlex.quote(str(prepared.config_path))}"
    state = "running" if started else "still starting (e.g. the baseline checks run first; see the log)"
    print(f"codex-self-iter: loop started in the background: pid {pid}, {state}", file=out)
    print(f"  log:    {layout.loop_log}", file=out)
    print(f"  watch:  codex-self-iter status{flags}   ·   codex-self-iter history --follow{flags}", file=out)
    print(f"  stop:   codex-self-iter stop{flags} (after the current call)   ·   stop --now{flags} (at once)", file=out)


def _log_tail(path: Path, offset: int) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return "(the log cannot be read)"
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("=== ")]
    return "\n".join(lines[-LOG_TAIL_LINES:]) or "(nothing)"
