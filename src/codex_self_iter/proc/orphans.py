"""The running agent's identity on disk, so a loop killed with -9 cannot leave its agent writing forever."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from codex_self_iter.proc.process import ProcessHandle, group_alive, kill_group
from codex_self_iter.proc.procinfo import group_members, start_ticks
from codex_self_iter.state.fsio import atomic_write_json, read_json


def remember_agent(path: Path, handle: ProcessHandle) -> None:
    """Record a just-started agent's process group."""
    atomic_write_json(
        path, {"pid": handle.pid, "pgid": handle.pgid, "start": start_ticks(handle.pid), "reaper": handle.reaper}
    )


def forget_agent(path: Path) -> None:
    """The agent ended normally: nothing to clean up later."""
    with contextlib.suppress(OSError):
        path.unlink()


def end_leftover_agent(path: Path) -> int | None:
    """End the process group a dead loop left behind; returns its pgid when something was ended."""
    data = read_json(path)
    forget_agent(path)
    if not isinstance(data, dict) or not _is_pid(data.get("pgid")):
        return None
    pgid = int(data["pgid"])
    pid = int(data["pid"]) if _is_pid(data.get("pid")) else pgid
    if pgid == os.getpgrp():
        return None
    leader_same = pid == pgid and data.get("start") is not None and start_ticks(pid) == data.get("start")
    # Only a group whose leader is provably the same process, or a leaderless group we still own, is ended.
    if leader_same or (start_ticks(pid) is None and group_alive(pgid) and _owned(pgid)):
        kill_group(pgid)
        return pgid
    return None


def _is_pid(value: object) -> bool:
    """A plausible pid from a file we may not trust: an int (not a bool) the kernel could have handed out."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 < value < 2**31


def _owned(pgid: int) -> bool:
    for entry, _ in group_members(pgid):
        try:
            return entry.stat().st_uid == os.getuid()
        except OSError:
            continue
    return False
