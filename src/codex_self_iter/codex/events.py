"""An incremental reader of `codex exec --json` output, fed one line at a time while codex runs."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from codex_self_iter.agent.kinds import TokenUsage

MAX_KEPT_MESSAGES = 50  # bounded memory however chatty a long turn is


class CodexEvents:
    """What the JSONL stream has told us so far: thread, commands, changed files, messages, errors, usage."""

    def __init__(self, on_note: Callable[[str], None] | None = None) -> None:
        self.on_note = on_note  # called with codex's error and reconnect messages, verbatim, as they arrive
        self.last_event_at = time.monotonic()
        self.last_note = ""  # the latest error or notice codex printed
        self.last_type = ""  # the type of the latest event
        self.thread_id: str | None = None
        self.turn_completed = False
        self.turn_failed = False
        self.usage: TokenUsage | None = None  # Codex's cumulative total for the whole thread
        self.messages: list[str] = []
        self.errors: list[str] = []  # top-level `error` events and turn.failed messages, in order
        self.failure_messages: list[str] = []  # turn.failed messages only
        self.warnings: list[str] = []  # `error` items: codex's non-fatal notices
        self.ignored_lines = 0
        self._commands: set[str] = set()
        self._files: dict[str, None] = {}  # insertion-ordered set
        self._lock = threading.Lock()

    @property
    def commands_run(self) -> int:
        """How many shell commands the agent started."""
        with self._lock:
            return len(self._commands)

    @property
    def files_changed(self) -> list[str]:
        """Paths codex reported in file_change items (apply_patch edits), first-seen order."""
        with self._lock:
            return list(self._files)

    @property
    def last_message(self) -> str:
        """The last agent_message text, or "" when the agent said nothing."""
        with self._lock:
            return self.messages[-1] if self.messages else ""

    def feed(self, line: bytes | str) -> None:
        """Take one line of stdout; garbage and unknown event types are counted and skipped."""
        text = line.decode("utf-8", errors="replace") if isinstance(line, bytes) else line
        text = text.strip()
        if not text:
            return
        self.last_event_at = time.monotonic()
        try:
            event = json.loads(text)
        except ValueError:
            event = None
        if not isinstance(event, dict):
            self.ignored_lines += 1
            return
        with self._lock:
            self._apply(event)
            self.last_type = str(event.get("type") or "?")
            note = self._note(event)
            if note is None:
                return
            self.last_note = note
        if self.on_note is not None:
            with contextlib.suppress(Exception):  # a display problem must not stop the stream being read
                self.on_note(note)

    @property
    def last_said(self) -> str:
        """What codex last told us, for a failure line."""
        if self.last_note:
            return f"{self.last_note!r} (last event: {self.last_type})"
        return f"no message (last event: {self.last_type})" if self.last_type else "nothing at all"

    @staticmethod
    def _note(event: dict[str, Any]) -> str | None:
        item = _dict(event.get("item"))
        if event.get("type") == "error":
            return _text(event.get("message")) or None
        if event.get("type") == "turn.failed":
            return _text(_dict(event.get("error")).get("message")) or "turn failed"
        if item.get("type") == "error" and event.get("type") == "item.completed":
            return _text(item.get("message")) or None
        return None

    def _apply(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "thread.started" and isinstance(event.get("thread_id"), str):
            self.thread_id = event["thread_id"]
        elif kind == "turn.started":
            self.turn_completed = self.turn_failed = False
        elif kind == "turn.completed":
            self.turn_completed = True
            self.usage = parse_usage(event.get("usage")) or self.usage
        elif kind == "turn.failed":
            self.turn_failed = True
            message = _text(_dict(event.get("error")).get("message")) or "turn failed"
            self.failure_messages.append(message)
            self.errors.append(message)
            del self.failure_messages[:-MAX_KEPT_MESSAGES]
            del self.errors[:-MAX_KEPT_MESSAGES]
        elif kind == "error":
            self.errors.append(_text(event.get("message")) or json.dumps(event)[:500])
            del self.errors[:-MAX_KEPT_MESSAGES]
        elif kind in ("item.started", "item.updated", "item.completed"):
            self._item(kind, _dict(event.get("item")))
        else:
            self.ignored_lines += 1

    def _item(self, kind: str, item: dict[str, Any]) -> None:
        item_type = item.get("type")
        if item_type == "command_execution":
            self._commands.add(str(item.get("id") or len(self._commands)))
        elif item_type == "file_change":
            for change in item.get("changes") or []:
                path = _dict(change).get("path")
                if isinstance(path, str):
                    self._files[path] = None
        elif item_type == "agent_message" and kind == "item.completed":
            self.messages.append(_text(item.get("text")))
            del self.messages[:-MAX_KEPT_MESSAGES]
        elif item_type == "error" and kind == "item.completed":
            self.warnings.append(_text(item.get("message")))
            del self.warnings[:-MAX_KEPT_MESSAGES]


def parse_usage(raw: object) -> TokenUsage | None:
    """A TokenUsage from turn.completed's `usage` object; None when it is not one."""
    if not isinstance(raw, dict):
        return None
    return TokenUsage(
        input_tokens=_count(raw.get("input_tokens")),
        cached_input_tokens=_count(raw.get("cached_input_tokens")),
        output_tokens=_count(raw.get("output_tokens")),
        reasoning_output_tokens=_count(raw.get("reasoning_output_tokens")),
    )


def usage_delta(cumulative: TokenUsage, previous: TokenUsage | None) -> TokenUsage:
    """This call's tokens, given the thread's cumulative totals after it and before it."""
    if previous is None:
        return cumulative
    if cumulative.total < previous.total:
        # The totals went backwards: codex started counting afresh, so the whole figure is this call's.
        return cumulative
    return TokenUsage(
        max(0, cumulative.input_tokens - previous.input_tokens),
        max(0, cumulative.cached_input_tokens - previous.cached_input_tokens),
        max(0, cumulative.output_tokens - previous.output_tokens),
        max(0, cumulative.reasoning_output_tokens - previous.reasoning_output_tokens),
    )


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
