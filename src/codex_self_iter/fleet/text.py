"""Agent-written text made safe to show: control characters out, length bounded."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str, limit: int) -> str:
    """One line: control characters (terminal escapes included) dropped, whitespace folded, at most limit chars."""
    return shorten(" ".join(_CONTROL.sub("", text).split()), limit)


def shorten(text: str, limit: int) -> str:
    """text, or its first limit characters with an ellipsis."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"
