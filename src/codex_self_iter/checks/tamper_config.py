"""Read the checks' configuration (pytest settings, package.json, Makefile, test-runner configs) for narrowing."""

from __future__ import annotations

import configparser
import json
import re
import shlex
import tomllib
from typing import Any

from codex_self_iter.checks.tamper_reading import Change, Reading, added, describe_mark
from codex_self_iter.text import clip

INI_SECTIONS = {"pytest.ini": "pytest", ".pytest.ini": "pytest", "tox.ini": "pytest", "setup.cfg": "tool:pytest"}
PYTEST_COLLECTION = ("testpaths", "python_files", "python_classes", "python_functions", "norecursedirs", "xfail_strict")
PYTEST_WITH_VALUE = frozenset({"-k", "-m", "--deselect", "--ignore", "--ignore-glob", "-o", "--override-ini"})
PYTEST_FLAGS = frozenset({"--co", "--collect-only", "--lf", "--last-failed", "--sw", "--stepwise", "--sw-skip"})
JS_NARROWING = frozenset(
    {"-t", "--testNamePattern", "--testPathIgnorePatterns", "--testPathPattern", "--grep", "-g", "--passWithNoTests"}
    | {"--findRelatedTests", "-o", "--onlyChanged", "--lastCommit", "--changedSince", "--shard", "--exclude"}
    | {"--ignore", "--skip", "--filter", "--test-name-pattern", "--test-skip-pattern", "--test-only", "||", "exit"}
)
JEST_KEYS = ("testPathIgnorePatterns", "testMatch", "testRegex", "roots", "testNamePattern", "passWithNoTests")
MAKE_TARGETS = ("test", "check")
_MAKE_WEAK = re.compile(r"\|\|\s*(?:true|:|exit\s+0)|(?:^|\s)-k\s|--deselect|--ignore|exit\s+0|^\t[@+]*-")
_SELECT_LINE = {
    "js_config": re.compile(
        r"testPathIgnorePatterns|testMatch|testRegex|testNamePattern|exclude|include|\bonly\b|\bskip\b|\bgrep\b"
        r"|passWithNoTests|\broots\b|testPathPattern|\bspec\b|\bignore\b|\bfiles\b"
    ),
    "cargo": re.compile(r"\b(?:test|harness|autotests|doctest)\s*=\s*false"),
}


def read_config(kind: str, name: str, text: str) -> Reading:
    """The settings of a check configuration file that decide which tests run."""
    if kind == "pytest_ini":
        return Reading(settings=_ini_settings(text, INI_SECTIONS.get(name, "pytest")))
    if kind == "pyproject":
        return Reading(settings=_pyproject_settings(text))
    if kind == "package_json":
        return Reading(settings=_package_settings(text))
    if kind == "makefile":
        return Reading(settings=_make_settings(text))
    pattern = _SELECT_LINE[kind]
    lines = [" ".join(line.split()) for line in text.splitlines() if pattern.search(line)]
    return Reading(marks=[f"select:{clip(line, 120)}" for line in lines])


def compare_config(kind: str, old: Reading, new: Reading) -> list[Change]:
    """The changes between two readings of a configuration file; narrowing ones weaken the checks."""
    changes: list[Change] = [(describe_mark(mark), True) for mark in added(old.marks, new.marks)]
    for key in sorted(set(old.settings) | set(new.settings)):
        before, after = old.settings.get(key), new.settings.get(key)
        if before == after:
            continue
        shown = f"{key}: {clip(repr(before), 70)} → {clip(repr(after), 70)}"
        changes.append((f"setting {shown}", _narrows(kind, key, before or "", after)))
    return changes


def _narrows(kind: str, key: str, before: str, after: str | None) -> bool:
    if after is None:
        return kind != "pytest_ini" or key in PYTEST_COLLECTION or key == "addopts"
    if kind in ("pytest_ini", "pyproject"):
        if key == "addopts":
            return bool(_pytest_narrowing(after) - _pytest_narrowing(before))
        return key in PYTEST_COLLECTION
    if kind == "package_json":
        if key != "scripts.test":
            return True
        old_tokens, new_tokens = _tokens(before), _tokens(after)
        if not set(old_tokens) <= set(new_tokens):
            return True
        return any(t.split("=", 1)[0] in JS_NARROWING for t in set(new_tokens) - set(old_tokens))
    # A Makefile test recipe: losing a line or gaining an ignore-errors/selection line narrows it.
    old_lines, new_lines = before.splitlines(), after.splitlines()
    return not set(old_lines) <= set(new_lines) or any(_MAKE_WEAK.search(line) for line in new_lines)


def _pytest_narrowing(addopts: str) -> set[str]:
    tokens = _tokens(addopts)
    found: set[str] = set()
    for index, token in enumerate(tokens):
        option = token.split("=", 1)[0]
        if token in PYTEST_WITH_VALUE:
            found.add(f"{token} {tokens[index + 1] if index + 1 < len(tokens) else ''}")
        elif option in PYTEST_WITH_VALUE or option in PYTEST_FLAGS or token[:2] in ("-k", "-m"):
            found.add(token)
        elif not token.startswith("-") and ("/" in token or "::" in token or token.endswith(".py")):
            found.add(f"path {token}")
    return found


def _tokens(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _ini_settings(text: str, section: str) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return {"(unreadable)": clip(text, 200)}
    if not parser.has_section(section):
        return {}
    return {key: " ".join(value.split()) for key, value in parser.items(section)}


def _pyproject_settings(text: str) -> dict[str, str]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {"(unreadable)": "pyproject.toml does not parse"}
    pytest = data.get("tool", {}).get("pytest", {})
    if not isinstance(pytest, dict):
        return {}
    table = pytest.get("ini_options", pytest)
    return {str(k): _flat(v) for k, v in table.items() if k != "ini_options"} if isinstance(table, dict) else {}


def _flat(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value) if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _package_settings(text: str) -> dict[str, str]:
    try:
        data = json.loads(text)
    except ValueError:
        return {"(unreadable)": "package.json does not parse"}
    if not isinstance(data, dict):
        return {}
    settings: dict[str, str] = {}
    scripts = data.get("scripts")
    if isinstance(scripts, dict) and isinstance(scripts.get("test"), str):
        settings["scripts.test"] = scripts["test"]
    jest = data.get("jest")
    if isinstance(jest, dict):
        settings.update({f"jest.{k}": _flat(jest[k]) for k in JEST_KEYS if k in jest})
    return settings


def _make_settings(text: str) -> dict[str, str]:
    settings: dict[str, str] = {}
    current: str | None = None
    for line in text.splitlines():
        if line.startswith("\t") and current is not None:
            settings[current] += "\n" + line.rstrip()
            continue
        current = None
        rule = re.match(r"^([^\t#:=][^#:=]*?)\s*::?(?![=])(.*)$", line)
        if rule is None:
            continue
        for target in rule.group(1).split():
            if target in MAKE_TARGETS:
                current = target
                settings[target] = "prerequisites:" + " ".join(rule.group(2).split(";")[0].split())
    return settings
