"""What a person watching sees: a line per agent call, a heartbeat while it runs, a final summary."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import TextIO

from codex_self_iter.text import clip, escape_terminal


@dataclass(frozen=True)
class Live:
    """What the live line shows while an agent call runs."""

    iteration: int
    role: str
    elapsed: float
    last_iteration: int | None = None  # where the iteration budget ends, when there is one
    plan: tuple[int, int] | None = None  # (checked, all) items of the plan's checklist
    files: int | None = None
    tokens: int = 0  # this run's so far, the running call's included
    cost_usd: float | None = None  # this run's so far; None when the price is unknown

    def line(self) -> str:
        """'#3 executor running 1m05s · iteration 3/30 · plan 2/7 steps · 4 files changed · 12,345 tokens · $0.42'."""
        parts = [f"#{self.iteration} {self.role} running {human_duration(self.elapsed)}"]
        if self.last_iteration:
            parts.append(f"iteration {self.iteration}/{self.last_iteration}")
        if self.plan is not None:
            parts.append(f"plan {self.plan[0]}/{self.plan[1]} steps")
        if self.files is not None:
            parts.append(f"{self.files} files changed")
        if self.tokens:
            parts.append(f"{self.tokens:,} tokens")
        if self.cost_usd is not None:
            parts.append(f"${self.cost_usd:.2f}")
        return " · ".join(parts)


class Reporter:
    """Progress on stderr (a live line on a TTY, plain lines otherwise); nothing but warnings when quiet."""

    def __init__(self, quiet: bool = False, heartbeat_sec: float = 30.0, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.heartbeat_sec = heartbeat_sec
        self.tty = self.stream.isatty()
        self._last_beat = 0.0
        self._live = False
        self._gone = False

    def info(self, text: str) -> None:
        """A plain progress line."""
        if not self.quiet:
            self._clear_live()
            self._write(f"codex-self-iter: {escape_terminal(text)}\n")

    def lines(self, lines: list[str]) -> None:
        """Indented detail under the last progress line (e.g. a failing check's output)."""
        if not self.quiet and lines:
            self._clear_live()
            self._write("".join(f"    {escape_terminal(line)}\n" for line in lines))

    def warn(self, text: str) -> None:
        """A warning, shown even when quiet."""
        self._clear_live()
        self._write(f"codex-self-iter: warning: {escape_terminal(text)}\n")

    def call_started(self, iteration: int, role: str, goal: str | None) -> None:
        """An agent call begins."""
        self._last_beat = time.monotonic()
        shown = f": {clip(goal, 100)}" if goal else ""
        self.info(f"#{iteration} {role} started{shown}")

    def heartbeat(self, live: Live) -> None:
        """While the agent runs: a live line on a TTY, a plain line every heartbeat_sec otherwise."""
        if self.quiet:
            return
        line = live.line()
        if self.tty:
            self._write("\r\x1b[2K" + escape_terminal(line))
            self._live = True
        elif time.monotonic() - self._last_beat >= self.heartbeat_sec:
            self._last_beat = time.monotonic()
            self.info(line)

    def call_finished(self, iteration: int, role: str, outcome: str, seconds: float) -> None:
        """An agent call ended."""
        self.info(f"#{iteration} {role} finished in {human_duration(seconds)}: {outcome}")

    def _clear_live(self) -> None:
        if self._live:
            self._write("\r\x1b[2K")
            self._live = False

    def _write(self, text: str) -> None:
        # A viewer that went away (`run 2>&1 | head`, a closed terminal) must not end the loop: it runs on unseen.
        if self._gone:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self._gone = True


def human_duration(seconds: float) -> str:
    """3s, 2m05s, 1h03m."""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def cost_text(cost_usd: float | None, model: str | None) -> str:
    """'$0.42', or why there is no figure (never a silent $0)."""
    if cost_usd is not None:
        return f"${cost_usd:.2f}"
    return f"? (no price for {model})" if model else "- (the agent reports no usage)"
