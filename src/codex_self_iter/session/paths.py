"""Finding an in-session contract fast from a hook's cwd: os.path only, on every Stop of every Codex session."""

from __future__ import annotations

import os

from codex_self_iter.state import private

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


def find_session(cwd: str) -> tuple[str, str] | None:
    """(workspace session dir, private session dir) of a contract for cwd or a parent up to its git root, or None.

    A contract counts when the private dir holds one (the agent cannot delete it) or the workspace dir does (a
    copy, or one a sandboxed `session start` left for the hook to take over).
    """
    if not cwd or not os.path.isabs(cwd):
        return None
    here = os.path.realpath(cwd)  # private state is keyed by real paths
    for _ in range(MAX_LEVELS):
        try:
            state_dir = private.state_dir_path(here, state_dir_name(here))
        except ValueError:  # a NUL byte in the config's state_dir: no state dir, so no contract, at this level
            state_dir = os.path.join(here, DEFAULT_STATE_DIR)
        public = os.path.join(state_dir, SESSION_DIR)
        hidden = os.path.join(private.private_dir_for(state_dir), SESSION_DIR)
        if os.path.isfile(os.path.join(hidden, CONTRACT_FILE)) or os.path.isfile(os.path.join(public, CONTRACT_FILE)):
            return public, hidden
        parent = os.path.dirname(here)
        if parent == here or os.path.exists(os.path.join(here, ".git")):
            return None
        here = parent
    return None


def peek_state(found: tuple[str, str]) -> dict[str, Any] | None:
    """The private state.json as a plain dict (no validation); None when missing or unreadable, or when the
    workspace holds a contract of another id (one to take over, or a forgery): the slow path sorts that out."""
    state = _read_json(os.path.join(found[1], STATE_FILE))
    public = os.path.join(found[0], CONTRACT_FILE)
    if state is not None and os.path.isfile(public):
        contract = _read_json(public)
        if contract is None or contract.get("id") != state.get("contract_id"):
            return None
    return state


def _read_json(path: str) -> dict[str, Any] | None:
    import json

    try:  # never blocks on a FIFO, never follows a link the agent planted
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as handle:
            value = json.loads(handle.read(1 << 20))
    except (OSError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
