"""A fleet's view of each loop: its status.json (iteration, tokens, cost, state) and whether its process lives."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_self_iter.commands.loop_view import pid_alive
from codex_self_iter.fleet.record import LoopRecord, LoopState
from codex_self_iter.outcome import EXIT_AGENT, EXIT_BAD_INPUT, EXIT_GATE, EXIT_LOCKED, EXIT_OK
from codex_self_iter.proc.procinfo import start_ticks
from codex_self_iter.state.fsio import read_json


@dataclass(frozen=True)
class LoopStatus:
    """What a loop's status.json says, the parts a fleet shows and sums."""

    state: str = ""
    iteration: int = 0
    tokens: int = 0
    cost_usd: float | None = None
    stop_reason: str | None = None
    exit_code: int | None = None
    agent_pid: int | None = None
    pid: int | None = None


def read_status(loop: LoopRecord) -> LoopStatus:
    """The loop's status.json, or an empty status when it has none (yet)."""
    if not loop.state_dir:
        return LoopStatus()
    data = read_json(Path(loop.state_dir) / "status.json")
    if not isinstance(data, dict):
        return LoopStatus()
    totals: dict[str, Any] = data["totals"] if isinstance(data.get("totals"), dict) else {}
    cost = totals.get("cost_usd")
    return LoopStatus(
        state=str(data.get("state") or ""),
        iteration=_int(data.get("iteration")),
        tokens=_int(totals.get("tokens")),
        cost_usd=float(cost) if isinstance(cost, (int, float)) else None,
        stop_reason=data.get("stop_reason") if isinstance(data.get("stop_reason"), str) else None,
        exit_code=data.get("exit_code") if isinstance(data.get("exit_code"), int) else None,
        agent_pid=data.get("agent_pid") if isinstance(data.get("agent_pid"), int) else None,
        pid=data.get("pid") if isinstance(data.get("pid"), int) else None,
    )


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def outcome_state(exit_code: int | None) -> LoopState:
    """Where a loop's exit code puts it: a final outcome, or interrupted (to be continued by the next fleet run)."""
    if exit_code == EXIT_OK:
        return "complete"
    if exit_code == EXIT_GATE:
        return "stopped"
    if exit_code in (EXIT_BAD_INPUT, EXIT_AGENT, EXIT_LOCKED):
        return "failed"
    return "interrupted"  # stopped by the user or the fleet (5), interrupted (130), killed by a signal, or unknown


def still_running(loop: LoopRecord) -> bool:
    """True while the loop's recorded process lives (the same process: its start time matches, not a reused pid)."""
    return loop.pid is not None and pid_alive(loop.pid) and start_ticks(loop.pid) == loop.pid_start
