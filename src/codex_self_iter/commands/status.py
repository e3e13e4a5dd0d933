"""`status [--json]`: what the loop is doing now, or how it ended; works while it runs and after."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, TextIO

from codex_self_iter.checks.report import excerpt_lines
from codex_self_iter.commands.loop_view import LoopView, observe
from codex_self_iter.commands.target import locate, require_state
from codex_self_iter.loop.reporter import human_duration
from codex_self_iter.state.layout import Layout
from codex_self_iter.state.stop_request import read_stop_reason, stop_file_present

STATUS_JSON_VERSION = 1


def cmd_status(args: argparse.Namespace) -> int:
    """Print the loop's state (0), or one error line when there is none to show (1)."""
    layout = locate(args)
    require_state(layout)
    report = status_report(layout, observe(layout), time.time())
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False, default=str))
    else:
        print_status(report, sys.stdout)
    return 0


def status_report(layout: Layout, view: LoopView, now: float) -> dict[str, Any]:
    """The documented `status --json` object."""
    snap = view.snapshot
    totals: dict[str, Any] = snap["totals"] if isinstance(snap.get("totals"), dict) else {}
    started = _number(snap.get("started_at"))
    elapsed = now - started if view.running and started else _number(snap.get("elapsed_sec"))
    stop_file = stop_file_present((layout.stop_file, layout.global_stop_file))
    report: dict[str, Any] = {
        "version": STATUS_JSON_VERSION,
        "state": view.state,
        "running": view.running,
        "pid": view.pid,
        "pid_alive": view.pid_alive,
        "lock_held": view.lock_held,
        "iteration": snap.get("iteration", 0),
        "call": _call(snap, now) if view.running else None,
        "goal": snap.get("goal"),
        "streaks": {k: v for k, v in (snap.get("streaks") or {}).items() if v},
        "backoff_until": snap.get("backoff_until") if view.state == "backing_off" else None,
        "backoff_reason": snap.get("backoff_reason") if view.state == "backing_off" else None,
        "last_checks": _checks(snap.get("last_checks")),
        "tokens": int(totals.get("tokens") or 0),
        "agent_calls": int(totals.get("agent_calls") or 0),
        "agent_seconds": float(totals.get("agent_seconds") or 0.0),
        "started_at": started,
        "updated_at": snap.get("updated_at"),
        "elapsed_sec": round(elapsed, 1) if elapsed is not None else None,
        "stop_reason": snap.get("stop_reason") if not view.running else None,
        "stop_detail": snap.get("stop_detail") if not view.running else None,
        "exit_code": snap.get("exit_code") if not view.running else None,
        "stop_requested": read_stop_reason(stop_file) if stop_file else None,
        "problem": view.problem or None,
        "workspace": str(layout.workspace),
        "state_dir": str(layout.state_dir),
    }
    report["summary"] = headline(report, now)
    return report


def headline(report: dict[str, Any], now: float) -> str:
    """One line: running / backing off until T / stopped (reason) / complete."""
    state, pid = report["state"], report["pid"]
    if state == "backing_off":
        until = _number(report["backoff_until"]) or now
        text = f"backing off until {_clock(until)} (in {human_duration(max(0.0, until - now))})"
        return text + (f": {report['backoff_reason']}" if report["backoff_reason"] else "")
    if state in ("running", "starting"):
        call = report["call"]
        if call:
            took = human_duration(call["elapsed_sec"] or 0)
            return f"{state} (pid {pid}) · iteration {call['iteration']}: {call['role']} running for {took}"
        return f"{state} (pid {pid}) · {report['iteration']} iteration(s) done"
    if state == "crashed":
        return (
            f"stopped (crashed? pid {pid} is gone and the lock is free) at iteration {report['iteration']}; "
            "`run` resumes from the saved state"
        )
    if state == "unknown":
        return f"unknown: {report['problem']}"
    reason = report["stop_reason"] or "?"
    label = "complete" if state == "complete" else f"stopped: {reason}"
    detail = f" — {report['stop_detail']}" if report["stop_detail"] else ""
    return f"{label} (exit {report['exit_code']}) at iteration {report['iteration']}{detail}"


def print_status(report: dict[str, Any], out: TextIO) -> None:
    """The human view of a status report."""
    print(f"codex-self-iter: {report['summary']}", file=out)
    if report["goal"]:
        print(f"  goal: {' '.join(str(report['goal']).split())[:300]}", file=out)
    if report["streaks"]:
        print("  streaks: " + " · ".join(f"{k} {v}" for k, v in sorted(report["streaks"].items())), file=out)
    checks = report["last_checks"]
    if checks:
        print(f"  last checks: {checks['summary']} (iteration {checks['iteration']})", file=out)
        for check in checks.get("checks") or []:
            if isinstance(check, dict) and isinstance(check.get("excerpt"), dict):
                for line in excerpt_lines(str(check.get("name")), check["excerpt"]):
                    print(f"    {line}", file=out)
    elapsed = report["elapsed_sec"]
    print(
        f"  tokens: {report['tokens']:,} · agent calls: {report['agent_calls']} · "
        f"agent time: {human_duration(report['agent_seconds'])} · "
        f"elapsed: {human_duration(elapsed) if elapsed is not None else '?'}",
        file=out,
    )
    if report["stop_requested"]:
        when = "before its next agent call" if report["running"] else "`run` refuses to start until it is removed"
        print(f"  STOP requested: {report['stop_requested']} ({when}, or use --clear-stop)", file=out)
    print(f"  state dir: {report['state_dir']}", file=out)


def _call(snap: dict[str, Any], now: float) -> dict[str, Any] | None:
    if not snap.get("role") or not snap.get("agent_pid"):
        return None
    started = _number(snap.get("call_started_at"))
    return {
        "iteration": snap.get("call_iteration") or int(snap.get("iteration") or 0) + 1,
        "role": snap["role"],
        "agent_pid": snap["agent_pid"],
        "started_at": started,
        "elapsed_sec": round(now - started, 1) if started else None,
    }


def _checks(record: Any) -> dict[str, Any] | None:
    if not isinstance(record, dict):
        return None
    keep = ("iteration", "all_passed", "summary", "checks")
    return {key: record.get(key) for key in keep}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _clock(epoch: float) -> str:
    same_day = time.localtime(epoch)[:3] == time.localtime()[:3]
    return time.strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M:%S", time.localtime(epoch))
