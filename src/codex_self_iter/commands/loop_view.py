"""Is the loop really running? status.json read together with the lock and the pid it names."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from codex_self_iter.errors import UserError
from codex_self_iter.proc.procinfo import is_zombie
from codex_self_iter.state.fsio import read_json
from codex_self_iter.state.layout import Layout
from codex_self_iter.state.loop_lock import is_locked
from codex_self_iter.state.snapshot import LIVE_PHASES, Phase, StatusSnapshot, read_snapshot

UNKNOWN = "unknown"  # the view's state when status.json and the lock disagree


@dataclass(frozen=True)
class LoopView:
    """The loop as seen from outside: the state to show, and the evidence for it."""

    state: Phase | str  # a Phase, or UNKNOWN
    running: bool
    lock_held: bool
    pid: int | None
    pid_alive: bool
    snapshot: StatusSnapshot = field(default_factory=StatusSnapshot)
    problem: str = ""


def pid_alive(pid: int | None) -> bool:
    """True while pid names a live process (a zombie awaiting its parent does not count)."""
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not is_zombie(pid)


def holder_pid(layout: Layout) -> int | None:
    """The pid recorded by the loop that holds (or last held) the lock."""
    data = read_json(layout.holder_file)
    pid = data.get("pid") if isinstance(data, dict) else None
    return pid if isinstance(pid, int) else None


def observe(layout: Layout) -> LoopView:
    """Read the lock first, then status.json: a loop writes its final status before it releases the lock."""
    lock_held = is_locked(layout.lock_file)
    found, problem = read_snapshot(layout.status_file)
    snapshot = found or StatusSnapshot()
    recorded, status_pid = snapshot.state, snapshot.pid
    if not lock_held:
        if found is None:
            if problem:
                raise UserError(f"{layout.status_file}: {problem}; the next `run` rewrites it")
            raise UserError(f"{layout.status_file}: no status yet; start a loop with `codex-self-iter run`")
        state = Phase.CRASHED if recorded in (*LIVE_PHASES, Phase.CRASHED) else recorded or UNKNOWN
        return LoopView(state, False, False, status_pid, pid_alive(status_pid), snapshot, problem)
    pid = holder_pid(layout) or status_pid
    alive = pid_alive(pid)
    if not alive:
        why = f"pid {pid} is not alive" if pid else "no pid is recorded"
        return LoopView(UNKNOWN, False, True, pid, False, snapshot, f"the lock is held but {why}")
    if status_pid != pid or recorded is None:
        return LoopView(Phase.STARTING, True, True, pid, True, snapshot, problem)  # its first status is not written yet
    # The loop writes its final state, then releases the lock: in between it is finishing, not running.
    return LoopView(recorded, recorded in LIVE_PHASES, True, pid, True, snapshot, problem)
