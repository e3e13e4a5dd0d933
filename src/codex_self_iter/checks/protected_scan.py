"""Which files guard the checks: test files, check configuration, check programs and runner shadows.

The walk reads the file system itself, not git: a file git ignores still counts (an agent can hide a fake
`pytest/` package behind its own `.gitignore`).
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from codex_self_iter.checks.run import CheckSpec

MAX_ENTRIES = 20_000
MAX_READ_BYTES = 2 * 1024 * 1024
SKIP_DIRS = frozenset({"node_modules", "__pycache__", "target", "site-packages", "dist"})
ROOT_CONFIG = {
    "pytest.ini": "pytest_ini",
    ".pytest.ini": "pytest_ini",
    "tox.ini": "pytest_ini",
    "setup.cfg": "pytest_ini",
    "pyproject.toml": "pyproject",
    "package.json": "package_json",
    "Makefile": "makefile",
    "makefile": "makefile",
    "GNUmakefile": "makefile",
    "Cargo.toml": "cargo",
}
_JS_CONFIG = re.compile(r"^(?:\.mocharc|(?:jest|vitest|vitest\.workspace|karma|playwright|ava)\.conf(?:ig)?)\b")
_JS_EXT = (".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".mts", ".cts")
_JS_TEST = re.compile(r"\.(?:test|spec)\.[cm]?[jt]sx?$")
RUNNER_MODULES = frozenset({"pytest", "_pytest", "pluggy", "unittest", "py", "sitecustomize", "usercustomize"})
TEST_KINDS = frozenset({"python", "js", "go", "rust"})


def kind_of(rel: str, workspace: Path) -> str | None:
    """The protected kind of a workspace-relative path (posix), or None when it does not guard the checks."""
    parts = rel.split("/")
    name = parts[-1]
    if len(parts) == 1:
        if name in ROOT_CONFIG:
            return ROOT_CONFIG[name]
        if _JS_CONFIG.match(name):
            return "js_config"
    if name == "conftest.py" or (name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))):
        return "python"
    if name.endswith(_JS_EXT) and (_JS_TEST.search(name) or {"__tests__", "test", "tests"} & set(parts[:-1])):
        return "js"
    if name.endswith("_test.go"):
        return "go"
    if name.endswith(".rs") and ("tests" in parts[:-1] or _has_rust_tests(workspace / rel)):
        return "rust"
    return None


def shadow_names(checks: Sequence[CheckSpec]) -> frozenset[str]:
    """Module names a file at the workspace root must not take over: the test runners and the checks' -m modules."""
    modules = {spec.argv[i + 1] for spec in checks for i, arg in enumerate(spec.argv[:-1]) if arg == "-m"}
    return RUNNER_MODULES | {m.split(".")[0] for m in modules}


def shadows(workspace: Path, names: frozenset[str]) -> list[str]:
    """Root entries (name.py or name/) that would be imported instead of the real runner modules."""
    found: list[str] = []
    for name in sorted(names):
        if (workspace / f"{name}.py").exists():
            found.append(f"{name}.py")
        if (workspace / name).is_dir():
            found.append(f"{name}/")
    return found


def check_programs(workspace: Path, checks: Sequence[CheckSpec]) -> list[str]:
    """Files inside the workspace that the checks run or read by path (scripts, a venv's python and its config)."""
    found: list[str] = []
    for spec in checks:
        for arg in spec.argv:
            if arg.startswith("-") or "\n" in arg:
                continue
            rel = _inside(workspace, arg)
            if rel is None or not (workspace / rel).is_file():
                continue
            found.append(rel)
            venv_cfg = Path(rel).parent.parent / "pyvenv.cfg"
            if Path(rel).parent.name == "bin" and (workspace / venv_cfg).is_file():
                found.append(venv_cfg.as_posix())
    return sorted(set(found))


def glob_matches(workspace: Path, globs: Sequence[str], exclude: str | None) -> list[str]:
    """Files matching the protected_paths globs (fnmatch style; `*` also crosses `/`)."""
    if not globs:
        return []
    return [rel for rel in walk(workspace, exclude, hidden=True) if any(fnmatch.fnmatchcase(rel, g) for g in globs)]


def walk(workspace: Path, exclude: str | None, hidden: bool = False) -> Iterator[str]:
    """Workspace-relative posix paths of regular files and symlinks, bounded, skipping caches and venvs."""
    seen = 0
    skip_state = (exclude or "").strip("/")
    for dirpath, dirnames, filenames in os.walk(workspace):
        here = Path(dirpath)
        rel_dir = here.relative_to(workspace).as_posix()
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in SKIP_DIRS
            and d != ".git"
            and (hidden or not d.startswith("."))
            and _join(rel_dir, d) != skip_state
            and not (here / d / "pyvenv.cfg").exists()
        )
        for name in sorted(filenames):
            seen += 1
            if seen > MAX_ENTRIES:
                return
            yield _join(rel_dir, name)


def file_digest(path: Path) -> str | None:
    """sha256 of the bytes (a symlink also by its target, a directory by its files); None when unreadable."""
    if path.is_dir() and not path.is_symlink():
        digest = hashlib.sha256(b"dir")
        for index, rel in enumerate(walk(path, None, hidden=True)):
            if index >= 500:
                break
            digest.update(f"{rel}\0{file_digest(path / rel)}\0".encode("utf-8", "surrogateescape"))
        return digest.hexdigest()
    try:
        link = os.readlink(path) if path.is_symlink() else ""
        with open(path, "rb") as handle:
            data = handle.read(MAX_READ_BYTES + 1)
    except OSError:
        return None
    return hashlib.sha256(link.encode("utf-8", "surrogateescape") + b"\0" + data).hexdigest()


def read_text(path: Path) -> str | None:
    """The file's text (bounded), or None when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_READ_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return None


def _has_rust_tests(path: Path) -> bool:
    text = read_text(path) or ""
    return "#[test]" in text or "#[cfg(test)]" in text or re.search(r"#\[\w+::test\b", text) is not None


def _inside(workspace: Path, arg: str) -> str | None:
    candidate = Path(arg)
    if not candidate.is_absolute():
        if "/" not in arg and "." not in arg:
            return None
        candidate = workspace / candidate
    try:
        rel = Path(os.path.normpath(candidate)).relative_to(workspace)
    except ValueError:
        return None
    return None if rel.as_posix() == "." or rel.parts[:1] == ("..",) else rel.as_posix()


def _join(directory: str, name: str) -> str:
    return name if directory == "." else f"{directory}/{name}"
