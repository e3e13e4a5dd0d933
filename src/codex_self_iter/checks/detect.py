"""Guess a project's checks from the files it has (pytest, npm test, make, cargo, go); reads files, runs nothing."""

from __future__ import annotations

import configparser
import json
import os
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from codex_self_iter.checks.run import DEFAULT_TIMEOUT_SEC, CheckSpec

MAX_READ_BYTES = 1024 * 1024
MAX_SCAN_ENTRIES = 5000
MAX_SCAN_DEPTH = 4
MAKE_TARGETS = ("test", "check")
NPM_DEFAULT_TEST = "no test specified"
_RULE = re.compile(r"^ *(?P<targets>[^\t#:=][^#:=]*?)\s*::?(?!=)(?P<rest>.*)$")
_TARGET_VARIABLE = re.compile(r"^\s*[A-Za-z_][\w.-]*\s*[:+?!]?=")
_LOCKFILES = (
    ("pnpm-lock.yaml", "pnpm", ["pnpm", "test"]),
    ("yarn.lock", "yarn", ["yarn", "test"]),
    ("bun.lockb", "bun", ["bun", "run", "test"]),
    ("bun.lock", "bun", ["bun", "run", "test"]),
)


def detect_checks(workspace: Path, timeout_sec: float = DEFAULT_TIMEOUT_SEC) -> list[CheckSpec]:
    """The checks this project declares or implies, each with a `source` saying why it was chosen."""
    found: list[tuple[str, list[str], str]] = []
    make = _make_checks(workspace)
    # A Makefile target is the project's own entry point: it knows its environment (poetry, uv, tox...)
    # better than a guessed `python3 -m pytest`, and running both would run the same tests twice.
    found += make or _pytest_check(workspace)
    found += _npm_check(workspace)
    if not make:
        found += _toolchain_checks(workspace)
    return [CheckSpec(name, argv, False, source, timeout_sec) for name, argv, source in found]


def _pytest_check(workspace: Path) -> list[tuple[str, list[str], str]]:
    reason = _pytest_reason(workspace)
    if reason is None:
        return []
    python = project_python(workspace)
    return [("pytest", [python, "-m", "pytest", "-q"], f"{reason}; interpreter {python}")]


def project_python(workspace: Path) -> str:
    """The interpreter the project would use: its .venv (or venv) python when present, else python3."""
    for venv in (".venv", "venv"):
        candidate = workspace / venv / "bin" / "python"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return f"{venv}/bin/python"
    return "python3"


def _pytest_reason(workspace: Path) -> str | None:
    pyproject = _read_toml(workspace / "pyproject.toml")
    tool = pyproject.get("tool")
    pytest_table = tool.get("pytest") if isinstance(tool, dict) else None
    if isinstance(pytest_table, dict):
        section = "tool.pytest.ini_options" if "ini_options" in pytest_table else "tool.pytest"
        return f"pyproject.toml has [{section}]"
    for name in ("pytest.ini", ".pytest.ini"):
        if (workspace / name).is_file():
            return f"{name} exists"
    if _ini_has_section(workspace / "setup.cfg", "tool:pytest"):
        return "setup.cfg has [tool:pytest]"
    if _ini_has_section(workspace / "tox.ini", "pytest"):
        return "tox.ini has [pytest]"
    for folder in ("tests", "test", "src"):
        first = next(_test_files(workspace / folder), None)
        if first is not None:
            return f"{folder}/ has pytest-style test files (e.g. {first.relative_to(workspace).as_posix()})"
    # Small projects keep test_*.py next to the code at the top level.
    top = sorted(p.name for p in _top_files(workspace) if _is_test_file(p.name))
    return f"pytest-style test files at the top level (e.g. {top[0]})" if top else None


def _top_files(workspace: Path) -> Iterator[Path]:
    try:
        entries = sorted(os.scandir(workspace), key=lambda entry: entry.name)[:MAX_SCAN_ENTRIES]
    except OSError:
        return
    yield from (Path(entry.path) for entry in entries if entry.is_file(follow_symlinks=False))


def _is_test_file(filename: str) -> bool:
    return filename.endswith(".py") and (filename.startswith("test_") or filename.endswith("_test.py"))


def _test_files(root: Path) -> Iterator[Path]:
    """test_*.py / *_test.py under root, scanning a bounded number of entries to a bounded depth."""
    if not root.is_dir():
        return
    seen = 0
    for dirpath, dirnames, filenames in os.walk(root):
        depth = len(Path(dirpath).relative_to(root).parts)
        dirnames[:] = [] if depth >= MAX_SCAN_DEPTH else sorted(d for d in dirnames if _scannable(d))
        for filename in sorted(filenames):
            seen += 1
            if seen > MAX_SCAN_ENTRIES:
                return
            if _is_test_file(filename):
                yield Path(dirpath) / filename


def _scannable(dirname: str) -> bool:
    return not dirname.startswith(".") and dirname not in {"__pycache__", "node_modules"}


def _npm_check(workspace: Path) -> list[tuple[str, list[str], str]]:
    package = _read_json(workspace / "package.json")
    scripts = package.get("scripts")
    script = scripts.get("test") if isinstance(scripts, dict) else None
    if not isinstance(script, str) or not script.strip() or NPM_DEFAULT_TEST in script:
        return []
    shown = script if len(script) <= 80 else script[:79] + "…"
    for lockfile, manager, argv in _LOCKFILES:
        if (workspace / lockfile).is_file():
            return [(" ".join(argv), argv, f"package.json scripts.test = {shown!r}; {lockfile} → {manager}")]
    declared = str(package.get("packageManager", "")).split("@", 1)[0]
    for _, manager, argv in _LOCKFILES:
        if manager == declared:
            return [(" ".join(argv), argv, f"package.json scripts.test = {shown!r}; packageManager → {manager}")]
    return [("npm test", ["npm", "test"], f"package.json scripts.test = {shown!r}; no pnpm/yarn/bun lockfile → npm")]


def _make_checks(workspace: Path) -> list[tuple[str, list[str], str]]:
    # GNU make reads the first of these that exists.
    for name in ("GNUmakefile", "makefile", "Makefile"):
        path = workspace / name
        if path.is_file():
            targets = makefile_targets(_read_text(path))
            return [(f"make {t}", ["make", t], f"{name} has a '{t}' target") for t in MAKE_TARGETS if t in targets]
    return []


def makefile_targets(text: str) -> set[str]:
    """Explicit target names defined by rule lines of a Makefile (recipes, variables and .PHONY ignored)."""
    targets: set[str] = set()
    in_define = False
    for line in text.splitlines():
        words = line.split()
        if in_define:
            in_define = words[:1] != ["endef"]
            continue
        if words[:1] == ["define"] or (words[:1] in (["override"], ["export"]) and words[1:2] == ["define"]):
            in_define = True
            continue
        match = _RULE.match(line)
        if match is None or _TARGET_VARIABLE.match(match["rest"]):
            continue
        targets.update(t for t in match["targets"].split() if not t.startswith(".") and "%" not in t)
    return targets


def _toolchain_checks(workspace: Path) -> list[tuple[str, list[str], str]]:
    found: list[tuple[str, list[str], str]] = []
    if (workspace / "Cargo.toml").is_file():
        found.append(("cargo test", ["cargo", "test"], "Cargo.toml exists"))
    if (workspace / "go.mod").is_file():
        found.append(("go test", ["go", "test", "./..."], "go.mod exists"))
    return found


def _read_text(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_READ_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return ""


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(_read_text(path))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(_read_text(path))
    except tomllib.TOMLDecodeError:
        return {}


def _ini_has_section(path: Path, section: str) -> bool:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(_read_text(path))
    except configparser.Error:
        # A file configparser rejects may still declare the section; a plain line match is enough here.
        return f"[{section}]" in (line.strip() for line in _read_text(path).splitlines())
    return parser.has_section(section)
