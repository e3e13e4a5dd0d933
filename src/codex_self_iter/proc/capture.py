"""A child's pipes, served from the calling thread: output to bounded files, the prompt to its stdin, no threads.

One thread doing select() instead of a reader thread per pipe: no thread start-up and no GIL hand-offs per agent call,
and the child's exit wakes us at once through a pidfd (Linux) or the end of its output (elsewhere).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import subprocess
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import IO

from codex_self_iter.proc.reaped import ReaperProcess
from codex_self_iter.state.fsio import PRIVATE_FILE_MODE
from codex_self_iter.state.nofollow import open_file

LineHandler = Callable[[bytes], None]
CHUNK = 65536
MAX_PARTIAL_LINE = 4 * 1024 * 1024


class BoundedSink:
    """Copies one stream to a file: the head goes to disk as it comes, only a bounded tail is held in memory."""

    def __init__(self, path: Path, max_bytes: int, on_line: LineHandler | None) -> None:
        self.out = _open_private(path)
        self.head_limit = max_bytes // 2
        self.tail: deque[bytes] = deque()
        self.tail_size = 0
        self.tail_limit = max_bytes - self.head_limit
        self.written = 0
        self.omitted = 0
        self.on_line = on_line
        self.partial = b""

    def feed(self, chunk: bytes) -> None:
        """Take the next chunk of the stream."""
        self._lines(chunk)
        if self.written < self.head_limit:
            take = chunk[: self.head_limit - self.written]
            self._write(take)
            self.written += len(take)
            chunk = chunk[len(take) :]
        if chunk:
            self._keep_tail(chunk)

    def finish(self) -> None:
        """The stream ended: the last partial line, a note of what was left out, the tail; close the file."""
        if self.on_line is not None and self.partial:
            self._call(self.partial)
            self.partial = b""
        if self.omitted:
            self._write(f"\n[... {self.omitted} bytes omitted ...]\n".encode())
        for piece in self.tail:
            self._write(piece)
        self.tail.clear()
        if self.out is not None:
            with contextlib.suppress(OSError):
                self.out.close()
            self.out = None

    def _write(self, data: bytes) -> None:
        # After the first failure (disk full) stop writing, but keep taking the stream: a child blocked on a full
        # pipe would otherwise hang until its timeout.
        if self.out is None:
            return
        try:
            self.out.write(data)
        except OSError:
            with contextlib.suppress(OSError):
                self.out.close()
            self.out = None

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
        if len(self.partial) > MAX_PARTIAL_LINE:
            self.partial = b""
        for line in lines:
            self._call(line)

    def _call(self, line: bytes) -> None:
        assert self.on_line is not None
        # A broken observer must not stop the pump, or the child would block on a full pipe.
        with contextlib.suppress(Exception):
            self.on_line(line)


class Pipes:
    """Moves data between a running child and its sinks; `wait` also tells when the child has exited."""

    def __init__(self, proc: ReaperProcess, stdout: BoundedSink, stderr: BoundedSink, stdin_data: bytes | None) -> None:
        self.proc = proc
        self.selector = selectors.DefaultSelector()
        self.open_outputs = 0
        for stream, sink in ((proc.stdout, stdout), (proc.stderr, stderr)):
            assert stream is not None
            os.set_blocking(stream.fileno(), False)
            self.selector.register(stream.fileno(), selectors.EVENT_READ, sink)
            self.open_outputs += 1
        self.sinks = (stdout, stderr)
        self.pending = memoryview(stdin_data or b"")
        if proc.stdin is not None:
            if self.pending:
                os.set_blocking(proc.stdin.fileno(), False)
                self.selector.register(proc.stdin.fileno(), selectors.EVENT_WRITE, "stdin")
            else:
                self._close_stdin()
        self.pidfd: int | None = None
        with contextlib.suppress(AttributeError, OSError):  # pidfd_open: Linux >= 5.3 only
            self.pidfd = os.pidfd_open(proc.pid)
            self.selector.register(self.pidfd, selectors.EVENT_READ, "exit")

    def wait(self, timeout: float) -> bool:
        """Serve the pipes for up to timeout seconds; True as soon as the child has exited."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if self.open_outputs == 0 and self.pidfd is None:
                # Its output has ended, which usually means it is exiting: block on the exit itself.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=remaining)
                continue
            for key, _ in self.selector.select(remaining):
                self._serve(key)

    def stop_watching_exit(self) -> None:
        """From now on only the output matters: stop waking on the child's exit, and send no more input."""
        if self.pidfd is not None:
            self.selector.unregister(self.pidfd)
            os.close(self.pidfd)
            self.pidfd = None
        self._close_stdin()

    def serve(self, timeout: float) -> None:
        """Take output for timeout seconds, or until every output has ended (then just wait out the time)."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            if not self.open_outputs:
                time.sleep(remaining)
                return
            for key, _ in self.selector.select(remaining):
                self._serve(key)

    def drain(self, timeout: float) -> None:
        """After the child's group was ended: take what is left in the pipes, until they close or timeout passes."""
        self.stop_watching_exit()
        deadline = time.monotonic() + timeout
        while self.open_outputs:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break  # something that left the group still holds the pipe: stop listening
            for key, _ in self.selector.select(remaining):
                self._serve(key)

    def close(self) -> None:
        """Finish both sinks and close everything."""
        for sink in self.sinks:
            sink.finish()
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None
        self._close_stdin()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self.selector.close()

    def _serve(self, key: selectors.SelectorKey) -> None:
        if key.data == "exit":
            return
        if key.data == "stdin":
            self._write_stdin(key.fd)
            return
        try:
            chunk = os.read(key.fd, CHUNK)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if chunk:
            key.data.feed(chunk)
        else:
            self.selector.unregister(key.fd)
            self.open_outputs -= 1

    def _write_stdin(self, fd: int) -> None:
        try:
            written = os.write(fd, self.pending[:CHUNK])
        except BlockingIOError:
            return
        except OSError:  # the child closed its stdin or exited: it will not read the rest
            written = len(self.pending)
        self.pending = self.pending[written:]
        if not self.pending:
            self._close_stdin()

    def _close_stdin(self) -> None:
        stdin = self.proc.stdin
        if stdin is None or stdin.closed:
            return
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(stdin.fileno())
        with contextlib.suppress(OSError):
            stdin.close()


def _open_private(path: Path) -> IO[bytes] | None:
    """The capture file, owner-only (it may hold prompts or secrets the agent echoed); None when it cannot be made.

    A link planted at the path is refused (LinkRefused), never truncated through.
    """
    try:
        return os.fdopen(open_file(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE), "wb")
    except OSError:
        return None
