"""Run one child process in its own session, output to bounded files, its whole group killed at the end."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from codex_self_iter.proc.capture import BoundedSink, LineHandler, Pipes
from codex_self_iter.proc.procinfo import PROC, STATE, group_members
from codex_self_iter.proc.reaped import REAPER_WAIT_SEC, ReapedCall, ReaperProcess, spawn_reaped
from codex_self_iter.state.fsio import make_private_dir

DEFAULT_MAX_OUTPUT_BYTES = 8 * 1024 * 1024
KILL_GRACE_SEC = 3.0
POLL_SEC = 0.05
# After the reaper ended the whole tree nothing of the call holds its pipes; a descriptor handed on to a process
# outside it (over a socket) is not listened to for long, so `stop --now` stays well under a second.
DRAIN_SEC = 0.3


@dataclass(frozen=True)
class ProcessResult:
    """What became of one child process."""

    argv: list[str]
    exit_code: int | None
    timed_out: bool
    cancelled: bool
    duration_sec: float
    stdout_path: Path
    stderr_path: Path
    start_error: str | None = None
    ended_by: str | None = None  # why a `watch` callback ended the process early (e.g. "turn_finished")

    @property
    def ok(self) -> bool:
        """True when the process started, finished by itself and exited 0."""
        return self.exit_code == 0 and not self.timed_out and not self.cancelled and self.start_error is None


@dataclass(frozen=True)
class ProcessHandle:
    """The identity of a running command (leader of its own group) and of its reaper, so a later run can end them."""

    pid: int
    pgid: int
    reaper: int = 0
    marker: str = ""  # the value of CODEX_SELF_ITER_CALL in the environment of everything the call started


def kill_group(
    pgid: int,
    grace_sec: float = KILL_GRACE_SEC,
    leader: ReaperProcess | None = None,
    idle: Callable[[float], object] = time.sleep,
) -> None:
    """TERM the whole process group, then KILL whatever is left after the grace period (`idle` fills the waits)."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    deadline = time.monotonic() + grace_sec
    while time.monotonic() < deadline:
        if leader is not None:
            leader.poll()  # reap our own child, or its zombie would keep the group "alive"
        if not group_alive(pgid):
            return
        idle(POLL_SEC)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def group_alive(pgid: int) -> bool:
    """True while a process of the group is still running (zombies awaiting a reaper do not count)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not PROC.is_dir():
        return True  # no /proc to tell zombies apart: the signal probe is all there is
    return any(fields[STATE] != "Z" for _, fields in group_members(pgid))


def run_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    stdout_path: Path,
    stderr_path: Path,
    timeout_sec: float | None,
    stdin_text: str | None = None,
    env: Mapping[str, str] | None = None,
    cancel: Callable[[], bool] | None = None,
    on_start: Callable[[ProcessHandle], None] | None = None,
    on_tick: Callable[[float], None] | None = None,
    on_stdout_line: LineHandler | None = None,
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
    tick_sec: float = 1.0,
    watch: Callable[[], str | None] | None = None,
) -> ProcessResult:
    """Run argv to completion (or timeout / cancel / `watch` naming a reason), never leaving its group behind."""
    argv = list(argv)
    make_private_dir(stdout_path.parent)
    stdout_sink = BoundedSink(stdout_path, max_output_bytes, on_stdout_line)  # a planted link: refused here
    stderr_sink = BoundedSink(stderr_path, max_output_bytes, None)
    started = time.monotonic()
    try:
        spawned: ReapedCall | str = spawn_reaped(argv, cwd, env, stdin_text is not None)
    except OSError as exc:
        spawned = str(exc.strerror or exc)
    if not isinstance(spawned, ReapedCall):
        why = spawned
        stderr_sink.feed(f"{argv[0]}: {why}\n".encode())
        stdout_sink.finish()
        stderr_sink.finish()
        return ProcessResult(argv, None, False, False, 0.0, stdout_path, stderr_path, why)
    proc, pgid = spawned.proc, spawned.proc.pid
    # "replace": a lone surrogate (from an agent's JSON escapes) must not keep the prompt from being sent.
    stdin_data = stdin_text.encode("utf-8", errors="replace") if stdin_text is not None else None
    pipes = Pipes(proc, stdout_sink, stderr_sink, stdin_data)
    timed_out = cancelled = False
    ended_by: str | None = None
    try:
        if on_start is not None:
            on_start(ProcessHandle(spawned.agent_pid, spawned.agent_pid, proc.pid, spawned.marker))
        timed_out, cancelled, ended_by = _supervise(pipes, started, timeout_sec, cancel, on_tick, tick_sec, watch)
    finally:
        # The reaper ends the command's whole tree (also what left its group) when it exits by itself, when it
        # is TERMed, or when the control pipe closes; also when on_start or on_tick raised (e.g. a full disk).
        pipes.stop_watching_exit()
        spawned.release()
        kill_group(pgid, REAPER_WAIT_SEC, leader=proc, idle=pipes.serve)  # keep draining meanwhile
        exit_code = proc.wait()
        pipes.drain(DRAIN_SEC)
        pipes.close()
    duration = time.monotonic() - started
    return ProcessResult(argv, exit_code, timed_out, cancelled, duration, stdout_path, stderr_path, None, ended_by)


def _supervise(
    pipes: Pipes,
    started: float,
    timeout_sec: float | None,
    cancel: Callable[[], bool] | None,
    on_tick: Callable[[float], None] | None,
    tick_sec: float,
    watch: Callable[[], str | None] | None,
) -> tuple[bool, bool, str | None]:
    """Serve the pipes until the leader exits; (timed_out, cancelled, watch's reason) when it must end early."""
    next_tick = started + tick_sec
    while not pipes.wait(POLL_SEC):
        now = time.monotonic()
        if timeout_sec is not None and now - started >= timeout_sec:
            return True, False, None
        if cancel is not None and cancel():
            return False, True, None
        reason = watch() if watch is not None else None
        if reason is not None:
            return False, False, reason
        if on_tick is not None and now >= next_tick:
            next_tick = now + tick_sec
            with contextlib.suppress(Exception):
                on_tick(now - started)
    return False, False, None
