"""Small text helpers every part shares: one line of bounded length, the end of a text cut to size."""

from __future__ import annotations


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
