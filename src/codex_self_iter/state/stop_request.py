"""How a loop is told to stop: STOP files, signals, and a sleep that notices both."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from codex_self_iter.outcome import StopReason

SLEEP_SLICE_SEC = 0.1


def stop_file_present(files: tuple[Path, ...]) -> Path | None:
    """The first STOP sentinel that exists, if any."""
    for path in files:
        if path.exists():
            return path
    return None


def read_stop_reason(path: Path) -> str:
    """The reason written into a STOP file by `stop`, or a plain description."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"{path.name} present"
    if isinstance(data, dict) and data.get("reason"):
        return str(data["reason"])
    return f"{path.name} present"


@dataclass
class StopSignals:
    """Collects SIGTERM / SIGINT and STOP files into one question: should the loop stop now?"""

    stop_files: tuple[Path, ...]
    signalled: StopReason | None = None
    _previous: dict[int, object] = field(default_factory=dict)

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
        """True once a signal arrived: a running agent must be ended."""
        return self.signalled is not None

    def pending(self) -> tuple[StopReason, str] | None:
        """Why the loop must stop before its next agent call, if it must."""
        found = stop_file_present(self.stop_files)
        if self.signalled is not None:
            what = "interrupted (SIGINT)" if self.signalled is StopReason.INTERRUPTED else "stopped by SIGTERM"
            if found is not None and self.signalled is StopReason.SIGNAL:
                what += f" ({read_stop_reason(found)})"  # `stop --now --reason ...` wrote why
            return self.signalled, what
        if found is not None:
            return StopReason.STOP_FILE, f"{found}: {read_stop_reason(found)}"
        return None


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
