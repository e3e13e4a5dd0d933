"""The running agent's identity on disk, so a loop killed with -9 cannot leave its agent writing forever."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from codex_self_iter.proc.process import ProcessHandle, group_alive, kill_group
from codex_self_iter.proc.procinfo import group_members, start_ticks
from codex_self_iter.proc.reaped import MARKER_VAR
from codex_self_iter.state.fsio import atomic_write_json, read_json


def remember_agent(path: Path, handle: ProcessHandle) -> None:
    """Record a just-started agent: its group, its reaper, and the marker every process the agent starts carries."""
    record = {"pid": handle.pid, "pgid": handle.pgid, "start": start_ticks(handle.pid), "reaper": handle.reaper}
    atomic_write_json(path, {**record, "marker": handle.marker})


def forget_agent(path: Path) -> None:
    """The agent ended normally: nothing to clean up later."""
    with contextlib.suppress(OSError):
        path.unlink()


def end_leftover_agent(path: Path) -> int | None:
    """End the process group a dead loop left behind; returns its pgid when something was ended.

    The record lives in private state, and still proves nothing by itself: a group is ended only when one of its
    processes carries the call's marker in its environment (so a reused pid or a forged record ends nothing).
    """
    data = read_json(path)
    forget_agent(path)
    if not isinstance(data, dict) or not _is_pid(data.get("pgid")):
        return None
    marker = data.get("marker")
    if not isinstance(marker, str) or len(marker) < 16:
        return None
    # Only the command's group: the reaper (a fork of the dead loop, without the marker) ends itself once the
    # loop is gone, and whatever it adopted was in the command's tree, which it ends or which this ends.
    pgid = int(data["pgid"])
    if pgid != os.getpgrp() and group_alive(pgid) and _carries(pgid, marker):
        kill_group(pgid)
        return pgid
    return None


def _is_pid(value: object) -> bool:
    """A plausible pid from a file we may not trust: an int (not a bool) the kernel could have handed out."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 < value < 2**31


def _carries(pgid: int, marker: str) -> bool:
    needle = f"{MARKER_VAR}={marker}".encode()
    for entry, _ in group_members(pgid):
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                return True
        except OSError:
            continue
    return False
