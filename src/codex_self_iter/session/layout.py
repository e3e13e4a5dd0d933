"""Where an in-session contract lives: what decides in private state, what people read in <state-dir>/session/."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from codex_self_iter.session.paths import CONTRACT_FILE, JOURNAL_FILE, SESSION_DIR, STATE_FILE
from codex_self_iter.state.layout import Layout

PROTECTED_FILE = "protected.json"


@dataclass(frozen=True)
class SessionPaths:
    """The files of the in-session mode of one state dir.

    The contract, its state and the protected-tests snapshot decide whether the session may stop, so the hook
    reads them from the private dir, which the agent cannot write. The workspace dir holds the journal, the check
    logs, a copy of the contract for people to read, and a contract `session start` could only write there
    (inside Codex's sandbox) until the hook takes it over.
    """

    root: Path  # <state-dir>/session
    private: Path  # <private state of the state dir>/session

    @classmethod
    def of(cls, layout: Layout) -> SessionPaths:
        """The session paths of a loop layout."""
        return cls(layout.session_dir, layout.private_dir / SESSION_DIR)

    @property
    def state_dir(self) -> Path:
        """The loop's state dir this session dir belongs to (its STOP file is shared)."""
        return self.root.parent

    @property
    def contract(self) -> Path:
        """The frozen contract the hook obeys: objective, checks, baseline, caps (private)."""
        return self.private / CONTRACT_FILE

    @property
    def state(self) -> Path:
        """The mutable part: binding, counters, status, outcome (private)."""
        return self.private / STATE_FILE

    @property
    def protected(self) -> Path:
        """The protected-tests snapshot taken with the baseline (checks/protected.py; private)."""
        return self.private / PROTECTED_FILE

    def in_workspace(self, private_file: Path) -> Path:
        """The workspace's copy of a private file: shown to people, or left by a sandboxed `session start`."""
        return self.root / private_file.name

    @property
    def journal(self) -> Path:
        """One JSON line per hook decision and command."""
        return self.root / JOURNAL_FILE

    @property
    def lock(self) -> Path:
        """Serialises hook invocations and commands on this contract (`session start` in a sandbox takes it too)."""
        return self.root / "session.lock"

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
