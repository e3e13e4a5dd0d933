"""How a loop is told to stop: STOP files, signals, and a sleep that notices both."""

from __future__ import annotations

import json
import signal
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from codex_self_iter.errors import StateError, UserError
from codex_self_iter.outcome import StopReason
from codex_self_iter.state.fsio import read_text

SLEEP_SLICE_SEC = 0.1
SENTINEL_MAX_BYTES = 4096
WATCH_SEC = 0.25  # how often the STOP files are looked at while an agent call runs


def stop_file_present(files: tuple[Path, ...]) -> Path | None:
    """The first STOP sentinel that exists, if any."""
    for path in files:
        if path.exists():
            return path
    return None


def remove_sentinel(path: Path) -> None:
    """`--clear-stop`: remove a STOP sentinel, but never a file that is more than one (a link, a directory, or
    content beyond a short note: a stop file name that collides with a user's file must not delete it)."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if not stat.S_ISREG(info.st_mode) or info.st_size > SENTINEL_MAX_BYTES:
        raise UserError(
            f"{path}: not removed by --clear-stop (it is not a small STOP sentinel: a link, a directory or "
            f"more than {SENTINEL_MAX_BYTES} bytes); remove or rename it yourself"
        )
    path.unlink(missing_ok=True)


def read_stop_reason(path: Path) -> str:
    """The reason written into a STOP file by `stop`, or a plain description (never blocks on a FIFO)."""
    try:
        data = json.loads(read_text(path, 64 * 1024) or "")
    except (OSError, ValueError, RecursionError, StateError):
        return f"{path.name} present"
    if isinstance(data, dict) and data.get("reason"):
        return str(data["reason"])
    return f"{path.name} present"


@dataclass
class StopSignals:
    """Collects SIGTERM / SIGINT and STOP files into one question: should the loop stop now?

    A stop request, once seen, is latched: the agent deleting the STOP file afterwards does not cancel it. The STOP
    files are also looked at while an agent call runs (`cancelled` is polled), and `stop` also leaves the request
    in private state (`latch`, outside the workspace), so a STOP the agent deletes before the loop looked still counts.
    """

    stop_files: tuple[Path, ...]
    latch: Path | None = None
    signalled: StopReason | None = None
    latched: tuple[StopReason, str] | None = None
    why: str = ""
    _previous: dict[int, object] = field(default_factory=dict)
    _looked_at: float = 0.0

    def install(self) -> None:
        """Turn SIGTERM and SIGINT into a graceful stop (only possible in the main thread)."""
        try:
            for signum in (signal.SIGTERM, signal.SIGINT):
                self._previous[signum] = signal.signal(signum, self._handle)
        except ValueError:
            pass

    def restore(self) -> None:
        """Put back the handlers that were there before."""
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signalled is None:
            self.signalled = StopReason.INTERRUPTED if signum == signal.SIGINT else StopReason.SIGNAL

    def cancelled(self) -> bool:
        """True once a signal arrived: a running agent must be ended. Also latches a STOP seen meanwhile."""
        now = time.monotonic()
        if self.latched is None and now - self._looked_at >= WATCH_SEC:
            self._looked_at = now
            self._look()
        return self.signalled is not None

    def _look(self) -> tuple[StopReason, str] | None:
        if self.latched is None:
            found = stop_file_present(self.stop_files)
            if found is not None:
                self.why = read_stop_reason(found)
                self.latched = StopReason.STOP_FILE, f"{found}: {self.why}"
            elif self.latch is not None and self.latch.exists():
                self.why = read_stop_reason(self.latch)
                self.latched = StopReason.STOP_FILE, f"stop requested: {self.why}"
        return self.latched

    def pending(self) -> tuple[StopReason, str] | None:
        """Why the loop must stop before its next agent call, if it must."""
        latched = self._look()
        if self.signalled is not None:
            what = "interrupted (SIGINT)" if self.signalled is StopReason.INTERRUPTED else "stopped by SIGTERM"
            if latched is not None and self.signalled is StopReason.SIGNAL:
                what += f" ({self.why})"  # `stop --now --reason ...` wrote why
            return self.signalled, what
        return latched


def stop_aware_sleep(
    seconds: float,
    signals: StopSignals,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> tuple[StopReason, str] | None:
    """Sleep in short slices, returning early (with the reason) when a stop is requested."""
    deadline = clock() + seconds
    while True:
        pending = signals.pending()
        if pending is not None:
            return pending
        remaining = deadline - clock()
        if remaining <= 0:
            return None
        sleep(min(SLEEP_SLICE_SEC, remaining))
