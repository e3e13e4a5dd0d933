"""Retention: keep the artifacts (runs/, prompts/, checkpoint snapshots) of the newest keep_runs iterations."""

from __future__ import annotations

import shutil
from pathlib import Path

from codex_self_iter.state.layout import Layout

SNAPSHOT_DIR = "checkpoints"


def prunable(layout: Layout, keep: int) -> list[Path]:
    """The files and dirs of iterations older than the newest `keep` (nothing when keep is 0)."""
    if keep <= 0:
        return []
    numbers = sorted(number for number, _ in _numbered(layout.runs_dir))
    if len(numbers) <= keep:
        return []
    cutoff = numbers[-keep]
    found = [path for number, path in _numbered(layout.runs_dir) if number < cutoff]
    for directory in (layout.prompts_dir, layout.state_dir / SNAPSHOT_DIR):
        found += [path for number, path in _numbered(directory) if number < cutoff]
    return sorted(found)


def prune(layout: Layout, keep: int) -> int:
    """Delete what `prunable` names; returns how many entries went (a vanished entry is not an error)."""
    removed = 0
    for path in prunable(layout, keep):
        remove_entry(path)
        removed += 1
    return removed


def later_than(layout: Layout, iteration: int) -> list[Path]:
    """The runs/, prompts/ and snapshot entries of iterations after `iteration` (what a rollback undoes)."""
    found: list[Path] = []
    for directory in (layout.runs_dir, layout.prompts_dir, layout.state_dir / SNAPSHOT_DIR):
        found += [path for number, path in _numbered(directory) if number > iteration]
    return found


def remove_entry(path: Path) -> None:
    """Remove a file or a directory tree; a link is removed itself, never followed."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def size_of(directory: Path) -> int:
    """Bytes of the regular files under directory."""
    total = 0
    for path in directory.rglob("*") if directory.is_dir() else []:
        try:
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
        except OSError:
            continue
    return total


def _numbered(directory: Path) -> list[tuple[int, Path]]:
    if not directory.is_dir():
        return []
    return [(number, path) for path in directory.iterdir() if (number := _number(path.name)) is not None]


def _number(name: str) -> int | None:
    head = name[:5]
    return int(head) if len(name) >= 5 and head.isdigit() and (len(name) == 5 or not name[5].isdigit()) else None
