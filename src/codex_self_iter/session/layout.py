"""Where an in-session contract lives: <state-dir>/session/ and its files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from codex_self_iter.session.paths import CONTRACT_FILE, JOURNAL_FILE, STATE_FILE


@dataclass(frozen=True)
class SessionPaths:
    """The files of the in-session mode under one state dir."""

    root: Path  # <state-dir>/session

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
        return self.root / JOURNAL_FILE

    @property
    def lock(self) -> Path:
        """Serialises hook invocations and commands on this contract."""
        return self.root / "session.lock"

    @property
    def protected(self) -> Path:
        """The protected-tests snapshot taken with the baseline (checks/protected.py)."""
        return self.root / "protected.json"

    @property
    def current_event(self) -> Path:
        """The key of the stop event being judged (a second copy of the hook sees it and stays out)."""
        return self.root / "current-event"

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
