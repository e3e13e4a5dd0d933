"""Everything a running loop holds: settings, paths, runner, checks, journal, clock."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from codex_self_iter.agent.kinds import TokenUsage
from codex_self_iter.agent.types import AgentRunner
from codex_self_iter.checks.protected import ProtectedSnapshot
from codex_self_iter.checks.run import CheckSpec
from codex_self_iter.codex.pricing import ModelPrice
from codex_self_iter.config import Settings
from codex_self_iter.loop.reporter import Reporter
from codex_self_iter.state.journal import Journal
from codex_self_iter.state.layout import Layout
from codex_self_iter.state.stop_request import StopSignals
from codex_self_iter.workspace.checkpoint import Checkpoints


@dataclass
class Deps:
    """Time and chance, injected so tests drive backoff through the real loop instantly."""

    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = random.random


@dataclass
class LoopContext:
    """One run of the loop."""

    settings: Settings
    layout: Layout
    runner: AgentRunner
    checks: list[CheckSpec]
    checks_source: str
    journal: Journal
    reporter: Reporter
    signals: StopSignals
    deps: Deps = field(default_factory=Deps)
    config_path: Path | None = None
    config_digest: str = ""
    started_at: float = 0.0
    bypass: bool = False
    protected: ProtectedSnapshot | None = None
    checkpoints: Checkpoints | None = None  # a worktree run: commit after executor turns, diff base..branch
    model: str | None = None  # the model the runner uses, when it says (codex does)
    price: ModelPrice | None = None  # None: cost is unknown, never counted as zero
    price_source: str = ""
    state_lost: bool = False  # runtime.json was missing (or unreadable) though this state dir had an episode

    def cost_of(self, usage: TokenUsage | None) -> float | None:
        """Dollars of one call's usage, or None when the usage or the model's price is unknown."""
        return self.price.cost(usage) if self.price is not None and usage is not None else None

    @property
    def state_exclude(self) -> str | None:
        """The state dir as a workspace-relative pathspec to leave out of fingerprints and diffs."""
        return self.layout.relative_state_dir()
