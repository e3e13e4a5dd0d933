"""Keep the state dir out of git without touching the user's .gitignore."""

from __future__ import annotations

import subprocess
from pathlib import Path


def exclude_state_dir(workspace: Path, state_dir: Path) -> bool:
    """Add the state dir to the repository's info/exclude once; False outside a git work tree."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--show-toplevel", "--git-path", "info/exclude"],
            cwd=workspace,
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    lines = done.stdout.splitlines()
    if done.returncode != 0 or len(lines) != 2:
        return False
    top, exclude = Path(lines[0]).resolve(), Path(lines[1])
    if not exclude.is_absolute():
        exclude = workspace / exclude
    try:
        relative = state_dir.resolve().relative_to(top)
    except ValueError:
        return False
    entry = "/" + relative.as_posix().strip("/") + "/"
    try:
        existing = exclude.read_text(encoding="utf-8") if exclude.exists() else ""
        if entry in existing.splitlines():
            return True
        exclude.parent.mkdir(parents=True, exist_ok=True)
        with open(exclude, "a", encoding="utf-8") as handle:
            handle.write(("\n" if existing and not existing.endswith("\n") else "") + entry + "\n")
    except OSError:
        return False
    return True
