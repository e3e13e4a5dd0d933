"""One loop per state dir and per workspace: OS-level file locks (released by the kernel even after kill -9)."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from filelock import FileLock, Timeout

from codex_self_iter.errors import LockHeldError, StateError
from codex_self_iter.state.fsio import PRIVATE_FILE_MODE, atomic_write_json, make_private_dir, read_json
from codex_self_iter.state.layout import Layout

LOCK_WAIT_SEC = 0.5


class LoopLock:
    """Held for a loop's whole life; a second loop on the same state dir fails at once."""

    def __init__(
        self,
        lock_file: Path,
        holder_file: Path,
        held: str = "another loop holds the lock",
        about: dict[str, str] | None = None,
    ) -> None:
        # A short wait, not zero: `status` probes the lock for an instant, which must not make a run exit 4.
        self.lock = FileLock(str(lock_file), timeout=LOCK_WAIT_SEC, mode=PRIVATE_FILE_MODE)
        self.lock_file = lock_file
        self.holder_file = holder_file
        self.held = held
        self.about = about or {}

    def __enter__(self) -> LoopLock:
        try:
            make_private_dir(self.lock_file.parent)
            self.lock.acquire()
        except Timeout:
            raise LockHeldError(f"{self.lock_file}: {self.held} ({describe_holder(self.holder_file)})") from None
        except OSError as exc:
            raise StateError(
                f"{self.lock_file}: cannot take the lock ({exc.strerror or exc}); check the state dir's permissions"
            ) from exc
        try:
            atomic_write_json(self.holder_file, {"pid": os.getpid(), "started_at": time.time(), **self.about})
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


@contextlib.contextmanager
def loop_locks(layout: Layout) -> Iterator[None]:
    """The state dir's lock, then the workspace's: a loop with another state dir must not drive the same tree."""
    with LoopLock(layout.lock_file, layout.holder_file):
        held = f"another loop works on {layout.workspace}"
        with LoopLock(layout.workspace_lock, layout.workspace_holder, held, {"state_dir": str(layout.state_dir)}):
            yield


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
    where = f", state dir {data['state_dir']}" if isinstance(data.get("state_dir"), str) else ""
    return f"pid {data['pid']}, started {when}{where}"
