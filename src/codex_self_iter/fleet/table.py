"""`fleet status`: one row per loop (repository, task, state, iteration, tokens, cost, branch, stop reason)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TextIO

from codex_self_iter.fleet.observe import read_status, still_running
from codex_self_iter.fleet.record import FleetRecord, LoopRecord
from codex_self_iter.fleet.text import clean

FLEET_JSON_VERSION = 1
COLUMNS = ("loop", "repository", "task", "state", "iter", "tokens", "cost", "branch", "stop reason")


def loop_row(loop: LoopRecord) -> dict[str, Any]:
    """One loop as `fleet status --json` shows it; a running loop's numbers are read live from its status.json."""
    live = loop.state == "running"
    status = read_status(loop) if live else None
    state: str = loop.state
    if live and not still_running(loop):
        state = "crashed"  # the fleet runner is gone and so is this loop: the next `fleet run` continues it
    return {
        "id": loop.id,
        "repository": loop.repo,
        "task": loop.task,
        "state": state,
        "iteration": status.iteration if status else loop.iteration,
        "tokens": status.tokens if status else loop.tokens,
        "cost_usd": status.cost_usd if status else loop.cost_usd,
        "branch": loop.branch or None,
        "stop_reason": loop.stop_reason,
        "exit_code": loop.exit_code,
        "pid": loop.pid if live else None,
        "starts": loop.starts,
        "started_at": loop.started_at,
        "ended_at": loop.ended_at,
        "note": loop.note or None,
        "workspace": loop.workspace or None,
        "state_dir": loop.state_dir or None,
        "log": loop.log or None,
    }


def fleet_report(fleet_dir: Path, fleet: FleetRecord, runner_alive: bool) -> dict[str, Any]:
    """The documented `fleet status --json` object."""
    rows = [loop_row(loop) for loop in fleet.loops]
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["state"]] = counts.get(row["state"], 0) + 1
    return {
        "version": FLEET_JSON_VERSION,
        "fleet_dir": str(fleet_dir),
        "running": runner_alive,
        "runner_pid": fleet.runner_pid if runner_alive else None,
        "parallel": fleet.parallel,
        "budget": fleet.budget.model_dump(),
        "tokens": sum(row["tokens"] for row in rows),
        "cost_usd": round(sum(row["cost_usd"] or 0.0 for row in rows), 4),
        "stop_reason": fleet.stop_reason if not runner_alive else None,
        "counts": counts,
        "loops": rows,
    }


def print_table(report: dict[str, Any], out: TextIO) -> None:
    """The human view: a headline and one aligned row per loop."""
    counts = " · ".join(f"{n} {state}" for state, n in sorted(report["counts"].items()))
    who = f"running (pid {report['runner_pid']})" if report["running"] else "not running"
    tail = f", stopped: {report['stop_reason']}" if report["stop_reason"] else ""
    print(f"codex-self-iter fleet: {who}{tail} · {counts} · tokens {report['tokens']:,}", file=out)
    rows = [COLUMNS, *(_cells(row) for row in report["loops"])]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip(), file=out)


def _cells(row: dict[str, Any]) -> tuple[str, ...]:
    cost = row["cost_usd"]
    reason = row["stop_reason"] or row["note"] or ("-" if row["state"] != "running" else "")
    return (
        row["id"],
        _short_path(row["repository"]),
        row["task"] or "TASK.md",
        row["state"],
        str(row["iteration"]),
        f"{row['tokens']:,}",
        "-" if cost is None else f"${cost:.2f}",
        row["branch"] or "-",
        clean(str(reason), 60),
    )


def _short_path(path: str) -> str:
    home = str(Path.home())
    return "~" + path[len(home) :] if path.startswith(home + "/") else path
