"""What changed since the baseline, bounded, for the reviewer and for runs/<n>/diff.patch."""

from __future__ import annotations

import subprocess
from pathlib import Path

UNTRACKED_PREVIEW_BYTES = 2000


def diff_since(workspace: Path, base: str | None, exclude: str | None, max_chars: int) -> str:
    """`git diff <base>` plus untracked files, excluding the state dir; a note outside git."""
    spec = ["--", "."] + ([f":(exclude){exclude}"] if exclude else [])
    target = [base] if base else []
    diff = _git(workspace, ["diff", "--no-color", "--no-ext-diff", *target, *spec])
    if diff is None:
        return "(not a git repository: no diff available; inspect the workspace directly)"
    untracked = _git(workspace, ["ls-files", "--others", "--exclude-standard", "-z", *spec]) or ""
    parts = [diff]
    for name in [n for n in untracked.split("\0") if n]:
        parts.append(f"--- new untracked file: {name}\n{_preview(workspace / name)}")
    text = "\n".join(part for part in parts if part.strip())
    if not text:
        return "(no changes since the baseline)"
    if len(text) > max_chars:
        text = text[:max_chars] + f"\n[... diff cut at {max_chars} characters; run git diff yourself ...]"
    return text


def changed_files(workspace: Path, base: str | None, exclude: str | None) -> int | None:
    """How many files differ from the baseline (tracked and untracked), or None outside git."""
    spec = ["--", "."] + ([f":(exclude){exclude}"] if exclude else [])
    tracked = _git(workspace, ["diff", "--name-only", "-z", *([base] if base else []), *spec])
    untracked = _git(workspace, ["ls-files", "--others", "--exclude-standard", "-z", *spec])
    if tracked is None or untracked is None:
        return None
    return len({n for n in (tracked + untracked).split("\0") if n})


def _git(workspace: Path, args: list[str]) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-c", "core.quotepath=off", *args],
            cwd=workspace,
            capture_output=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", errors="replace")


def _preview(path: Path) -> str:
    try:
        if not path.is_file():  # a FIFO the agent left behind would block open() forever
            return "(not a regular file)"
        with open(path, "rb") as handle:
            data = handle.read(UNTRACKED_PREVIEW_BYTES + 1)
    except OSError:
        return "(unreadable)"
    if b"\0" in data:
        return "(binary)"
    text = data[:UNTRACKED_PREVIEW_BYTES].decode("utf-8", errors="replace")
    return text + ("\n[...]" if len(data) > UNTRACKED_PREVIEW_BYTES else "")
