"""Detected checks run end-to-end with the real toolchains on tiny projects (skipped when a toolchain is absent)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from codex_self_iter.checks.detect import detect_checks
from codex_self_iter.checks.run import run_checks

# Read before the autouse fixture moves HOME, so rustup/cargo still find their toolchains.
REAL_RUSTUP_HOME = os.environ.get("RUSTUP_HOME", str(Path.home() / ".rustup"))
REAL_CARGO_HOME = os.environ.get("CARGO_HOME", str(Path.home() / ".cargo"))


def needs(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed on this machine")


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.mark.timeout(90)
def test_detected_pytest_runs_with_the_projects_venv(tmp_path: Path) -> None:
    # The fixture's ".venv" python is a shim to this test run's interpreter, which has pytest installed.
    write(tmp_path / ".venv" / "bin" / "python", f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (tmp_path / ".venv" / "bin" / "python").chmod(0o755)
    write(tmp_path / "pyproject.toml", "[tool.pytest.ini_options]\naddopts = '-p no:cacheprovider'\n")
    write(tmp_path / "tests" / "test_math.py", "def test_add():\n    assert 1 + 1 == 2\n")
    specs = detect_checks(tmp_path)
    assert [s.argv for s in specs] == [[".venv/bin/python", "-m", "pytest", "-q"]]
    report = run_checks(specs, tmp_path, tmp_path / "out")
    assert report.all_passed, report.summary_for_prompt(4000)
    assert "1 passed" in report.results[0].output_tail

    write(tmp_path / "tests" / "test_math.py", "def test_add():\n    assert 1 + 1 == 3\n")
    report = run_checks(specs, tmp_path, tmp_path / "out")
    assert report.results[0].status == "failed" and "1 failed" in report.results[0].output_tail
    assert "assert (1 + 1) == 3" in report.summary_for_prompt(4000)


@pytest.mark.timeout(90)
def test_detected_npm_test_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    needs("npm")
    monkeypatch.setenv("NPM_CONFIG_UPDATE_NOTIFIER", "false")
    package = {"name": "fixture", "version": "1.0.0", "scripts": {"test": 'node -e "process.exit(0)"'}}
    write(tmp_path / "package.json", json.dumps(package))
    specs = detect_checks(tmp_path)
    assert [s.argv for s in specs] == [["npm", "test"]]
    assert run_checks(specs, tmp_path, tmp_path / "out").all_passed

    package["scripts"] = {"test": "node -e \"console.error('2 tests failed'); process.exit(4)\""}
    write(tmp_path / "package.json", json.dumps(package))
    (result,) = run_checks(detect_checks(tmp_path), tmp_path, tmp_path / "out").results
    assert result.status == "failed" and result.exit_code != 0 and "2 tests failed" in result.output_tail


@pytest.mark.timeout(60)
def test_detected_make_targets_run(tmp_path: Path) -> None:
    needs("make")
    write(
        tmp_path / "Makefile", ".PHONY: test check\ntest:\n\t@echo unit tests ok\ncheck:\n\t@echo lint broke; exit 3\n"
    )
    report = run_checks(detect_checks(tmp_path), tmp_path, tmp_path / "out")
    test, check = report.results
    assert test.passed and test.output_tail == "unit tests ok"
    assert check.status == "failed" and "lint broke" in check.output_tail
    assert report.summary() == "1/2 checks passed (make check failed)"


@pytest.mark.timeout(120)
def test_detected_cargo_test_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    needs("cargo")
    monkeypatch.setenv("RUSTUP_HOME", REAL_RUSTUP_HOME)
    monkeypatch.setenv("CARGO_HOME", REAL_CARGO_HOME)
    monkeypatch.setenv("CARGO_NET_OFFLINE", "true")
    write(tmp_path / "Cargo.toml", '[package]\nname = "fixture"\nversion = "0.1.0"\nedition = "2021"\n')
    write(tmp_path / "src" / "lib.rs", "#[test]\nfn adds() {\n    assert_eq!(1 + 1, 2);\n}\n")
    specs = detect_checks(tmp_path, timeout_sec=100)
    assert [s.argv for s in specs] == [["cargo", "test"]]
    report = run_checks(specs, tmp_path, tmp_path / "out")
    assert report.all_passed, report.summary_for_prompt(4000)


@pytest.mark.timeout(120)
def test_detected_go_test_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    needs("go")
    monkeypatch.setenv("GOTOOLCHAIN", "local")
    monkeypatch.setenv("GOPROXY", "off")
    write(tmp_path / "go.mod", "module example.invalid/fixture\n\ngo 1.20\n")
    write(
        tmp_path / "add_test.go",
        'package fixture\n\nimport "testing"\n\n'
        'func TestAdd(t *testing.T) {\n\tif 1+1 != 2 {\n\t\tt.Fatal("math")\n\t}\n}\n',
    )
    specs = detect_checks(tmp_path, timeout_sec=100)
    assert [s.argv for s in specs] == [["go", "test", "./..."]]
    report = run_checks(specs, tmp_path, tmp_path / "out")
    assert report.all_passed, report.summary_for_prompt(4000)
