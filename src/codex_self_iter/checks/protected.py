"""Protected tests: what guarded the checks at the baseline, and every way it was weakened since.

snapshot = ProtectedSnapshot.take(workspace, checks, protected_globs, exclude=".codex-self-iter")
snapshot.save(state_dir / "protected.json")            # ProtectedSnapshot.load(path) reads it back
for item in find_tampering(snapshot, workspace):       # only the changes that weaken the checks
    print(item)                                        # "tests/test_calc.py: skip added (...) to test test_add"
find_tampering(snapshot, workspace, include_harmless=True)  # every change, for a reviewer
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codex_self_iter.checks import protected_scan as scan
from codex_self_iter.checks.run import CheckSpec
from codex_self_iter.checks.tamper_config import compare_config, read_config
from codex_self_iter.checks.tamper_lines import read_lines
from codex_self_iter.checks.tamper_python import read_python
from codex_self_iter.checks.tamper_reading import FunctionFacts, Reading, compare_tests
from codex_self_iter.state.fsio import atomic_write_json, read_json
from codex_self_iter.text import clip

FORMAT = 1


@dataclass(frozen=True, order=True)
class Tampering:
    """One change to a protected file since the snapshot; `weakens` is False for changes that only inform."""

    path: str
    change: str
    weakens: bool = True

    def __str__(self) -> str:
        return f"{self.path}: {self.change}"


@dataclass
class ProtectedSnapshot:
    """The protected files at the baseline: kind, digest and what a reader saw in each."""

    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    globs: list[str] = field(default_factory=list)
    programs: list[str] = field(default_factory=list)
    shadow_names: list[str] = field(default_factory=list)
    exclude: str | None = None

    @classmethod
    def take(
        cls,
        workspace: Path,
        checks: Sequence[CheckSpec],
        protected_globs: Sequence[str] = (),
        exclude: str | None = None,
    ) -> ProtectedSnapshot:
        """Record the protected files as they are now (exclude: the state dir, relative to the workspace)."""
        snapshot = cls(
            globs=list(protected_globs),
            programs=scan.check_programs(workspace, checks),
            shadow_names=sorted(scan.shadow_names(checks)),
            exclude=exclude,
        )
        for rel, kind in _current(workspace, snapshot).items():
            digest = scan.file_digest(workspace / rel)
            if digest is not None:
                reading = _read(workspace, rel, kind)
                snapshot.files[rel] = {"kind": kind, "digest": digest, "reading": reading and reading.to_dict()}
        return snapshot

    @property
    def tests(self) -> int:
        """How many tests the snapshot's test files hold."""
        return sum(len(entry["reading"]["tests"]) for entry in self.files.values() if entry.get("reading"))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"format": FORMAT, **{k: getattr(self, k) for k in ("files", "globs", "programs", "shadow_names")}} | {
            "exclude": self.exclude
        }

    def save(self, path: Path) -> None:
        """Write the snapshot atomically."""
        atomic_write_json(path, self.to_dict(), durable=True)

    @classmethod
    def load(cls, path: Path) -> ProtectedSnapshot | None:
        """The snapshot saved at path, or None when it is missing, unreadable or of another format."""
        data = read_json(path)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return None
        try:
            return cls(
                files={str(k): dict(v) for k, v in data["files"].items()},
                globs=[str(g) for g in data["globs"]],
                programs=[str(p) for p in data["programs"]],
                shadow_names=[str(n) for n in data["shadow_names"]],
                exclude=data.get("exclude"),
            )
        except (KeyError, TypeError, AttributeError, ValueError):
            return None


def find_tampering(snapshot: ProtectedSnapshot, workspace: Path, include_harmless: bool = False) -> list[Tampering]:
    """How the protected files changed since the snapshot; by default only the changes that weaken the checks."""
    now = _current(workspace, snapshot)
    digests = {rel: scan.file_digest(workspace / rel) for rel in now}
    readings: dict[str, Reading | None] = {}
    for rel, kind in now.items():
        entry = snapshot.files.get(rel)
        if entry is not None and entry["digest"] == digests[rel] and entry.get("reading"):
            readings[rel] = Reading.from_dict(entry["reading"])
        else:
            readings[rel] = _read(workspace, rel, kind)
    found: list[Tampering] = []
    for rel in sorted(set(snapshot.files) | set(now)):
        found += _changes(rel, snapshot, digests.get(rel), now, readings)
    return sorted(found) if include_harmless else sorted(t for t in found if t.weakens)


def describe(changes: Sequence[Tampering]) -> str:
    """One line per change, weakening ones marked, for prompts and logs."""
    return "\n".join(f"- {item}" + ("  [weakens the checks]" if item.weakens else "") for item in changes)


def _changes(
    rel: str,
    snapshot: ProtectedSnapshot,
    digest: str | None,
    now: dict[str, str],
    readings: dict[str, Reading | None],
) -> list[Tampering]:
    entry, kind = snapshot.files.get(rel), now.get(rel)
    before = Reading.from_dict(entry["reading"]) if entry and entry.get("reading") else None
    if entry is None:
        return _created(rel, kind or "", readings.get(rel))
    if kind is None:
        return [_deleted(rel, entry["kind"], before, now, readings)]
    if entry["digest"] == digest:
        return []
    after = readings.get(rel)
    if before is None or after is None:
        return [Tampering(rel, "changed (it guards the checks and must stay as it was)")]
    if kind in scan.TEST_KINDS:
        lines = compare_tests(before, after, _mover(rel, kind, now, readings))
    else:
        lines = compare_config(kind, before, after)
    lines = lines or [("changed (no test, assertion or test selection was weakened)", False)]
    return [Tampering(rel, text, weakens) for text, weakens in lines]


def _created(rel: str, kind: str, reading: Reading | None) -> list[Tampering]:
    if kind in ("glob", "program"):
        return [Tampering(rel, "created; it matches protected_paths")]
    if kind == "shadow":
        return [Tampering(rel, "created at the workspace root: the checks would import it instead of the real module")]
    if reading is None:
        return []
    if kind in scan.TEST_KINDS:
        new_file = not rel.endswith("conftest.py")
        lines = compare_tests(Reading(), reading, lambda _name, _facts: False, new_file=new_file)
    else:
        lines = compare_config(kind, Reading(), reading)
    return [Tampering(rel, f"new file: {text}", weakens) for text, weakens in lines]


def _deleted(
    rel: str, kind: str, before: Reading | None, now: dict[str, str], readings: dict[str, Reading | None]
) -> Tampering:
    if before is not None and before.tests:
        mover = _mover(rel, kind, now, readings)
        stranded = [name for name, facts in before.tests.items() if not mover(name, facts)]
        if not stranded:
            return Tampering(rel, "deleted; every test in it lives on in another file", False)
        return Tampering(rel, f"deleted with {len(stranded)} test(s): {clip(', '.join(stranded), 120)}")
    return Tampering(rel, "deleted")


def _mover(rel: str, kind: str, now: dict[str, str], readings: dict[str, Reading | None]) -> Any:
    def moved(name: str, facts: FunctionFacts) -> bool:
        for other, other_kind in now.items():
            reading = readings.get(other)
            if other == rel or other_kind != kind or reading is None:
                continue
            there = reading.tests.get(name)
            if there is not None and there.asserts >= facts.asserts and len(there.marks) <= len(facts.marks):
                return True
        return False

    return moved


def _current(workspace: Path, snapshot: ProtectedSnapshot) -> dict[str, str]:
    found: dict[str, str] = {}
    for rel in scan.walk(workspace, snapshot.exclude):
        kind = scan.kind_of(rel, workspace)
        if kind is not None:
            found[rel] = kind
    for rel in scan.shadows(workspace, frozenset(snapshot.shadow_names)):
        found[rel.rstrip("/")] = "shadow"
    found.update({rel: "program" for rel in snapshot.programs if (workspace / rel).exists()})
    found.update({rel: "glob" for rel in scan.glob_matches(workspace, snapshot.globs, snapshot.exclude)})
    return found


def _read(workspace: Path, rel: str, kind: str) -> Reading | None:
    if kind in ("glob", "program", "shadow"):
        return None
    text = scan.read_text(workspace / rel)
    if text is None:
        return None
    if kind == "python":
        return read_python(text)
    if kind in ("js", "go", "rust"):
        return read_lines(kind, text)
    return read_config(kind, rel, text)
