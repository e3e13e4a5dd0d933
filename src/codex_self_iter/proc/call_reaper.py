"""The per-call reaper: the parent of every command the loop runs, and the end of everything that command started.

Run as `python -I -S call_reaper.py <control-fd> <report-fd> <grace-sec> -- argv...` in its own session (stdlib
only, so it starts fast and does not depend on the agent's environment). It makes itself the child subreaper
(PR_SET_CHILD_SUBREAPER): a process that leaves the group with setsid, or double-forks, is re-parented to it
instead of to init. When the call ends for any reason it ends every descendant, not only the process group:

- the command exits by itself (normal end; whatever it left running is ended);
- a TERM/INT/HUP arrives (the loop's timeout, `stop --now`, the loop's own kill of the group);
- the control pipe reaches end-of-file: the loop died, even by kill -9, and the kernel closed its end.

TERM first, then KILL after the grace period, repeated until no child is left. The reaper then exits the way
the command did (same exit code, or killed by the same signal), so the loop sees the command's own status.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import resource
import select
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
POLL_SEC = 0.02
KILL_ROUNDS_SEC = 2.0
PROC = "/proc"


def become_subreaper() -> bool:
    """Adopt orphaned descendants (Linux); False where the kernel has no such thing."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


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

    def __init__(self, control_fd: int, grace_sec: float) -> None:
        self.control_fd = control_fd
        self.grace_sec = grace_sec
        self.me = os.getpid()
        self.agent = 0
        self.status: int | None = None
        self.wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD):
            signal.signal(signum, self._note)
        self.ending = False

    def _note(self, signum: int, frame: object) -> None:
        if signum != signal.SIGCHLD:
            self.ending = True

    def start(self, argv: list[str]) -> None:
        """Start the command in a process group of its own, with the signal dispositions a fresh program expects."""
        self.agent = os.posix_spawnp(
            argv[0],
            argv,
            os.environ,
            setpgroup=0,
            setsigdef=(signal.SIGPIPE, signal.SIGXFSZ, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD),
        )

    def reap(self) -> None:
        """Collect every exited child; remember the command's own status."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.agent:
                self.status = status

    def wait(self) -> None:
        """Until the command exits, a signal asks to end, or the loop's end of the control pipe closes."""
        while self.status is None and not self.ending:
            ready, _, _ = select.select([self.control_fd, self.wake_r], [], [], 1.0)
            if self.wake_r in ready:
                with contextlib.suppress(BlockingIOError, OSError):
                    os.read(self.wake_r, 512)
            if self.control_fd in ready:
                self.ending = True  # end-of-file (the loop is gone) or "end": either way, stop the command
            self.reap()

    def end_tree(self) -> None:
        """TERM everything below us, wait out the grace period, then KILL until no child is left."""
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

    def exit_like_the_command(self) -> None:
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


def main(args: list[str]) -> None:
    """Entry point: <control-fd> <report-fd> <grace-sec> -- argv..."""
    control_fd, report_fd, grace = int(args[0]), int(args[1]), float(args[2])
    argv = args[4:]
    for fd in (control_fd, report_fd):
        os.set_inheritable(fd, False)  # the command must not hold the loop's pipes
    subreaper = become_subreaper()
    reaper = Reaper(control_fd, grace)
    try:
        reaper.start(argv)
    except OSError as exc:
        os.write(report_fd, f"error {exc.strerror or exc}\n".encode())
        os._exit(127)
    os.write(report_fd, f"ok {reaper.agent} {int(subreaper)}\n".encode())
    os.close(report_fd)
    reaper.wait()
    reaper.end_tree()
    reaper.reap()
    reaper.exit_like_the_command()


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except OSError as exc:
        if exc.errno != errno.EINTR:
            raise
