"""A fleet's view of each loop: its status.json (iteration, tokens, cost, state) and whether its process lives."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from codex_self_iter.commands.loop_view import pid_alive
from codex_self_iter.fleet.record import LoopRecord, LoopState
from codex_self_iter.outcome import EXIT_AGENT, EXIT_BAD_INPUT, EXIT_GATE, EXIT_LOCKED, EXIT_OK
from codex_self_iter.proc.procinfo import start_ticks
from codex_self_iter.state.snapshot import read_snapshot


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
    """The loop's status.json, or an empty status when it has none (yet) or it cannot be read."""
    snap = read_snapshot(Path(loop.state_dir) / "status.json")[0] if loop.state_dir else None
    if snap is None:
        return LoopStatus()
    return LoopStatus(
        state=snap.state.value if snap.state else "",
        iteration=snap.iteration,
        tokens=snap.totals.tokens,
        cost_usd=snap.cost_usd,  # None when the loop cannot price its tokens (no usage, or a model without a price)
        stop_reason=snap.stop_reason.value if snap.stop_reason else None,
        exit_code=snap.exit_code,
        agent_pid=snap.agent_pid,
        pid=snap.pid,
    )


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
