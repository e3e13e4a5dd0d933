"""Atomic file writes and a JSONL reader that survives a torn last line."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from codex_self_iter.errors import StateError

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
TAIL_BLOCK = 64 * 1024
# What a corrupt or hostile JSON file can raise besides ValueError: deep nesting exhausts the parser's stack.
_JSON_ERRORS = (ValueError, RecursionError)


def make_private_dir(path: Path) -> None:
    """Create path and its missing parents owner-only (0o700); directories that already exist are left alone."""
    missing: list[Path] = []
    here = path
    while not here.is_dir():
        missing.append(here)
        if here.parent == here:
            break
        here = here.parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, PRIVATE_DIR_MODE)
        except FileExistsError:
            if not directory.is_dir():  # a file where a directory belongs: say so, not "File exists"
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(directory)) from None
            continue
        os.chmod(directory, PRIVATE_DIR_MODE)  # a umask may have taken owner bits away


def atomic_write_text(path: Path, text: str, mode: int = PRIVATE_FILE_MODE, durable: bool = False) -> None:
    """Write text to path via a temp file and rename, so readers never see half a file (fsync when durable)."""
    try:
        make_private_dir(path.parent)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            # backslashreplace: text with a lone surrogate (from JSON escapes) is written, not a crash.
            with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
                handle.write(text)
                if durable:
                    handle.flush()
                    os.fsync(handle.fileno())
            if mode != PRIVATE_FILE_MODE:  # mkstemp already made it 0o600
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
    except (OSError, *_JSON_ERRORS):
        return None


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append one record as one whole line: a line torn by a crash is ended first, a failed write is undone."""
    data = (json.dumps(record, sort_keys=True, default=str) + "\n").encode("utf-8")
    try:
        make_private_dir(path.parent)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, PRIVATE_FILE_MODE)
        try:
            size = os.fstat(fd).st_size
            if size > 0 and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data  # the reader skips the torn line; this record stays whole
            _write_all(fd, data, size)
        finally:
            os.close(fd)
    except OSError as exc:
        raise StateError(
            f"{path}: cannot append ({exc.strerror or exc}); check the state dir's permissions and free space"
        ) from exc


def _write_all(fd: int, data: bytes, size_before: int) -> None:
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(fd, view) :]
    except OSError:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, size_before)  # a full disk must not leave half a record behind
        raise


def parse_record(line: str | bytes) -> dict[str, Any] | None:
    """One JSONL line as a record, or None when it is blank, torn, too deep or not an object."""
    try:
        record = json.loads(line)
    except _JSON_ERRORS:
        return None
    return record if isinstance(record, dict) else None


def iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Records of a JSONL file, skipping blank, torn or non-object lines."""
    try:
        handle = open(path, encoding="utf-8", errors="replace")  # noqa: SIM115 - closed below, generator
    except OSError:
        return
    with handle:
        for line in handle:
            record = parse_record(line)
            if record is not None:
                yield record


def tail_jsonl(path: Path, count: int, max_bytes: int = 1 << 20) -> list[dict[str, Any]]:
    """The last `count` records, reading at most `max_bytes` from the end (fast on long logs)."""
    return tail_jsonl_checked(path, count, max_bytes)[0]


def tail_jsonl_checked(path: Path, count: int, max_bytes: int = 1 << 20) -> tuple[list[dict[str, Any]], int]:
    """The last `count` records, and how many non-blank lines among those read were skipped as unreadable.

    Reads backwards from the end in growing blocks, so the cost follows `count`, not the length of the log.
    """
    try:
        with open(path, "rb") as handle:
            end = handle.seek(0, os.SEEK_END)
            size = min(TAIL_BLOCK, max_bytes)
            while True:
                start = max(0, end - size)
                handle.seek(start)
                records, skipped = _last_records(handle.read(end - start), count, cut=start > 0)
                if len(records) >= count or start == 0 or size >= max_bytes:
                    return records, skipped
                size = min(size * 4, max_bytes)
    except OSError:
        return [], 0


def _last_records(data: bytes, count: int, cut: bool) -> tuple[list[dict[str, Any]], int]:
    lines = data.split(b"\n")
    if cut:
        lines = lines[1:]  # most likely the cut-off end of an older line
    records: list[dict[str, Any]] = []
    skipped = 0
    for raw in reversed(lines):
        if len(records) >= count:
            break
        record = parse_record(raw)
        if record is not None:
            records.append(record)
        else:
            skipped += bool(raw.strip())
    records.reverse()
    return records, skipped


def remove_stale_temp_files(directory: Path) -> int:
    """Delete half-written temp files (".name.XXXX.tmp") a killed writer left below directory; never read."""
    removed = 0
    for path in directory.rglob(".*.tmp"):
        if path.is_file() and not path.is_symlink():
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
    return removed
