"""Gates the agent cannot move: the config file and check commands are fixed when the run starts."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from codex_self_iter.checks.run import CheckSpec, checks_digest
from codex_self_iter.loop.reporter import Reporter
from codex_self_iter.state.journal import Journal


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

    @classmethod
    def start(cls, path: Path | None, checks: list[CheckSpec]) -> ConfigGuard:
        """Fix the config and the checks as they are now."""
        return cls(path, file_digest(path), checks_digest(checks))

    def watch(self, journal: Journal, reporter: Reporter, iteration: int) -> bool:
        """True when the config file differs from the one the run started with (reported once per version)."""
        now = file_digest(self.path)
        if now == self.digest:
            return False
        if now not in self.reported:
            self.reported.add(now)
            journal.record("config_changed", iteration=iteration, file=str(self.path), picked_up=False)
            reporter.warn(
                f"{self.path} changed during the run; the loop keeps the settings and checks it started with "
                "(restart to use the new ones)"
            )
        return True
