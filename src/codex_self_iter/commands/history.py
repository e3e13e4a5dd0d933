"""`history` / `logs [--follow] [--json] [--limit N]`: the iterations of logs/iterations.jsonl, newest last."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from codex_self_iter.commands.history_rows import Table, to_rows
from codex_self_iter.commands.loop_view import holder_pid, pid_alive
from codex_self_iter.commands.target import locate, require_state
from codex_self_iter.errors import UserError
from codex_self_iter.state.fsio import parse_record
from codex_self_iter.state.layout import Layout
from codex_self_iter.state.nofollow import open_regular
from codex_self_iter.text import say

DEFAULT_LIMIT = 20
RECORDS_PER_ROW = 4  # checks, claims and other events share the tail with the agent calls
BYTES_PER_RECORD = 16 * 1024
FOLLOW_POLL_SEC = 0.5


def cmd_history(args: argparse.Namespace) -> int:
    """Print the last --limit rows (0 = all); --follow keeps printing until the loop stops (Ctrl-C: 130)."""
    if args.limit < 0:
        raise UserError(f"--limit {args.limit}: give a number of rows, or 0 for the whole history")
    layout = locate(args)
    require_state(layout)
    records, end = read_records(layout.journal, _size(layout.journal), args.limit)
    out = sys.stdout
    table = Table(wide=args.wide)
    if args.json:
        for record in records[-args.limit :] if args.limit else records:
            print(json.dumps(record, sort_keys=True, default=str), file=out)
    else:
        rows = to_rows(records)
        rows = rows[-args.limit :] if args.limit else rows
        if rows:
            say("\n".join(table.lines(rows)), file=out, flush=True)
        else:
            print(f"codex-self-iter: no iterations recorded yet in {layout.journal}", file=out)
    if args.follow:
        follow(layout, end, args.json, out, table=table)
    return 0


def read_records(path: Path, end: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Records in path[:end] and where the last complete line ends; with a limit only the tail is read."""
    start = 0 if not limit else max(0, end - max(1 << 20, limit * RECORDS_PER_ROW * BYTES_PER_RECORD))
    try:
        fd = open_regular(path)  # a FIFO or a link there is refused, not waited on
        if fd is None:
            return [], 0
        with open(fd, "rb") as handle:
            handle.seek(start)
            data = handle.read(end - start)
    except OSError:
        return [], 0
    *lines, partial = data.split(b"\n")  # a line still being written is left for --follow
    if start > 0:
        lines = lines[1:]  # the first line is cut
    records = _parse(lines)
    return (records[-limit * RECORDS_PER_ROW :] if limit else records), end - len(partial)


def follow(
    layout: Layout,
    offset: int,
    as_json: bool,
    out: TextIO,
    poll_sec: float = FOLLOW_POLL_SEC,
    table: Table | None = None,
) -> None:
    """Print records appended after offset until the loop is no longer running."""
    table = table or Table()
    pending = b""
    while True:
        running = loop_running(layout)  # decided before reading, so the last lines are never missed
        size = _size(layout.journal)
        if size < offset:
            offset, pending = 0, b""  # the log was replaced
        if size > offset:
            fd = open_regular(layout.journal)
            if fd is None:
                break
            with open(fd, "rb") as handle:
                handle.seek(offset)
                chunk = handle.read(size - offset)
            offset = size
            *complete, pending = (pending + chunk).split(b"\n")
            _emit(_parse(complete), as_json, out, table)
        if not running:
            print("codex-self-iter: the loop is not running; `status` shows how it ended", file=sys.stderr)
            return
        time.sleep(poll_sec)


def loop_running(layout: Layout) -> bool:
    """True while the loop that holds the lock is alive (read from its holder file, without probing the lock)."""
    return layout.holder_file.exists() and pid_alive(holder_pid(layout))


def _emit(records: list[dict[str, Any]], as_json: bool, out: TextIO, table: Table) -> None:
    if as_json:
        lines = [json.dumps(record, sort_keys=True, default=str) for record in records]
    else:
        lines = table.lines(to_rows(records), header=False)
    if lines:
        say("\n".join(lines), file=out, flush=True)


def _parse(lines: list[bytes]) -> list[dict[str, Any]]:
    return [record for record in map(parse_record, lines) if record is not None]


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
