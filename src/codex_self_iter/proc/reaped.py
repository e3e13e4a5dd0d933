"""Start a command under its own call reaper (proc/call_reaper.py, forked), which ends the command's whole tree."""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from codex_self_iter.proc import call_reaper

REAPER_GRACE_SEC = 3.0  # inside the reaper: TERM, then KILL after this long
REAPER_WAIT_SEC = REAPER_GRACE_SEC + call_reaper.KILL_ROUNDS_SEC + 1.0  # the loop's patience with the reaper itself
START_WAIT_SEC = 20.0
MARKER_VAR = "CODEX_SELF_ITER_CALL"  # in the environment of the call and of everything it starts


class ReaperProcess:
    """The reaper as the loop sees it, like a subprocess.Popen: its pid, the command's pipes, its exit status."""

    def __init__(self, pid: int, stdin: IO[bytes] | None, stdout: IO[bytes], stderr: IO[bytes]) -> None:
        self.pid = pid
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """The exit code once the reaper has exited (negative: the signal that killed it), else None."""
        if self.returncode is None:
            self._collect(os.WNOHANG)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the exit code; subprocess.TimeoutExpired when timeout passes first."""
        if timeout is None:
            while self.returncode is None:
                self._collect(0)
            return self.returncode
        deadline = time.monotonic() + timeout
        delay = 0.0005
        while (code := self.poll()) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 0.05)
        return code

    def _collect(self, flags: int) -> None:
        try:
            pid, status = os.waitpid(self.pid, flags)
        except ChildProcessError:
            self.returncode = 0  # reaped elsewhere: its status is lost (as subprocess.Popen has it)
            return
        if pid == self.pid:
            self.returncode = os.waitstatus_to_exitcode(status)


@dataclass
class ReapedCall:
    """A running command: `proc` is its reaper (session and group leader); the command is `agent_pid`."""

    proc: ReaperProcess
    agent_pid: int
    control_fd: int | None
    marker: str = ""

    def release(self) -> None:
        """Close our end of the control pipe: the reaper ends the tree now if the command still runs."""
        if self.control_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.control_fd)
            self.control_fd = None


def spawn_reaped(argv: Sequence[str], cwd: Path, env: Mapping[str, str] | None, stdin: bool) -> ReapedCall | str:
    """The running call, or why the command could not start (OSError when the reaper itself cannot)."""
    marker = secrets.token_hex(16)
    full_env = {**(os.environ if env is None else env), MARKER_VAR: marker}
    # Looked up in the command's own PATH, as subprocess does; a miss goes to posix_spawn for the usual error.
    path = shutil.which(argv[0], path=os.pathsep.join(os.get_exec_path(full_env))) or argv[0]
    call_reaper.prctl()  # loaded here, never in the child
    ours: list[int] = []  # the loop's ends
    theirs: list[int] = []  # the child's: stdin, stdout, stderr, control, report
    try:
        if stdin:
            _pipe(theirs, ours, child_reads=True)
        else:
            theirs.append(os.open(os.devnull, os.O_RDONLY))
        _pipe(theirs, ours, child_reads=False)
        _pipe(theirs, ours, child_reads=False)
        _pipe(theirs, ours, child_reads=True)
        _pipe(theirs, ours, child_reads=False)
        pid = _fork(path, list(argv), str(cwd), full_env, theirs)
    except BaseException:
        for fd in ours:
            os.close(fd)
        raise
    finally:
        for fd in theirs:
            os.close(fd)
    stdin_w = ours.pop(0) if stdin else None
    stdout_r, stderr_r, control_w, report_r = ours
    proc = ReaperProcess(
        pid,
        os.fdopen(stdin_w, "wb", buffering=0) if stdin_w is not None else None,
        os.fdopen(stdout_r, "rb", buffering=0),
        os.fdopen(stderr_r, "rb", buffering=0),
    )
    report = _read_report(report_r)
    if report.startswith("ok "):
        return ReapedCall(proc, int(report.split()[1]), control_w, marker)
    os.close(control_w)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    proc.wait()
    return report.removeprefix("error ").strip() or "the call reaper did not start"


def _pipe(theirs: list[int], ours: list[int], child_reads: bool) -> None:
    read_end, write_end = os.pipe()
    theirs.append(read_end if child_reads else write_end)
    ours.append(write_end if child_reads else read_end)


def _fork(path: str, argv: list[str], cwd: str, env: Mapping[str, str], fds: list[int]) -> int:
    """Fork the reaper with the signals it handles blocked, so none reaches the copy of the loop's handlers in it."""
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, call_reaper.HANDLED)
    try:
        pid = os.fork()
        if pid == 0:
            try:
                call_reaper.serve_call(path, argv, cwd, env, fds, REAPER_GRACE_SEC)
            finally:
                os._exit(127)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    return pid


def _read_report(fd: int) -> str:
    """The reaper's first line: "ok <pid> <subreaper>" or "error <why>"; empty when it died first."""
    data = b""
    deadline = time.monotonic() + START_WAIT_SEC
    try:
        while b"\n" not in data and (remaining := deadline - time.monotonic()) > 0:
            if not select.select([fd], [], [], remaining)[0]:
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(fd)
    return data.decode("utf-8", errors="replace").split("\n", 1)[0]
