"""Gates the agent cannot move: the config file and check commands are fixed when the run starts.

A config file changed while a run went on (by the agent, most likely) is not used by the next run either until
the user has seen the change and passes `--accept-config`: the record of the config a run started with, and
whether it changed, lives in private state (outside the workspace).
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codex_self_iter.checks.run import CheckSpec, checks_digest
from codex_self_iter.errors import UserError
from codex_self_iter.loop.reporter import Reporter
from codex_self_iter.state.fsio import atomic_write_json, read_json
from codex_self_iter.state.journal import Journal
from codex_self_iter.text import escape_terminal

RECORD_TEXT_BYTES = 256 * 1024
DIFF_LINES = 40


def file_digest(path: Path | None) -> str | None:
    """sha256 of a file's bytes; None when there is no file or it cannot be read."""
    if path is None:
        return None
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


@dataclass
class ConfigGuard:
    """Notices a config file edited mid-run (e.g. by the agent): recorded and warned, never picked up."""

    path: Path | None
    digest: str | None
    checks: str
    reported: set[str | None] = field(default_factory=set)
    record: Path | None = None

    @classmethod
    def start(cls, path: Path | None, checks: list[CheckSpec], record: Path | None = None) -> ConfigGuard:
        """Fix the config and the checks as they are now (record: where a change is noted for the next run)."""
        return cls(path, file_digest(path), checks_digest(checks), record=record)

    def watch(self, journal: Journal, reporter: Reporter, iteration: int) -> bool:
        """True when the config file differs from the one the run started with (reported once per version)."""
        now = file_digest(self.path)
        if now == self.digest:
            return False
        if now not in self.reported:
            self.reported.add(now)
            if self.record is not None:
                _note_change(self.record)
            journal.record("config_changed", iteration=iteration, file=str(self.path), picked_up=False)
            reporter.warn(
                f"{self.path} changed during the run; the loop keeps the settings and checks it started with "
                "(restart to use the new ones)"
            )
        return True


def pin_config(record: Path, path: Path | None, accept: bool) -> None:
    """Refuse a config that changed during the previous run (unless accepted), then record the one used now."""
    previous = read_json(record)
    now_digest = file_digest(path)
    changed = isinstance(previous, dict) and previous.get("changed_during_run") and previous.get("digest") != now_digest
    if changed and not accept:
        assert isinstance(previous, dict)
        raise UserError(_changed_message(path, previous))
    text = _read_capped(path)
    atomic_write_json(
        record, {"path": str(path) if path else None, "digest": now_digest, "text": text, "changed_during_run": False}
    )


def _note_change(record: Path) -> None:
    data = read_json(record)
    if isinstance(data, dict) and not data.get("changed_during_run"):
        atomic_write_json(record, {**data, "changed_during_run": True})


def _changed_message(path: Path | None, previous: dict[str, Any]) -> str:
    before = str(previous.get("text") or "").splitlines()
    after = (_read_capped(path) or "").splitlines()
    diff = list(difflib.unified_diff(before, after, "as the previous run started", "now", lineterm="", n=1))
    shown = "\n".join(escape_terminal(line) for line in diff[:DIFF_LINES])
    more = f"\n... ({len(diff) - DIFF_LINES} more lines)" if len(diff) > DIFF_LINES else ""
    return (
        f"{path or 'the config'}: changed while the previous run was going (the agent may have edited it); "
        f"review the change and run again with --accept-config to use it\n{shown}{more}"
    )


def _read_capped(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        with open(path, "rb") as handle:
            return handle.read(RECORD_TEXT_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return None
