"""Goal text: normalisation and near-duplicate detection for the stagnation gate."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

_WORD_RE = re.compile(r"[a-z0-9_]+")
COMPARE_CHARS = 300  # goals are compared on their opening words: bounded cost, and that is where they differ
_FILLER = frozenset(
    [
        "a",
        "an",
        "the",
        "to",
        "of",
        "in",
        "on",
        "for",
        "and",
        "or",
        "with",
        "then",
        "so",
        "it",
        "its",
        "this",
        "that",
        "is",
        "be",
        "by",
        "at",
        "as",
        "from",
        "into",
    ]
)


def normalise(goal: str) -> str:
    """Lower case, punctuation dropped, whitespace folded."""
    return " ".join(_WORD_RE.findall(goal.lower()))


def similarity(first: str, second: str) -> float:
    """A 0..1 score; 1 means the same goal after normalisation."""
    a, b = normalise(first)[:COMPARE_CHARS], normalise(second)[:COMPARE_CHARS]
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    words_a, words_b = set(a.split()) - _FILLER, set(b.split()) - _FILLER
    if not words_a or not words_b:
        return SequenceMatcher(None, a, b, autojunk=False).ratio()
    jaccard = len(words_a & words_b) / len(words_a | words_b)
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if jaccard >= 0.9 or matcher.real_quick_ratio() < jaccard:
        return jaccard
    return max(jaccard, matcher.ratio())


def is_near_duplicate(goal: str, previous: str | None, threshold: float) -> bool:
    """True when goal restates previous (same words, reordered or lightly edited)."""
    return previous is not None and similarity(goal, previous) >= threshold
