"""Keep the state dir out of git without touching the user's .gitignore."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from codex_self_iter.errors import StateError
from codex_self_iter.state.nofollow import open_file
from codex_self_iter.workspace.git import run_git


def exclude_state_dir(workspace: Path, state_dir: Path) -> bool:
    """Add the state dir to the repository's info/exclude once; False outside a git work tree.

    The exclude file is opened without following a link, so one the agent planted there is not appended through.
    """
    done = run_git(workspace, ["rev-parse", "--show-toplevel", "--git-path", "info/exclude"], timeout=30)
    lines = done.text().splitlines()
    if done.code != 0 or len(lines) != 2:
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
        exclude.parent.mkdir(parents=True, exist_ok=True)
        fd = open_file(exclude, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o644)
        with os.fdopen(fd, "r+b") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return False
            existing = handle.read(1 << 20).decode("utf-8", errors="replace")
            if entry in existing.splitlines():
                return True
            handle.write((("\n" if existing and not existing.endswith("\n") else "") + entry + "\n").encode())
    except (OSError, StateError):  # a link planted there is left alone: the exclude is only a convenience
        return False
    return True
