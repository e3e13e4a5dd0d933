"""Agent-written text made safe to show: control characters out, length bounded."""

from __future__ import annotations

import re

from codex_self_iter.text import shorten

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str, limit: int) -> str:
    """One line: control characters (terminal escapes included) dropped, whitespace folded, at most limit chars."""
    return shorten(" ".join(_CONTROL.sub("", text).split()), limit)
