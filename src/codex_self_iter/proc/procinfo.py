"""What Linux's /proc says about a process: its state, start time, group and owner (None elsewhere)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

PROC = Path("/proc")
# Fields of /proc/<pid>/stat counted after the ")" that ends the command name (which may hold spaces).
STATE, PGRP, START_TICKS = 0, 2, 19


def stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name, or None when there is no such process (or no /proc)."""
    return _fields(PROC / str(pid) / "stat")


def start_ticks(pid: int) -> str | None:
    """The kernel's start time of pid, to tell a reused pid from the process we knew."""
    fields = stat_fields(pid)
    return fields[START_TICKS] if fields and len(fields) > START_TICKS else None


def is_zombie(pid: int) -> bool:
    """True when pid has exited and only waits to be reaped."""
    fields = stat_fields(pid)
    return fields is not None and len(fields) > STATE and fields[STATE] == "Z"


def group_members(pgid: int) -> Iterator[tuple[Path, list[str]]]:
    """(/proc entry, stat fields) of every process in the group; nothing when /proc is absent."""
    if not PROC.is_dir():
        return
    wanted = str(pgid)
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _fields(entry / "stat")
        if fields and len(fields) > PGRP and fields[PGRP] == wanted:
            yield entry, fields


def _fields(path: Path) -> list[str] | None:
    try:
        return path.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
