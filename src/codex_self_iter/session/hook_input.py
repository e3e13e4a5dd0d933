"""The Stop hook's stdin, read leniently: whatever Codex (or anything else) sends never raises here.

Nothing is imported until a payload has to be parsed: this runs on every turn of every Codex session.
"""

from __future__ import annotations

MAX_INPUT_BYTES = 16 * 1024 * 1024


class HookInput:
    """The Stop payload's fields this hook uses; missing or mistyped fields become empty values."""

    __slots__ = (
        "cwd",
        "last_assistant_message",
        "readable",
        "session_id",
        "stop_hook_active",
        "transcript_path",
        "turn_id",
    )

    def __init__(
        self,
        session_id: str = "",
        turn_id: str = "",
        cwd: str = "",
        transcript_path: str = "",
        stop_hook_active: bool = False,
        last_assistant_message: str = "",
        readable: bool = False,
    ) -> None:
        self.session_id = session_id
        self.turn_id = turn_id
        self.cwd = cwd
        self.transcript_path = transcript_path
        self.stop_hook_active = stop_hook_active
        self.last_assistant_message = last_assistant_message
        self.readable = readable  # False: the input was not a JSON object

    @property
    def identified(self) -> bool:
        """True when the event names its Codex session (the contract can be bound to it)."""
        return self.readable and bool(self.session_id)


def parse_hook_input(data: bytes) -> HookInput:
    """The payload as a HookInput; garbage, nulls and wrong types give empty fields, never an exception."""
    import json

    try:
        value = json.loads(data.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return HookInput()
    if not isinstance(value, dict):
        return HookInput()
    return HookInput(
        session_id=_text(value.get("session_id")),
        turn_id=_text(value.get("turn_id")),
        cwd=_text(value.get("cwd")),
        transcript_path=_text(value.get("transcript_path")),
        stop_hook_active=value.get("stop_hook_active") is True,
        last_assistant_message=_text(value.get("last_assistant_message")),
        readable=True,
    )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def names_cwd(data: bytes, cwd: str) -> bool:
    """True when the raw payload's "cwd" is exactly cwd, decided without parsing it (so without importing json).

    Only for paths that JSON writes verbatim; anything else answers False and the payload gets parsed.
    """
    if not cwd.isascii() or any(char in cwd for char in '"\\') or not cwd.isprintable():
        return False
    value = cwd.encode()
    return b'"cwd":"' + value + b'"' in data or b'"cwd": "' + value + b'"' in data
