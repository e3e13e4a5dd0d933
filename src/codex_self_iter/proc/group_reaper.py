"""A guard for one child process group that outlives us: if this process is killed (kill -9, the OOM killer), the
child's whole group is ended anyway, within the kill grace period, instead of running on unsupervised."""

from __future__ import annotations

import contextlib
import os
import subprocess

# $1 = the process group, $2 = the grace period in tenths of a second.
SCRIPT = (
    'read -r said; [ "$said" = done ] && exit 0; '
    'kill -s TERM -- "-$1" 2>/dev/null || exit 0; n=0; '
    'while [ "$n" -lt "$2" ] && kill -s 0 -- "-$1" 2>/dev/null; do sleep 0.1; n=$((n + 1)); done; '
    'kill -s KILL -- "-$1" 2>/dev/null; exit 0'
)
NAME = "codex-self-iter-watchdog"

_leaving: list[subprocess.Popen[bytes]] = []


class Watchdog:
    """A tiny shell in its own session, blocked reading a pipe that only this process can write to.

    `release` says "done" and the shell exits. If this process dies first, the kernel closes the pipe, the read sees
    end-of-file, and the shell TERMs the group, then KILLs what is left after the grace period.
    """

    def __init__(self, pgid: int, grace_sec: float) -> None:
        self.fd: int | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        _leaving[:] = [proc for proc in _leaving if proc.poll() is None]
        try:
            read_end, write_end = os.pipe()  # non-inheritable: no other child keeps the write end open
        except OSError:
            return
        try:
            self.proc = subprocess.Popen(
                ["/bin/sh", "-c", SCRIPT, NAME, str(pgid), str(max(1, int(grace_sec * 10)))],
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # neither a terminal's ^C nor a kill of our own group reaches it
            )
            self.fd = write_end
        except OSError:
            os.close(write_end)
        finally:
            os.close(read_end)

    def release(self) -> None:
        """We ended the group ourselves: let the watchdog go without killing anything."""
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.write(self.fd, b"done\n")
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None
        if self.proc is not None:
            _leaving.append(self.proc)  # no wait: it exits at once by itself, and is reaped at the next start
            self.proc = None
