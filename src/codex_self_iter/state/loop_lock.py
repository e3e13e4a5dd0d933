"""One loop per state dir: an OS-level file lock (released by the kernel even after kill -9)."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from types import TracebackType

from filelock import FileLock, Timeout

from codex_self_iter.errors import LockHeldError, StateError
from codex_self_iter.state.fsio import PRIVATE_FILE_MODE, atomic_write_json, make_private_dir, read_json

LOCK_WAIT_SEC = 0.5


class LoopLock:
    """Held for a loop's whole life; a second loop on the same state dir fails at once."""

    def __init__(self, lock_file: Path, holder_file: Path) -> None:
        # A short wait, not zero: `status` probes the lock for an instant, which must not make a run exit 4.
        self.lock = FileLock(str(lock_file), timeout=LOCK_WAIT_SEC, mode=PRIVATE_FILE_MODE)
        self.lock_file = lock_file
        self.holder_file = holder_file

    def __enter__(self) -> LoopLock:
        try:
            make_private_dir(self.lock_file.parent)
            self.lock.acquire()
        except Timeout:
            raise LockHeldError(
                f"{self.lock_file}: another loop holds the lock ({describe_holder(self.holder_file)})"
            ) from None
        except OSError as exc:
            raise StateError(
                f"{self.lock_file}: cannot take the lock ({exc.strerror or exc}); check the state dir's permissions"
            ) from exc
        try:
            atomic_write_json(self.holder_file, {"pid": os.getpid(), "started_at": time.time()})
        except BaseException:
            self.lock.release()
            raise
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
