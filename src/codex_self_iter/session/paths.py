"""Finding an in-session contract fast from a hook's cwd: os.path only, on every Stop of every Codex session."""

from __future__ import annotations

import os

TYPE_CHECKING = False  # no typing import on the hook's fast path
if TYPE_CHECKING:
    from typing import Any

DEFAULT_STATE_DIR = ".codex-self-iter"
CONFIG_NAME = "codex-self-iter.toml"
SESSION_DIR = "session"
CONTRACT_FILE = "contract.json"
STATE_FILE = "state.json"
JOURNAL_FILE = "journal.jsonl"
MAX_LEVELS = 64


def state_dir_name(directory: str) -> str:
    """The state dir a workspace uses: `state_dir` of its codex-self-iter.toml when set, else the default."""
    config = os.path.join(directory, CONFIG_NAME)
    if not os.path.isfile(config):
        return DEFAULT_STATE_DIR
    try:
        import tomllib

        with open(config, "rb") as handle:
            value = tomllib.load(handle).get("state_dir")
    except (OSError, ValueError):
        return DEFAULT_STATE_DIR
    return value if isinstance(value, str) and value else DEFAULT_STATE_DIR


def find_session_dir(cwd: str) -> str | None:
    """The session dir holding a contract for cwd or a parent up to its git root, or None."""
    if not cwd or not os.path.isabs(cwd):
        return None
    here = os.path.normpath(cwd)
    for _ in range(MAX_LEVELS):
        candidate = os.path.join(here, state_dir_name(here), SESSION_DIR)
        if os.path.isfile(os.path.join(candidate, CONTRACT_FILE)):
            return candidate
        parent = os.path.dirname(here)
        if parent == here or os.path.exists(os.path.join(here, ".git")):
            return None
        here = parent
    return None


def peek_state(session_dir: str) -> dict[str, Any] | None:
    """state.json as a plain dict (no validation), or None when missing or unreadable."""
    import json

    try:
        with open(os.path.join(session_dir, STATE_FILE), "rb") as handle:
            value = json.loads(handle.read(1 << 20))
    except (OSError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
