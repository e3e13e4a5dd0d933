"""Atomic file writes and a JSONL reader that survives a torn last line."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from codex_self_iter.errors import StateError

PRIVATE_FILE_MODE = 0o600


def atomic_write_text(path: Path, text: str, mode: int = PRIVATE_FILE_MODE, durable: bool = False) -> None:
    """Write text to path via a temp file and rename, so readers never see half a file (fsync when durable)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                if durable:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise StateError(
            f"{path}: cannot write ({exc.strerror or exc}); check the state dir's permissions and free space"
        ) from exc


def atomic_write_json(path: Path, data: Any, durable: bool = False) -> None:
    """Write data as pretty JSON, atomically."""
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", durable=durable)


def read_json(path: Path) -> Any | None:
    """Parsed JSON of path, or None when it is missing, unreadable or corrupt."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append one record as one line; a torn line from a crash is skipped by the reader."""
    line = json.dumps(record, sort_keys=True, default=str) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE_MODE)
        try:
            if os.fstat(fd).st_size > 0:
                _terminate_torn_line(fd, path)
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
    except OSError as exc:
        raise StateError(
            f"{path}: cannot append ({exc.strerror or exc}); check the state dir's permissions and free space"
        ) from exc


def _terminate_torn_line(fd: int, path: Path) -> None:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        if handle.read(1) != b"\n":
            os.write(fd, b"\n")


def iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Records of a JSONL file, skipping blank, torn or non-object lines."""
    try:
        handle = open(path, encoding="utf-8", errors="replace")  # noqa: SIM115 - closed below, generator
    except OSError:
        return
    with handle:
        for line in handle:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                yield record


def tail_jsonl(path: Path, count: int, max_bytes: int = 1 << 20) -> list[dict[str, Any]]:
    """The last `count` records, reading at most `max_bytes` from the end (fast on long logs)."""
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            start = max(0, size - max_bytes)
            handle.seek(start)
            data = handle.read()
    except OSError:
        return []
    lines = data.split(b"\n")
    if start > 0:
        lines = lines[1:]
    records: list[dict[str, Any]] = []
    for raw in reversed(lines):
        if len(records) >= count:
            break
        try:
            record = json.loads(raw)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    records.reverse()
    return records
