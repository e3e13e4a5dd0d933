"""The event log (logs/iterations.jsonl) and the bounded history the agent sees."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from codex_self_iter.state.fsio import append_jsonl, tail_jsonl_checked
from codex_self_iter.text import clip

SUMMARY_CHARS = 240


class Journal:
    """Appends one JSON line per agent call or decision; reads back only the tail."""

    def __init__(self, path: Path, clock: Any = time.time) -> None:
        self.path = path
        self.clock = clock
        self.warned = False

    def record(self, event: str, **fields: Any) -> None:
        """Append one event."""
        append_jsonl(self.path, {"ts": round(self.clock(), 3), "event": event, **fields})

    def recent_calls(self, count: int) -> list[dict[str, Any]]:
        """The last `count` agent-call records."""
        if count <= 0:
            return []
        records, skipped = tail_jsonl_checked(self.path, count * 6)
        if skipped and not self.warned:
            self.warned = True
            print(
                f"codex-self-iter: warning: {self.path}: skipped {skipped} unreadable line(s) (torn by a crash, "
                "or edited); the history shown to the agent leaves them out",
                file=sys.stderr,
            )
        return [r for r in records if r.get("event") == "agent_call"][-count:]

    def history_text(self, count: int, max_chars: int) -> str:
        """Recent agent calls as short lines, newest last, never longer than max_chars."""
        lines = [_line(record) for record in self.recent_calls(count)]
        kept: list[str] = []
        size = 0
        for line in reversed(lines):
            if size + len(line) + 1 > max_chars:
                break
            kept.append(line)
            size += len(line) + 1
        kept.reverse()
        if len(kept) < len(lines):
            kept.insert(0, f"({len(lines) - len(kept)} older entries omitted)")
        return "\n".join(kept) or "(none yet)"


def _line(record: dict[str, Any]) -> str:
    role = record.get("role", "?")
    outcome = record.get("status") or record.get("verdict") or record.get("failure") or "?"
    text = f"- #{record.get('iteration', '?')} {role}: {outcome}"
    if record.get("summary"):
        text += f" — {clip(str(record['summary']), SUMMARY_CHARS)}"
    if record.get("next_goal"):
        text += f" → next: {clip(str(record['next_goal']), SUMMARY_CHARS)}"
    if record.get("error"):
        text += f" (error: {clip(str(record['error']), SUMMARY_CHARS)})"
    return text
