"""Journal records (logs/iterations.jsonl) as table rows: one per agent call, run start, backoff or stop."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from codex_self_iter.loop.reporter import human_duration
from codex_self_iter.tasks.queue import DELETED_MID_EPISODE

HEADER = ("#", "time", "role", "outcome", "took", "files", "tokens", "cost", "checks")
MIN_WIDTHS = (5, 8, 12, 48, 5, 5, 8, 4, 0)  # the outcome's width is also where it wraps
RIGHT = (True, False, False, False, True, True, True, True, False)
OUTCOME = HEADER.index("outcome")
ROLE_MAX = 32
CAUSE_MAX_CHARS = 4000  # a runaway error text stays bounded even in --wide


@dataclass
class Row:
    """One line of the history table."""

    iteration: str
    when: str
    role: str
    outcome: str
    took: str = ""
    files: str = ""
    tokens: str = ""
    cost: str = ""
    checks: str = ""


def to_rows(records: Iterable[dict[str, Any]]) -> list[Row]:
    """Rows in journal order; a checks record fills the checks column of its iteration's executor row."""
    rows: list[Row] = []
    for record in records:
        event = record.get("event")
        if event == "checks":
            _attach_checks(rows, record)
            continue
        row = _row(record)
        if row is not None:
            rows.append(row)
    return rows


@dataclass
class Table:
    """Column widths that grow with what was shown (so `--follow` stays aligned); long outcomes wrap unless wide."""

    wide: bool = False
    widths: list[int] = field(default_factory=lambda: list(MIN_WIDTHS))

    def lines(self, rows: list[Row], header: bool = True) -> list[str]:
        """Text lines for rows (the header first unless header=False)."""
        cells = [_cells(row) for row in rows]
        for row in cells:
            for index, cell in enumerate(row[:-1]):
                if index != OUTCOME or self.wide:
                    limit = ROLE_MAX if HEADER[index] == "role" else CAUSE_MAX_CHARS
                    self.widths[index] = max(self.widths[index], min(len(cell), limit))
        lines = [self._line(HEADER)] if header else []
        for row in cells:
            lines += self._row_lines(row)
        return lines

    def _row_lines(self, cells: tuple[str, ...]) -> list[str]:
        width = self.widths[OUTCOME]
        parts = textwrap.wrap(cells[OUTCOME], width) if not self.wide and len(cells[OUTCOME]) > width else []
        if not parts:
            return [self._line(cells)]
        first = self._line((*cells[:OUTCOME], parts[0], *cells[OUTCOME + 1 :]))
        blank = ("",) * len(cells)
        return [first] + [self._line((*blank[:OUTCOME], part, *blank[OUTCOME + 1 :])) for part in parts[1:]]

    def _line(self, cells: tuple[str, ...]) -> str:
        columns = zip(cells, self.widths, RIGHT, strict=True)
        parts = [cell.rjust(width) if right else cell.ljust(width) for cell, width, right in columns]
        return "  ".join(parts).rstrip()


def format_rows(rows: list[Row], header: bool = True, wide: bool = False) -> list[str]:
    """Aligned text lines (the header first unless header=False); long outcomes wrap unless wide."""
    return Table(wide).lines(rows, header)


def _row(record: dict[str, Any]) -> Row | None:
    event, when, number = record.get("event"), _when(record.get("ts")), str(record.get("iteration", ""))
    task = f"{record['task']} " if record.get("task") else ""  # a task queue's records name their task
    if event == "agent_call":
        return Row(
            number,
            when,
            task + str(record.get("role", "?")) + (" (repaired)" if record.get("repaired") else ""),
            _outcome(record),
            human_duration(_seconds(record.get("duration_sec"))),
            str(record.get("files_changed") or "-"),
            f"{record['tokens']:,}" if isinstance(record.get("tokens"), int) else "-",
            _money(record.get("cost_usd")),
        )
    if event == "start":
        return Row("", when, "run started", f"runner {record.get('runner', '?')}")
    if event == "decision" and record.get("kind") == "backoff":
        return Row(number, when, "backoff", f"{record.get('seconds', '?')}s: {record.get('reason', '')}")
    if event == "decision" and record.get("kind") == "replan":
        return Row(number, when, "re-plan", str(record.get("reason", "")))
    if event == "decision" and record.get("kind") == "claim":
        verdict = "claim accepted" if record.get("success") else "claim rejected"
        return Row(number, when, "decision", f"{verdict}: {record.get('reason', '')}")
    if event == "stop" and record.get("task") and record.get("reason") == "complete":
        return None  # a queued task's episode ended verified: its "task … done" row says so
    if event == "stop" and record.get("task") and DELETED_MID_EPISODE in str(record.get("detail")):
        return None  # its task file was deleted: the "task … removed" row says so, and the run went on
    if event == "stop":
        outcome = f"{record.get('reason', '?')} (exit {record.get('exit_code', '?')})"
        return Row(number, when, "stopped", outcome, checks=str(record.get("detail") or ""))
    if event == "task_changed":
        return Row(number, when, "task changed", "re-plan for the new task")
    if event == "checkpoint":
        return Row(number, when, "checkpoint", f"commit {str(record.get('commit', ''))[:12]}")
    if event == "rollback":
        return Row(number, when, "rollback", f"branch back to {str(record.get('commit', ''))[:12]}")
    return _queue_row(record, event, when, number)


def _queue_row(record: dict[str, Any], event: Any, when: str, number: str) -> Row | None:
    task = str(record.get("task", "?"))
    if event == "task_started":
        return Row(number, when, f"task {task}", f"started: {record.get('title', '')}")
    if event in ("task_done", "task_blocked"):
        return Row(number, when, f"task {task}", f"{event[5:]}: {record.get('outcome', '')}")
    if event == "task_edited":
        return Row(number, when, "task edited", str(record.get("note", "")))
    if event == "queue_recovered":
        return Row(number, when, "task queue", str(record.get("note", "")))
    if event == "task_removed":
        return Row(
            number, when, f"task {task}", f"removed ({str(record.get('was', '?')).replace('_', ' ')}): file deleted"
        )
    if event == "audit":
        gaps = record.get("gaps") or []
        return Row(
            number, when, "final audit", f"{record.get('verdict', '?')}" + (f": {len(gaps)} gap(s)" if gaps else "")
        )
    if event == "audit_followups":
        return Row(number, when, "final audit", "added " + ", ".join(str(f) for f in record.get("files") or []))
    return None


def _outcome(record: dict[str, Any]) -> str:
    if record.get("failure") == "none":
        return "cancelled (the loop was stopped)"
    if record.get("failure"):
        text = f"failed: {record['failure']}" + (" (timed out)" if record.get("timed_out") else "")
        return text + (f": {record['error']}" if record.get("error") else "")
    if record.get("role") == "planner":
        return "says stop" if record.get("stop") else f"goal: {record.get('next_goal', '')}"
    return str(record.get("verdict") or record.get("status") or "?")


def _attach_checks(rows: list[Row], record: dict[str, Any]) -> None:
    summary = str(record.get("summary") or ("passed" if record.get("all_passed") else "failed"))
    number = str(record.get("iteration", ""))
    for row in reversed(rows):
        if row.iteration == number and row.role.startswith("executor"):
            row.checks = summary
            return
    label = str(record.get("label") or "checks")
    rows.append(Row(number, _when(record.get("ts")), label, "checks run", checks=summary))


def _cells(row: Row) -> tuple[str, ...]:
    role = row.role if len(row.role) <= ROLE_MAX else row.role[: ROLE_MAX - 1] + "…"
    outcome = " ".join(row.outcome.split())
    outcome = outcome if len(outcome) <= CAUSE_MAX_CHARS else outcome[: CAUSE_MAX_CHARS - 1] + "…"
    return (row.iteration, row.when, role, outcome, row.took, row.files, row.tokens, row.cost, row.checks)


def _money(cost: Any) -> str:
    if not isinstance(cost, (int, float)) or isinstance(cost, bool):
        return "-"  # no price, or no usage: unknown, not zero
    return f"${cost:.3f}" if cost < 1 else f"${cost:.2f}"


def _when(ts: Any) -> str:
    if not isinstance(ts, (int, float)):
        return ""
    return time.strftime("%H:%M:%S", time.localtime(ts))


def _seconds(value: object) -> float:
    """A duration from a journal line that may have been edited: a finite number of seconds, else 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0.0
    return float(value) if 0 <= value < 1e12 else 0.0
