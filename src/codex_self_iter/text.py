"""Small text helpers every part shares: one line of bounded length, the end of a text cut to size."""

from __future__ import annotations

import re
import sys
from typing import TextIO


def shorten(text: str, limit: int) -> str:
    """text, or its first limit characters ending in an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…" if limit > 0 else ""


def clip(text: str, limit: int) -> str:
    """One line (whitespace folded) of at most limit characters."""
    return shorten(" ".join(text.split()), limit)


def first_line(text: str, limit: int, skip_prefix: str = "WARNING:") -> str:
    """The first non-empty line that does not start with skip_prefix, at most limit characters."""
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith(skip_prefix)]
    return lines[0][:limit] if lines else "no output"


# C0 and C1 controls (ESC and CSI start terminal escape sequences; CR rewrites a line), DEL, bidi overrides.
_UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_OR_NEWLINE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def escape_terminal(text: str, keep_newlines: bool = False) -> str:
    """text with every control character shown as an escape (\\x1b), so agent text cannot drive the terminal."""
    pattern = _UNSAFE if keep_newlines else _UNSAFE_OR_NEWLINE
    return pattern.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    char = match.group(0)
    if char == "\t":
        return " "
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def say(text: str, file: TextIO | None = None, flush: bool = False) -> None:
    """print() for text that may hold agent-written parts: control characters escaped, newlines kept."""
    print(escape_terminal(text, keep_newlines=True), file=file if file is not None else sys.stdout, flush=flush)
