"""Where an in-session contract lives (<state-dir>/session/), and finding it fast from a hook's cwd.

The finder uses os.path and json only: it runs on every Stop of every Codex session.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_STATE_DIR = ".codex-self-iter"
CONFIG_NAME = "codex-self-iter.toml"
SESSION_DIR = "session"
CONTRACT_FILE = "contract.json"
STATE_FILE = "state.json"
MAX_LEVELS = 64


@dataclass(frozen=True)
class SessionPaths:
    """The files of the in-session mode under one state dir."""

    root: Path  # <state-dir>/session

    @classmethod
    def under(cls, state_dir: Path) -> SessionPaths:
        """The session dir of a state dir."""
        return cls(state_dir / SESSION_DIR)

    @property
    def state_dir(self) -> Path:
        """The loop's state dir this session dir belongs to (its STOP file is shared)."""
        return self.root.parent

    @property
    def contract(self) -> Path:
        """The frozen contract: objective, checks, baseline, caps."""
        return self.root / CONTRACT_FILE

    @property
    def state(self) -> Path:
        """The mutable part: binding, counters, status, outcome."""
        return self.root / STATE_FILE

    @property
    def journal(self) -> Path:
        """One JSON line per hook decision and command."""
        return self.root / "journal.jsonl"

    @property
    def lock(self) -> Path:
        """Serialises hook invocations and commands on this contract."""
        return self.root / "session.lock"

    @property
    def checks_dir(self) -> Path:
        """Output of the latest check run."""
        return self.root / "checks"

    @property
    def cancel_request(self) -> Path:
        """Written by `session cancel`; the hook ends the contract at the bound session's next stop."""
        return self.root / "cancel.json"

    @property
    def history(self) -> Path:
        """Contracts that ended, one JSON line each, for `session history`."""
        return self.root / "history.jsonl"


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
    try:
        with open(os.path.join(session_dir, STATE_FILE), "rb") as handle:
            value = json.loads(handle.read(1 << 20))
    except (OSError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
