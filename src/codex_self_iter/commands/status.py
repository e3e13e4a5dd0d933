"""`status [--json]`: what the loop is doing now, or how it ended; works while it runs and after."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TextIO

from pydantic import BaseModel

from codex_self_iter.checks.report import excerpt_lines
from codex_self_iter.commands.loop_view import UNKNOWN, LoopView, observe
from codex_self_iter.commands.target import locate, require_state
from codex_self_iter.commands.worktree_view import worktree_facts
from codex_self_iter.loop.reporter import cost_text, human_duration
from codex_self_iter.state.layout import Layout
from codex_self_iter.state.records import ChecksSummary
from codex_self_iter.state.snapshot import Phase, PlanProgress, StatusSnapshot
from codex_self_iter.state.stop_request import read_stop_reason, stop_file_present
from codex_self_iter.tasks.view import QueueView, queue_lines, queue_view
from codex_self_iter.text import say

STATUS_JSON_VERSION = 1


class CallView(BaseModel):
    """The agent call under way."""

    iteration: int
    role: str
    agent_pid: int
    started_at: float | None
    elapsed_sec: float | None


class StatusReport(BaseModel):
    """The documented `status --json` object: status.json seen together with the lock, the pid and STOP."""

    version: int = STATUS_JSON_VERSION
    state: str
    running: bool
    summary: str = ""
    pid: int | None
    pid_alive: bool
    lock_held: bool
    iteration: int
    last_iteration: int | None  # where this run's max_iterations budget ends it
    plan: PlanProgress | None  # the plan's checklist: checked items of all
    call: CallView | None
    goal: str | None
    task: str | None  # the queued task being worked on
    tasks: QueueView | None  # the task queue, when there is one
    streaks: dict[str, int]  # only the streaks that are not zero
    backoff_until: float | None
    backoff_reason: str | None
    last_checks: ChecksSummary | None
    tokens: int
    cost_usd: float | None  # None: the model's price (or the usage) is unknown, not zero
    model: str | None
    agent_calls: int
    agent_seconds: float
    started_at: float | None
    updated_at: float | None
    elapsed_sec: float | None
    stop_reason: str | None
    stop_detail: str | None
    exit_code: int | None
    stop_requested: str | None
    problem: str | None
    workspace: str
    state_dir: str
    worktree: dict[str, object] | None = None  # a worktree run: id, branch, worktree, base, checkpoints, merged


def cmd_status(args: argparse.Namespace) -> int:
    """Print the loop's state (0), or one error line when there is none to show (1)."""
    layout = locate(args)
    require_state(layout)
    report = status_report(layout, observe(layout), time.time())
    report.worktree = worktree_facts(layout.state_dir)
    if args.json:
        print(json.dumps(report.model_dump(mode="json"), indent=2, sort_keys=True, ensure_ascii=False, default=str))
    else:
        print_status(report, sys.stdout)
    return 0


def status_report(layout: Layout, view: LoopView, now: float) -> StatusReport:
    """The `status --json` object of this view of the loop."""
    snap = view.snapshot
    started = snap.started_at
    elapsed = now - started if view.running and started else snap.elapsed_sec
    stop_file = stop_file_present((layout.stop_file, layout.global_stop_file))
    backing_off = view.state == Phase.BACKING_OFF
    ended = not view.running
    report = StatusReport(
        state=view.state,
        running=view.running,
        pid=view.pid,
        pid_alive=view.pid_alive,
        lock_held=view.lock_held,
        iteration=snap.iteration,
        last_iteration=snap.last_iteration,
        plan=snap.plan,
        call=_call(snap, now) if view.running else None,
        goal=snap.goal,
        task=snap.task,
        tasks=None,
        streaks={k: v for k, v in snap.streaks.model_dump().items() if v},
        backoff_until=snap.backoff_until if backing_off else None,
        backoff_reason=snap.backoff_reason if backing_off else None,
        last_checks=ChecksSummary.model_validate(snap.last_checks.model_dump()) if snap.last_checks else None,
        tokens=snap.totals.tokens,
        cost_usd=snap.cost_usd,
        model=snap.model,
        agent_calls=snap.totals.agent_calls,
        agent_seconds=snap.totals.agent_seconds,
        started_at=started,
        updated_at=snap.updated_at,
        elapsed_sec=round(elapsed, 1) if elapsed is not None else None,
        stop_reason=snap.stop_reason if ended else None,
        stop_detail=snap.stop_detail if ended else None,
        exit_code=snap.exit_code if ended else None,
        stop_requested=read_stop_reason(stop_file) if stop_file else None,
        problem=view.problem or None,
        workspace=str(layout.workspace),
        state_dir=str(layout.state_dir),
    )
    now_iteration = report.call.iteration if report.call else report.iteration
    report.tasks = queue_view(layout.queue_file, layout.journal, now_iteration)
    return report.model_copy(update={"summary": headline(report, now)})


def headline(report: StatusReport, now: float) -> str:
    """One line: running / backing off until T / stopped (reason) / complete."""
    state, pid = report.state, report.pid
    if state == Phase.BACKING_OFF:
        until = report.backoff_until or now
        text = f"backing off until {_clock(until)} (in {human_duration(max(0.0, until - now))})"
        return text + (f": {report.backoff_reason}" if report.backoff_reason else "")
    if state in (Phase.RUNNING, Phase.STARTING):
        call = report.call
        if call:
            took = human_duration(call.elapsed_sec or 0)
            task = f"task {report.task} · " if report.task else ""
            of = f"/{report.last_iteration}" if report.last_iteration else ""
            return f"{state} (pid {pid}) · {task}iteration {call.iteration}{of}: {call.role} running for {took}"
        return f"{state} (pid {pid}) · {report.iteration} iteration(s) done"
    if state == Phase.CRASHED:
        return (
            f"stopped (crashed? pid {pid} is gone and the lock is free) at iteration {report.iteration}; "
            "`run` resumes from the saved state"
        )
    if state == UNKNOWN:
        return f"unknown: {report.problem}"
    reason = report.stop_reason or "?"
    label = "complete" if state == Phase.COMPLETE else f"stopped: {reason}"
    detail = f" — {report.stop_detail}" if report.stop_detail else ""
    return f"{label} (exit {report.exit_code}) at iteration {report.iteration}{detail}"


def print_status(report: StatusReport, out: TextIO) -> None:
    """The human view of a status report."""
    say(f"codex-self-iter: {report.summary}", file=out)
    if report.worktree:
        facts = report.worktree
        merged = " · merged" if facts["merged"] else ""
        say(
            f"  worktree run {facts['id']}: branch {facts['branch']}, {facts['checkpoints']} checkpoint(s){merged}",
            file=out,
        )
        say(f"  worktree: {facts['worktree']}", file=out)
    if report.tasks:
        for line in queue_lines(report.tasks):
            say(f"  {line}", file=out)
    if report.goal:
        say(f"  goal: {' '.join(report.goal.split())[:300]}", file=out)
    if report.plan:
        say(f"  plan: {report.plan.done}/{report.plan.total} steps checked off", file=out)
    if report.streaks:
        say("  streaks: " + " · ".join(f"{k} {v}" for k, v in sorted(report.streaks.items())), file=out)
    checks = report.last_checks
    if checks:
        say(f"  last checks: {checks.summary} (iteration {checks.iteration})", file=out)
        for check in checks.checks:
            if check.excerpt is not None:
                for line in excerpt_lines(check.name, check.excerpt.model_dump()):
                    say(f"    {line}", file=out)
    elapsed = report.elapsed_sec
    cost = f"cost: {cost_text(report.cost_usd, report.model)} · " if report.model or report.cost_usd else ""
    say(
        f"  tokens: {report.tokens:,} · {cost}agent calls: {report.agent_calls} · "
        f"agent time: {human_duration(report.agent_seconds)} · "
        f"elapsed: {human_duration(elapsed) if elapsed is not None else '?'}",
        file=out,
    )
    if report.stop_requested:
        when = "before its next agent call" if report.running else "`run` refuses to start until it is removed"
        say(f"  STOP requested: {report.stop_requested} ({when}, or use --clear-stop)", file=out)
    say(f"  state dir: {report.state_dir}", file=out)


def _call(snap: StatusSnapshot, now: float) -> CallView | None:
    if not snap.role or not snap.agent_pid:
        return None
    started = snap.call_started_at
    return CallView(
        iteration=snap.call_iteration or snap.iteration + 1,
        role=snap.role,
        agent_pid=snap.agent_pid,
        started_at=started,
        elapsed_sec=round(now - started, 1) if started else None,
    )


def _clock(epoch: float) -> str:
    same_day = time.localtime(epoch)[:3] == time.localtime()[:3]
    return time.strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M:%S", time.localtime(epoch))
