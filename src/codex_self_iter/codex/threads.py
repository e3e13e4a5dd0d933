"""Codex threads kept per role across iterations (<state_dir>/codex_threads.json), and when to rotate them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from codex_self_iter.agent.kinds import Role, TokenUsage
from codex_self_iter.codex.settings import CodexSettings
from codex_self_iter.state.fsio import atomic_write_json, read_json

THREADS_FILE = "codex_threads.json"


@dataclass(frozen=True)
class ThreadRecord:
    """One role's current thread: its id, how many turns were resumed in it, and Codex's cumulative usage."""

    thread_id: str
    turns: int
    usage: TokenUsage
    updated_at: float


class ThreadStore:
    """Thread records per role, written atomically after every change so a crash never tears them."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / THREADS_FILE

    def get(self, role: Role) -> ThreadRecord | None:
        """The role's recorded thread, or None (also when the file is missing or corrupt)."""
        raw = self._load().get(role.value)
        if not isinstance(raw, dict) or not isinstance(raw.get("thread_id"), str):
            return None
        usage = raw.get("usage")
        usage = usage if isinstance(usage, dict) else {}
        try:
            return ThreadRecord(
                thread_id=raw["thread_id"],
                turns=int(raw.get("turns", 0)),
                usage=TokenUsage(**{key: int(value) for key, value in usage.items() if key in _USAGE_KEYS}),
                updated_at=float(raw.get("updated_at", 0.0)),
            )
        except (TypeError, ValueError):
            return None

    def put(self, role: Role, record: ThreadRecord) -> None:
        """Record the role's thread."""
        roles = self._load()
        roles[role.value] = {**asdict(record), "usage": asdict(record.usage)}
        atomic_write_json(self.path, {"version": 1, "roles": roles})

    def drop(self, role: Role) -> None:
        """Forget the role's thread, so its next call starts a fresh one."""
        roles = self._load()
        if roles.pop(role.value, None) is not None:
            atomic_write_json(self.path, {"version": 1, "roles": roles})

    def _load(self) -> dict[str, Any]:
        data = read_json(self.path)
        roles = data.get("roles") if isinstance(data, dict) else None
        return dict(roles) if isinstance(roles, dict) else {}


_USAGE_KEYS = frozenset(TokenUsage.__dataclass_fields__)


def rotation_reason(record: ThreadRecord, settings: CodexSettings) -> str | None:
    """Why the thread must not be resumed again (it has grown too long), or None to resume it."""
    if settings.resume_max_turns and record.turns >= settings.resume_max_turns:
        return f"{record.turns} resumed turns (codex.resume_max_turns = {settings.resume_max_turns})"
    if settings.resume_max_tokens and record.usage.total >= settings.resume_max_tokens:
        return f"{record.usage.total} tokens used (codex.resume_max_tokens = {settings.resume_max_tokens})"
    return None
