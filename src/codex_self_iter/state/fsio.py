"""Atomic file writes and a JSONL reader that survives a torn last line."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from codex_self_iter.errors import StateError
from codex_self_iter.state.nofollow import open_dir, open_file, open_regular

PRIVATE_FILE_MODE = 0o600
READ_LIMIT = 64 << 20
# Temp files of atomic writes are ".<name>.csi-<8 hex>.tmp": the start-up clean-up removes only names of that shape.
TEMP_TAG = "csi-"
_TEMP_NAME = re.compile(r"^\..+\.csi-[0-9a-f]{8}\.tmp$")
TAIL_BLOCK = 64 * 1024
# What a corrupt or hostile JSON file can raise besides ValueError: deep nesting exhausts the parser's stack.
_JSON_ERRORS = (ValueError, RecursionError)


def make_private_dir(path: Path) -> None:
    """Create path and its missing parents owner-only (0o700), never through a planted link; existing ones stay."""
    os.close(open_dir(path, create=True))


def _temp_name(name: str) -> str:
    return f".{name}.{TEMP_TAG}{secrets.token_hex(4)}.tmp"


def atomic_write_text(path: Path, text: str, mode: int = PRIVATE_FILE_MODE, durable: bool = False) -> None:
    """Write text to path via a temp file and rename, so readers never see half a file (fsync when durable).

    The rename replaces whatever is at path (a planted link included) instead of writing through it, and the
    directory is reached without following links (state/nofollow.py).
    """
    try:
        dir_fd = open_dir(path.parent, create=True)
        try:
            _write_replace(dir_fd, path.name, text, mode, durable)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise StateError(
            f"{path}: cannot write ({exc.strerror or exc}); check the state dir's permissions and free space"
        ) from exc


def _write_replace(dir_fd: int, name: str, text: str, mode: int, durable: bool) -> None:
    tmp = _temp_name(name)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(tmp, flags, PRIVATE_FILE_MODE, dir_fd=dir_fd)
    try:
        # backslashreplace: text with a lone surrogate (from JSON escapes) is written, not a crash.
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(text)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), mode)  # also undoes a umask
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise


def atomic_write_json(path: Path, data: Any, durable: bool = False) -> None:
    """Write data as pretty JSON, atomically."""
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", durable=durable)


def read_text(path: Path, limit: int = READ_LIMIT) -> str | None:
    """The text of a state file, None when it is missing; a link, FIFO or device is refused (StateError)."""
    fd = open_regular(path)
    if fd is None:
        return None
    with os.fdopen(fd, "rb") as handle:
        return handle.read(limit).decode("utf-8", errors="replace")


def read_end(path: Path, max_bytes: int) -> str:
    """The last max_bytes bytes of a file (an agent's or a check's output) as text; "" when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - max_bytes))
            return handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def read_json(path: Path) -> Any | None:
    """Parsed JSON of path, or None when it is missing, unreadable or corrupt (a FIFO or link: StateError)."""
    try:
        text = read_text(path)
    except OSError:
        return None
    if text is None:
        return None
    try:
        return json.loads(text)
    except _JSON_ERRORS:
        return None


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append one record as one whole line: a line torn by a crash is ended first, a failed write is undone."""
    data = (json.dumps(record, sort_keys=True, default=str) + "\n").encode("utf-8")
    try:
        fd = open_file(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, PRIVATE_FILE_MODE, create_dirs=True)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise StateError(f"{path}: not a regular file (a FIFO or device?); remove it and run again")
            size = info.st_size
            if size > 0 and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data  # the reader skips the torn line; this record stays whole
            _write_all(fd, data, size)
        finally:
            os.close(fd)
    except StateError:
        raise
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
        fd = open_regular(path)
    except OSError:
        return
    if fd is None:
        return
    with open(fd, encoding="utf-8", errors="replace") as handle:
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
        fd = open_regular(path)
        if fd is None:
            return [], 0
        with open(fd, "rb") as handle:
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


def set_aside(path: Path, now: float) -> Path | None:
    """Rename a corrupt file to <name>.corrupt-<time> (kept for the user to look at); None when it cannot be."""
    aside = path.with_name(f"{path.name}.corrupt-{int(now)}")
    try:
        path.replace(aside)
    except OSError:
        return None
    return aside


def remove_stale_temp_files(directory: Path) -> int:
    """Delete the loop's own half-written temp files a killed writer left below directory; nothing else, no links."""
    removed = 0
    for root, dirs, files in os.walk(directory):  # does not descend into links
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
        for name in files:
            path = Path(root) / name
            if _TEMP_NAME.match(name) and path.is_file() and not path.is_symlink():
                with contextlib.suppress(OSError):
                    path.unlink()
                    removed += 1
    return removed
