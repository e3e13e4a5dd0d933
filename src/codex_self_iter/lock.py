"""One loop per state dir: an OS-level file lock (released by the kernel even after kill -9)."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from types import TracebackType

from filelock import FileLock, Timeout

from codex_self_iter.errors import LockHeldError
from codex_self_iter.fsio import atomic_write_json, read_json


class LoopLock:
    """Held for a loop's whole life; a second loop on the same state dir fails at once."""

    def __init__(self, lock_file: Path, holder_file: Path) -> None:
        self.lock = FileLock(str(lock_file), timeout=0)
        self.lock_file = lock_file
        self.holder_file = holder_file

    def __enter__(self) -> LoopLock:
        self.lock_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.lock.acquire()
        except Timeout:
            raise LockHeldError(
                f"{self.lock_file}: another loop holds the lock ({describe_holder(self.holder_file)})"
            ) from None
        atomic_write_json(self.holder_file, {"pid": os.getpid(), "started_at": time.time()})
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        with contextlib.suppress(OSError):
            self.holder_file.unlink()
        self.lock.release()


def is_locked(lock_file: Path) -> bool:
    """True when some loop holds the lock right now."""
    if not lock_file.exists():
        return False
    probe = FileLock(str(lock_file), timeout=0)
    try:
        probe.acquire()
    except Timeout:
        return True
    except OSError:
        return False
    probe.release()
    return False


def describe_holder(holder_file: Path) -> str:
    """'pid 123, started 2026-11-21 10:00:00' from the holder file, or what is known."""
    data = read_json(holder_file)
    if not isinstance(data, dict) or "pid" not in data:
        return "holder unknown"
    started = data.get("started_at")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)) if isinstance(started, (int, float)) else "?"
    return f"pid {data['pid']}, started {when}"
