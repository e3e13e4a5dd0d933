"""Check detection on tiny fixture projects built in tmp_path, one per ecosystem and variant."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from codex_self_iter.checks.detect import detect_checks, makefile_targets, project_python

pytestmark = pytest.mark.timeout(30)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def detected(workspace: Path) -> list[tuple[str, list[str]]]:
    specs = detect_checks(workspace)
    assert all(spec.source and not spec.shell and spec.timeout_sec > 0 for spec in specs)
    return [(spec.name, spec.argv) for spec in specs]


PYTEST = [("pytest", ["python3", "-m", "pytest", "-q"])]


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({"pyproject.toml": "[tool.pytest.ini_options]\naddopts = '-q'\n"}, "[tool.pytest.ini_options]"),
        ({"pyproject.toml": "[tool.pytest]\nminversion = '9.0'\n"}, "[tool.pytest]"),
        ({"pytest.ini": ""}, "pytest.ini exists"),
        ({"setup.cfg": "[metadata]\nname = x\n\n[tool:pytest]\ntestpaths = tests\n"}, "setup.cfg has [tool:pytest]"),
        ({"tox.ini": "[tox]\nenvlist = py311\n\n[pytest]\naddopts = -q\n"}, "tox.ini has [pytest]"),
        ({"tests/test_app.py": "def test_ok():\n    pass\n"}, "tests/test_app.py"),
        ({"tests/unit/deep/app_test.py": "def test_ok():\n    pass\n"}, "tests/unit/deep/app_test.py"),
        ({"test_calc.py": "def test_ok():\n    pass\n", "calc.py": ""}, "at the top level (e.g. test_calc.py)"),
        ({"calc_test.py": "def test_ok():\n    pass\n"}, "at the top level (e.g. calc_test.py)"),
        ({"src/calc/test_calc.py": "def test_ok():\n    pass\n"}, "src/ has pytest-style test files"),
    ],
)
def test_pytest_variants_are_detected_with_their_reason(tmp_path: Path, files: dict[str, str], reason: str) -> None:
    for name, text in files.items():
        write(tmp_path / name, text)
    specs = detect_checks(tmp_path)
    assert [(s.name, s.argv) for s in specs] == PYTEST
    assert reason in specs[0].source
    assert "python3" in specs[0].source


@pytest.mark.parametrize(
    "files",
    [
        {"pyproject.toml": "[project]\nname = 'x'\n[tool.ruff]\nline-length = 100\n"},
        {"pyproject.toml": "this is [not toml"},
        {"setup.cfg": "[metadata]\nname = x\n"},
        {"tox.ini": "[tox]\nenvlist = py311\n"},
        {"tests/helpers.py": "X = 1\n", "tests/data/test_data.json": "{}"},
        {".hidden/tests/test_x.py": "", "docs/test_not_collected_here.py": "", "testing.py": ""},
    ],
)
def test_no_pytest_without_config_or_test_files(tmp_path: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        write(tmp_path / name, text)
    assert detected(tmp_path) == []


def test_pytest_prefers_the_projects_venv_interpreter(tmp_path: Path) -> None:
    write(tmp_path / "pytest.ini", "")
    python = write(tmp_path / ".venv" / "bin" / "python", "#!/bin/sh\n")
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    assert project_python(tmp_path) == ".venv/bin/python"
    assert detected(tmp_path) == [("pytest", [".venv/bin/python", "-m", "pytest", "-q"])]


def test_a_broken_venv_link_falls_back_to_python3(tmp_path: Path) -> None:
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").symlink_to(tmp_path / "gone")
    assert project_python(tmp_path) == "python3"


@pytest.mark.parametrize(
    ("lockfile", "expected"),
    [
        (None, ("npm test", ["npm", "test"])),
        ("pnpm-lock.yaml", ("pnpm test", ["pnpm", "test"])),
        ("yarn.lock", ("yarn test", ["yarn", "test"])),
        ("bun.lockb", ("bun run test", ["bun", "run", "test"])),
        ("bun.lock", ("bun run test", ["bun", "run", "test"])),
    ],
)
def test_npm_test_uses_the_lockfiles_package_manager(
    tmp_path: Path, lockfile: str | None, expected: tuple[str, list[str]]
) -> None:
    write(tmp_path / "package.json", json.dumps({"scripts": {"test": "vitest run"}}))
    if lockfile:
        write(tmp_path / lockfile, "")
    specs = detect_checks(tmp_path)
    assert [(s.name, s.argv) for s in specs] == [expected]
    assert "vitest run" in specs[0].source


def test_package_manager_field_is_used_without_a_lockfile(tmp_path: Path) -> None:
    write(tmp_path / "package.json", json.dumps({"packageManager": "pnpm@9.1.0", "scripts": {"test": "jest"}}))
    assert detected(tmp_path) == [("pnpm test", ["pnpm", "test"])]


@pytest.mark.parametrize(
    "package",
    [
        '{"name": "x", "scripts": {"test": "echo \\"Error: no test specified\\" && exit 1"}}',
        '{"name": "x", "scripts": {"build": "tsc"}}',
        '{"name": "x", "scripts": {"test": "  "}}',
        '{"name": "x"}',
        '{"name": "x", "scripts": ',
        "[]",
    ],
)
def test_no_npm_test_without_a_real_test_script(tmp_path: Path, package: str) -> None:
    write(tmp_path / "package.json", package)
    assert detected(tmp_path) == []


def test_makefile_test_and_check_targets(tmp_path: Path) -> None:
    write(
        tmp_path / "Makefile",
        "PY ?= python3\nURL = http://example.invalid:80\n.PHONY: test check\n\n"
        "check: lint test\n\t@echo checked\n\ntest:\n\t$(PY) -m pytest\n",
    )
    specs = detect_checks(tmp_path)
    assert [(s.name, s.argv) for s in specs] == [("make test", ["make", "test"]), ("make check", ["make", "check"])]
    assert specs[0].source == "Makefile has a 'test' target"


@pytest.mark.parametrize(
    "makefile",
    [
        "all: build\n\nbuild:\n\tcc -o app app.c\n",
        ".PHONY: test check\nall:\n\t@true\n",
        "test := yes\ncheck = no\n",
        "build:\n\t@echo test: check:\n",
        "define RULES\ntest:\n\t@true\nendef\n",
        "test: VERBOSE = 1\n",
        "%: %.c\n\tcc $<\n",
    ],
)
def test_makefile_without_test_or_check_targets(tmp_path: Path, makefile: str) -> None:
    write(tmp_path / "Makefile", makefile)
    assert detected(tmp_path) == []


def test_makefile_target_parsing() -> None:
    text = "test check: all\nlint::\n\t@true\n  spaced:\n.DEFAULT_GOAL := test\nexport X := 1\n"
    assert makefile_targets(text) == {"test", "check", "lint", "spaced"}


def test_makefile_targets_supersede_guessed_commands_but_not_npm(tmp_path: Path) -> None:
    write(tmp_path / "Makefile", "test:\n\tpoetry run pytest\n")
    write(tmp_path / "pytest.ini", "")
    write(tmp_path / "Cargo.toml", "[package]\nname = 'x'\n")
    write(tmp_path / "package.json", json.dumps({"scripts": {"test": "jest"}}))
    assert detected(tmp_path) == [("make test", ["make", "test"]), ("npm test", ["npm", "test"])]


def test_gnumakefile_is_read_first_like_make_does(tmp_path: Path) -> None:
    write(tmp_path / "GNUmakefile", "check:\n\t@true\n")
    write(tmp_path / "Makefile", "test:\n\t@true\n")
    assert detected(tmp_path) == [("make check", ["make", "check"])]


def test_cargo_and_go(tmp_path: Path) -> None:
    write(tmp_path / "Cargo.toml", "[package]\nname = 'x'\nversion = '0.1.0'\n")
    write(tmp_path / "go.mod", "module example.invalid/x\n\ngo 1.22\n")
    specs = detect_checks(tmp_path, timeout_sec=42)
    assert [(s.name, s.argv) for s in specs] == [
        ("cargo test", ["cargo", "test"]),
        ("go test", ["go", "test", "./..."]),
    ]
    assert [s.source for s in specs] == ["Cargo.toml exists", "go.mod exists"]
    assert {s.timeout_sec for s in specs} == {42}


def test_every_ecosystem_together_in_a_stable_order(tmp_path: Path) -> None:
    write(tmp_path / "tests" / "test_a.py", "")
    write(tmp_path / "package.json", json.dumps({"scripts": {"test": "jest"}}))
    write(tmp_path / "Cargo.toml", "")
    write(tmp_path / "go.mod", "")
    assert [name for name, _ in detected(tmp_path)] == ["pytest", "npm test", "cargo test", "go test"]


def test_nothing_detected_in_an_empty_or_unrelated_workspace(tmp_path: Path) -> None:
    assert detected(tmp_path) == []
    write(tmp_path / "README.md", "# hello\n")
    write(tmp_path / "tests", "a file, not a folder\n")
    assert detected(tmp_path) == []


def test_reads_are_bounded(tmp_path: Path) -> None:
    # A target beyond the first MiB is not seen: detection never reads a huge file whole.
    write(tmp_path / "Makefile", "# filler\n" * 200_000 + "test:\n\t@true\n")
    assert detected(tmp_path) == []
