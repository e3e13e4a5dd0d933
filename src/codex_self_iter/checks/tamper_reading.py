"""What a reader sees in a test file, and how two readings of it differ: weakening changes and harmless ones."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from codex_self_iter.text import clip

MARK_LABELS = {
    "skip": "skip added",
    "exit": "early exit added",
    "select": "test selection changed",
    "only": "focus (.only) added: the other tests stop running",
    "build": "build constraint added: the file may no longer be compiled",
}


@dataclass
class FunctionFacts:
    """One test or helper: its real assertions, trivial ones, skip marks and parametrized cases."""

    asserts: int = 0
    trivial: int = 0
    marks: list[str] = field(default_factory=list)
    cases: int = 0
    texts: list[str] = field(default_factory=list)


@dataclass
class Reading:
    """A file as a reader saw it; `marks` are file-level "category:text" entries, `settings` config values."""

    tests: dict[str, FunctionFacts] = field(default_factory=dict)
    helpers: dict[str, FunctionFacts] = field(default_factory=dict)
    marks: list[str] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reading:
        """The inverse of to_dict; raises KeyError/TypeError on a malformed dict."""
        return cls(
            tests={k: FunctionFacts(**v) for k, v in data.get("tests", {}).items()},
            helpers={k: FunctionFacts(**v) for k, v in data.get("helpers", {}).items()},
            marks=[str(m) for m in data.get("marks", [])],
            settings={str(k): str(v) for k, v in data.get("settings", {}).items()},
            error=str(data.get("error", "")),
        )


Change = tuple[str, bool]  # (one line naming the change, whether it weakens the checks)
MovedTest = Callable[[str, FunctionFacts], bool]


def compare_tests(old: Reading, new: Reading, moved: MovedTest, new_file: bool = False) -> list[Change]:
    """The changes between two readings of a test file; moved(name, facts) says a test lives on elsewhere."""
    if new.error and not old.error:
        return [(f"{new.error} (the checks will fail on it)", False)]
    changes: list[Change] = [
        (f"{describe_mark(mark)}", not (new_file and mark.startswith("skip:"))) for mark in added(old.marks, new.marks)
    ]
    for name, before in old.tests.items():
        after = new.tests.get(name)
        if after is None:
            gone = moved(name, before)
            text = f"test {name} moved to another file" if gone else f"test {name} removed or renamed away"
            changes.append((text, not gone))
        else:
            changes += _function_changes("test", name, before, after)
    for name, before in old.helpers.items():
        after = new.helpers.get(name)
        if after is not None:
            changes += [c for c in _function_changes("helper", name, before, after) if c[1]]
    fresh = [name for name in new.tests if name not in old.tests]
    if fresh:
        changes.append((f"{len(fresh)} test(s) added: {clip(', '.join(fresh), 120)}", False))
    for name, facts in new.helpers.items():
        if name not in old.helpers:
            changes += [(describe_mark(m, f" in new helper {name}"), True) for m in facts.marks if not new_file]
    return changes


def _function_changes(what: str, name: str, before: FunctionFacts, after: FunctionFacts) -> list[Change]:
    changes = [(describe_mark(m, f" to {what} {name}"), True) for m in added(before.marks, after.marks)]
    if after.asserts < before.asserts:
        if after.trivial > before.trivial:
            text = f"assertions in {what} {name} replaced by trivial ones ({before.asserts} real → {after.asserts})"
        else:
            text = f"assertions removed from {what} {name} ({before.asserts} → {after.asserts})"
        changes.append((text, True))
    elif before.texts != after.texts:
        gone = [t for t in before.texts if t not in after.texts]
        came = [t for t in after.texts if t not in before.texts]
        if gone:
            changes.append((f"assertion changed in {what} {name}: `{gone[0]}` → `{came[0] if came else '?'}`", False))
    if after.cases < before.cases:
        changes.append((f"parametrized cases of {what} {name} cut ({before.cases} → {after.cases})", True))
    return changes


def added(before: list[str], after: list[str]) -> list[str]:
    """Entries of after that before does not have (counting repeats)."""
    return list((Counter(after) - Counter(before)).elements())


def describe_mark(mark: str, where: str = "") -> str:
    """'skip:@pytest.mark.skip', ' to test t' -> 'skip added to test t (`@pytest.mark.skip`)'."""
    category, _, text = mark.partition(":")
    label = MARK_LABELS.get(category, category)
    if where and ":" in label:
        head, _, tail = label.partition(":")
        return f"{head}{where} (`{text}`):{tail}"
    return f"{label}{where} (`{text}`)"
