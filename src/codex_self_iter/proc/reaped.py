"""Start a command under its own call reaper (proc/call_reaper.py), which ends the command's whole tree."""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from codex_self_iter.proc import call_reaper

REAPER = Path(call_reaper.__file__)
REAPER_GRACE_SEC = 3.0  # inside the reaper: TERM, then KILL after this long
REAPER_WAIT_SEC = REAPER_GRACE_SEC + call_reaper.KILL_ROUNDS_SEC + 1.0  # the loop's patience with the reaper itself
START_WAIT_SEC = 20.0
MARKER_VAR = "CODEX_SELF_ITER_CALL"  # in the environment of the call and of everything it starts


@dataclass
class ReapedCall:
    """A running command: `proc` is its reaper (session and group leader); the command is `agent_pid`."""

    proc: subprocess.Popen[bytes]
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
    control_r, control_w = os.pipe()  # not inherited by anything else the loop starts
    report_r, report_w = os.pipe()
    reaper = [sys.executable, "-I", "-S", str(REAPER), str(control_r), str(report_w), str(REAPER_GRACE_SEC)]
    try:
        proc = subprocess.Popen(
            [*reaper, "--", *argv],
            cwd=cwd,
            env=full_env,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # neither a terminal's ^C nor a kill of the loop's group reaches it
            pass_fds=(control_r, report_w),
        )
    except BaseException:
        os.close(control_w)
        os.close(report_r)
        raise
    finally:
        os.close(control_r)
        os.close(report_w)
    report = _read_report(report_r)
    if report.startswith("ok "):
        return ReapedCall(proc, int(report.split()[1]), control_w, marker)
    os.close(control_w)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    proc.wait()
    return report.removeprefix("error ").strip() or "the call reaper did not start"


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
