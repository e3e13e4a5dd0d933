"""Runs without checks say so loudly; require_checks refuses them; top-level test files are found."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_self_iter.errors import UserError
from tests.conftest import git
from tests.support.loop_harness import Agent, control, run_loop_in_process

PLAN = {"control": {"next_goal": "make add() add", "summary": "fix calc"}}
APPROVE = {"control": {"verdict": "approve", "reasons": ["fine"], "next_goal": ""}}
CLAIM = {"control": control("complete", summary="done")}


def test_a_run_without_checks_says_so_at_start_and_in_the_summary(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    Agent(tmp_path, monkeypatch).on("planner", [PLAN]).on("reviewer", [APPROVE]).on(
        "executor", [{"write": "hello.txt", "content": "hello"}, CLAIM]
    )
    run = run_loop_in_process(git_repo, {"checks": [], "max_iterations": 2})
    assert run.exit_code == 0
    start = capsys.readouterr().err
    assert "warning: NO CHECKS (none (checks = [])): only the reviewer stands between a claim and exit 0" in start
    assert 'add one: checks = ["python3 -m pytest -q"]' in start
    assert "checks: NONE (none (checks = [])) — nothing verified the work; add one: checks = [" in run.output


def test_require_checks_refuses_to_start_without_checks(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = Agent(tmp_path, monkeypatch).on("executor", [CLAIM])
    with pytest.raises(UserError, match=r"loop-config.toml: require_checks = true but there are no checks"):
        run_loop_in_process(git_repo, {"checks": "detect", "require_checks": True})
    assert agent.calls() == []


def test_a_top_level_test_file_is_detected_and_gates_the_claim(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (git_repo / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (git_repo / "test_calc.py").write_text("from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "calc")
    fix = {"write": "calc.py", "content": "def add(a, b):\n    return a + b\n"}
    agent = Agent(tmp_path, monkeypatch).on("planner", [PLAN]).on("reviewer", [APPROVE])
    agent.on("executor", [CLAIM], [fix, CLAIM])
    run = run_loop_in_process(git_repo, {"checks": "detect", "require_checks": True, "max_iterations": 4})
    assert run.exit_code == 0, run.output
    assert run.status["iteration"] == 2  # the first, unfounded claim failed the detected pytest
    assert "pytest-style test files at the top level (e.g. test_calc.py)" in run.status["checks_source"]
