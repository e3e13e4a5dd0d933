"""Watch which processes a test's codex calls start (Linux /proc), to prove afterwards that none survived."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from types import TracebackType

from codex_self_iter.proc.call_reaper import NAME

REAPER_NAME = NAME.decode()


@dataclass(frozen=True)
class Seen:
    """A process seen while the watcher ran: its kernel start time (to tell a reused pid apart) and name."""

    start: str
    name: str


def _stat(pid: int) -> tuple[int, str, str, str] | None:
    """(ppid, state, start ticks, name) of pid, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
            stat = handle.read()
    except OSError:
        return None
    name = stat.split("(", 1)[1].rsplit(")", 1)[0]
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[1]), fields[0], fields[19], name


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read()
    except OSError:
        return b""


class ProcessWatcher:
    """`with ProcessWatcher(marker) as watcher:` records every call reaper this process forks and every child whose
    command line contains `marker` (e.g. the test's unique workspace path, which every codex argv names), and all of
    their descendants, also those that left the child's process group or session."""

    def __init__(self, marker: str, interval: float = 0.05) -> None:
        self.marker = marker.encode()
        self.interval = interval
        self.seen: dict[int, Seen] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._me = os.getpid()

    def __enter__(self) -> ProcessWatcher:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def alive(self) -> dict[int, str]:
        """pid -> name of every seen process that still runs (same pid and start time, not a zombie)."""
        living: dict[int, str] = {}
        for pid, seen in self.seen.items():
            now = _stat(pid)
            if now is not None and now[2] == seen.start and now[1] not in ("Z", "X"):
                living[pid] = seen.name
        return living

    def survivors(self, grace: float = 2.0) -> dict[int, str]:
        """alive() after giving processes outside the agent's own process group (the sandbox's, which the kernel
        ends when their PID namespace dies) up to `grace` seconds to be gone."""
        deadline = time.monotonic() + grace
        while (living := self.alive()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return living

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            self._scan()

    def _scan(self) -> None:
        table: dict[int, tuple[int, str, str, str]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit() and (found := _stat(int(entry))) is not None:
                table[int(entry)] = found
        roots = [pid for pid, (ppid, _, _, name) in table.items() if ppid == self._me and self._is_call(pid, name)]
        tree = set(roots) | {pid for pid in self.seen if pid in table and table[pid][2] == self.seen[pid].start}
        grew = True
        while grew:
            children = {pid for pid, (ppid, *_) in table.items() if ppid in tree and pid not in tree}
            tree |= children
            grew = bool(children)
        for pid in tree:
            _, _, start, name = table[pid]
            self.seen.setdefault(pid, Seen(start, name))

    def _is_call(self, pid: int, name: str) -> bool:
        """A call's reaper (forked from this process, so its command line is ours) or a command naming the marker."""
        return name == REAPER_NAME or self.marker in _cmdline(pid)
