"""Run one child process in its own session, output to bounded files, its whole group killed at the end."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

DEFAULT_MAX_OUTPUT_BYTES = 8 * 1024 * 1024
KILL_GRACE_SEC = 3.0
POLL_SEC = 0.05

LineHandler = Callable[[bytes], None]


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

    @property
    def ok(self) -> bool:
        """True when the process started, finished by itself and exited 0."""
        return self.exit_code == 0 and not self.timed_out and not self.cancelled and self.start_error is None


@dataclass(frozen=True)
class ProcessHandle:
    """The identity of a running child, so a later run can end it if this one dies."""

    pid: int
    pgid: int


class _BoundedSink:
    """Copies a stream to a file, keeping the head on disk and only a bounded tail in memory."""

    def __init__(self, path: Path, max_bytes: int, on_line: LineHandler | None) -> None:
        self.path = path
        self.head_limit = max_bytes // 2
        self.tail: deque[bytes] = deque()
        self.tail_size = 0
        self.tail_limit = max_bytes - self.head_limit
        self.written = 0
        self.omitted = 0
        self.on_line = on_line
        self.partial = b""

    def pump(self, stream: IO[bytes]) -> None:
        with open(self.path, "wb") as out:
            fd = stream.fileno()
            for chunk in iter(lambda: os.read(fd, 65536), b""):
                self._lines(chunk)
                if self.written < self.head_limit:
                    take = chunk[: self.head_limit - self.written]
                    out.write(take)
                    self.written += len(take)
                    chunk = chunk[len(take) :]
                if chunk:
                    self._keep_tail(chunk)
            if self.on_line is not None and self.partial:
                self._call(self.partial)
            if self.omitted:
                out.write(f"\n[... {self.omitted} bytes omitted ...]\n".encode())
            for piece in self.tail:
                out.write(piece)

    def _keep_tail(self, chunk: bytes) -> None:
        self.tail.append(chunk)
        self.tail_size += len(chunk)
        while self.tail_size > self.tail_limit and self.tail:
            first = self.tail[0]
            excess = self.tail_size - self.tail_limit
            if len(first) <= excess:
                self.tail.popleft()
                self.tail_size -= len(first)
                self.omitted += len(first)
            else:
                self.tail[0] = first[excess:]
                self.tail_size -= excess
                self.omitted += excess

    def _lines(self, chunk: bytes) -> None:
        if self.on_line is None:
            return
        data = self.partial + chunk
        *lines, self.partial = data.split(b"\n")
        if len(self.partial) > 4 * 1024 * 1024:
            self.partial = b""
        for line in lines:
            self._call(line)

    def _call(self, line: bytes) -> None:
        assert self.on_line is not None
        # A broken observer must not stop the pump, or the child would block on a full pipe.
        with contextlib.suppress(Exception):
            self.on_line(line)


def kill_group(pgid: int, grace_sec: float = KILL_GRACE_SEC, leader: subprocess.Popen[bytes] | None = None) -> None:
    """TERM the whole process group, then KILL whatever is left after the grace period."""
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
        time.sleep(POLL_SEC)
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
    return _has_live_member(pgid)


def _has_live_member(pgid: int) -> bool:
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


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
) -> ProcessResult:
    """Run argv to completion (or timeout / cancel), never leaving any of its group behind."""
    argv = list(argv)
    stdout_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        stdout_path.write_bytes(b"")
        stderr_path.write_text(f"{argv[0]}: {exc.strerror or exc}\n", encoding="utf-8")
        return ProcessResult(argv, None, False, False, 0.0, stdout_path, stderr_path, str(exc.strerror or exc))
    pgid = proc.pid
    if on_start is not None:
        on_start(ProcessHandle(proc.pid, pgid))
    assert proc.stdout is not None and proc.stderr is not None
    threads = [
        threading.Thread(
            target=_BoundedSink(stdout_path, max_output_bytes, on_stdout_line).pump, args=(proc.stdout,), daemon=True
        ),
        threading.Thread(
            target=_BoundedSink(stderr_path, max_output_bytes, None).pump, args=(proc.stderr,), daemon=True
        ),
    ]
    if stdin_text is not None:
        threads.append(threading.Thread(target=_feed, args=(proc.stdin, stdin_text), daemon=True))
    for thread in threads:
        thread.start()
    timed_out = cancelled = False
    next_tick = started + tick_sec
    while True:
        try:
            proc.wait(timeout=POLL_SEC)
            break
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if timeout_sec is not None and now - started >= timeout_sec:
            timed_out = True
            break
        if cancel is not None and cancel():
            cancelled = True
            break
        if on_tick is not None and now >= next_tick:
            next_tick = now + tick_sec
            with contextlib.suppress(Exception):
                on_tick(now - started)
    # The leader may be gone while its children still write: always end the whole group.
    kill_group(pgid, leader=proc)
    exit_code = proc.wait()
    for thread in threads:
        thread.join(timeout=5)
    for stream in (proc.stdout, proc.stderr):
        with contextlib.suppress(OSError):
            stream.close()
    duration = time.monotonic() - started
    return ProcessResult(argv, exit_code, timed_out, cancelled, duration, stdout_path, stderr_path)


def _feed(stdin: IO[bytes] | None, text: str) -> None:
    if stdin is None:
        return
    with contextlib.suppress(OSError):
        stdin.write(text.encode("utf-8"))
    with contextlib.suppress(OSError):
        stdin.close()
