"""The per-call reaper: the parent of every command the loop runs, and the end of everything that command started.

A child forked from the loop for each call, without exec (a second interpreter would cost ~20 ms a call), in a
session of its own. After the fork it only makes system calls through the stdlib modules imported here, and leaves
with os._exit: no imports, no output, no garbage collection, no lock another thread of the loop could have held.
It makes itself the child subreaper (PR_SET_CHILD_SUBREAPER): a process that leaves the group with setsid, or
double-forks, is re-parented to it instead of to init. When the call ends for any reason it ends every descendant,
not only the process group:

- the command exits by itself (normal end; whatever it left running is ended);
- a TERM/INT/HUP arrives (the loop's timeout, `stop --now`, the loop's own kill of the group);
- the control pipe reaches end-of-file: the loop died, even by kill -9, and the kernel closed its end.

TERM first, then KILL after the grace period, repeated until no child is left. The reaper then exits the way
the command did (same exit code, or killed by the same signal), so the loop sees the command's own status.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import functools
import gc
import os
import resource
import select
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from typing import NoReturn

PR_SET_NAME = 15
PR_SET_CHILD_SUBREAPER = 36
NAME = b"codex-reaper"  # what `ps` shows for it (its argv is the loop's: it was forked, not executed)
POLL_SEC = 0.02
KILL_ROUNDS_SEC = 2.0
PROC = "/proc"
# The reaper's descriptors after the fork: the command's stdin, stdout, stderr, then the control and report pipes.
CONTROL_FD, REPORT_FD = 3, 4
# Every signal with a handler in the loop (TERM, INT) or here; blocked from the fork until the reaper's handlers are in.
HANDLED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD)


@functools.cache
def prctl() -> Callable[[int, int | bytes], int] | None:
    """libc's prctl, looked up once in the loop (before any fork: dlopen is not for a forked child); None without."""
    try:
        call = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda option, value: int(call(option, value, 0, 0, 0))


def descendants(root: int) -> list[int]:
    """Every living process below root, by the parent links in /proc (empty without /proc)."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir(PROC)
    except OSError:
        return []
    for name in entries:
        if not name.isdigit():
            continue
        try:
            with open(f"{PROC}/{name}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields and fields[0] != b"Z":
            children.setdefault(int(fields[1]), []).append(int(name))
    found: list[int] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class Reaper:
    """Runs the command and ends its whole tree."""

    def __init__(self, grace_sec: float) -> None:
        self.grace_sec = grace_sec
        self.subreaper = False
        self.me = os.getpid()
        self.agent = 0
        self.status: int | None = None
        self.wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        for signum in HANDLED:
            signal.signal(signum, self._note)
        self.ending = False

    def _note(self, signum: int, frame: object) -> None:
        if signum != signal.SIGCHLD:
            self.ending = True

    def start(self, path: str, argv: list[str], env: Mapping[str, str]) -> None:
        """Start the command in a process group of its own, with the signal state a fresh program expects."""
        self.agent = os.posix_spawn(
            path,
            argv,
            env,
            setpgroup=0,
            setsigmask=(),
            setsigdef=(signal.SIGPIPE, signal.SIGXFSZ, *HANDLED),
        )

    def reap(self) -> bool:
        """Collect every exited child; remember the command's own status. False once no child is left at all."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return False
            if pid == 0:
                return True
            if pid == self.agent:
                self.status = status

    def wait(self) -> None:
        """Until the command exits, a signal asks to end, or the loop's end of the control pipe closes."""
        while self.status is None and not self.ending:
            ready, _, _ = select.select([CONTROL_FD, self.wake_r], [], [], 1.0)
            if self.wake_r in ready:
                with contextlib.suppress(BlockingIOError, OSError):
                    os.read(self.wake_r, 512)
            if CONTROL_FD in ready:
                self.ending = True  # end-of-file (the loop is gone) or "end": either way, stop the command
            self.reap()

    def end_tree(self) -> None:
        """TERM everything below us, wait out the grace period, then KILL until no child is left."""
        if self.subreaper and not self.reap():
            return  # every descendant would be our child, or below one: none left, nothing to look for in /proc
        self._signal_all(signal.SIGTERM)
        deadline = time.monotonic() + self.grace_sec
        while time.monotonic() < deadline:
            self.reap()
            if not self._alive():
                return
            time.sleep(POLL_SEC)
        deadline = time.monotonic() + KILL_ROUNDS_SEC
        while self._alive() and time.monotonic() < deadline:
            self._signal_all(signal.SIGKILL)
            time.sleep(POLL_SEC / 4)
            self.reap()

    def _alive(self) -> bool:
        return bool(descendants(self.me)) or (self.status is None and _exists(self.agent)) or _group_alive(self.agent)

    def _signal_all(self, signum: int) -> None:
        with contextlib.suppress(OSError):
            os.killpg(self.agent, signum)  # the command's group: all there is to reach without /proc
        for pid in descendants(self.me):
            with contextlib.suppress(OSError):
                os.kill(pid, signum)

    def exit_like_the_command(self) -> NoReturn:
        """Exit with the command's code, or die of the signal that ended it."""
        status = self.status
        if status is None or os.WIFEXITED(status):
            os._exit(os.WEXITSTATUS(status) if status is not None else 1)
        signum = os.WTERMSIG(status)
        with contextlib.suppress(OSError, ValueError):
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            signal.signal(signum, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [signum])
            os.kill(self.me, signum)
        os._exit(128 + signum)


def _group_alive(pgid: int) -> bool:
    if os.path.isdir(PROC):
        return False  # descendants() saw every member already (zombies excluded)
    try:
        os.killpg(pgid, 0)
    except OSError:
        return False
    return True


def _exists(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def serve_call(
    path: str, argv: list[str], cwd: str, env: Mapping[str, str], fds: Sequence[int], grace_sec: float
) -> NoReturn:
    """In the forked child (all signals blocked by the loop): become the call's reaper, run argv, end its tree.

    fds are the command's stdin, stdout, stderr, the control pipe's read end and the report pipe's write end. The
    first line on the report pipe is "ok <pid> <subreaper>" or "error <why>".
    """
    try:
        gc.disable()  # a collection could run another object's finaliser, written for the loop, in this copy of it
        os.setsid()
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, REPORT_FD + 1) for fd in fds]  # above every target: no clash
        for target, fd in enumerate(high):
            os.dup2(fd, target, inheritable=target < CONTROL_FD)  # only stdin, stdout and stderr reach the command
        os.closerange(REPORT_FD + 1, os.sysconf("SC_OPEN_MAX"))  # the loop's lock, logs and pipes stay with it
        os.chdir(cwd)
        reaper = Reaper(grace_sec)
        signal.pthread_sigmask(signal.SIG_SETMASK, ())
        call = prctl()
        reaper.subreaper = call is not None and call(PR_SET_CHILD_SUBREAPER, 1) == 0
        if call is not None:
            call(PR_SET_NAME, NAME)
        reaper.start(path, argv, env)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.write(REPORT_FD, f"error {exc.strerror or exc}\n".encode())
        os._exit(127)
    except BaseException:
        os._exit(127)
    try:
        os.write(REPORT_FD, f"ok {reaper.agent} {int(reaper.subreaper)}\n".encode())
        os.close(REPORT_FD)
        reaper.wait()
        reaper.end_tree()
        reaper.reap()
    except BaseException:
        with contextlib.suppress(BaseException):
            reaper.end_tree()
    reaper.exit_like_the_command()
