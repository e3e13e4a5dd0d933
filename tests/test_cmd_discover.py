"""Commands run from a subdirectory find the loop's workspace above, as git finds its repository."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from codex_self_iter.cli import main
from tests.conftest import git
from tests.support.loop_harness import Agent, control, fake_template, run_loop_in_process

PLAN = {"control": {"next_goal": "write hello.txt", "summary": "one step"}}


@pytest.fixture
def finished(git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace whose loop stopped on max_iterations, its config in the workspace, and a deep subdirectory."""
    agent = Agent(tmp_path, monkeypatch).on("planner", [PLAN])
    agent.on("executor", [{"append": "x", "content": "{call}"}, {"control": control("continue", "step {call}")}])
    assert run_loop_in_process(git_repo, {"max_iterations": 1}).exit_code == 2
    (git_repo / "src" / "deep").mkdir(parents=True)
    return git_repo


def test_status_history_stop_and_dry_run_from_a_subdirectory(
    finished: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(finished / "src" / "deep")
    capsys.readouterr()
    assert main(["status", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["workspace"] == str(finished) and report["stop_reason"] == "max_iterations"
    assert main(["history"]) == 0
    assert "max_iterations (exit 2)" in capsys.readouterr().out
    assert main(["run", "--dry-run", "--agent-command-template", fake_template()]) == 0
    assert "next: iteration 2 · executor" in capsys.readouterr().out
    assert main(["stop", "--reason", "from below"]) == 0
    assert (finished / ".codex-self-iter" / "STOP").exists()
    assert not (finished / "src" / "deep" / ".codex-self-iter").exists()


def test_a_config_alone_marks_the_workspace_and_doctor_finds_it(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (git_repo / "codex-self-iter.toml").write_text(f"agent_command_template = {json.dumps(fake_template())}\n")
    (git_repo / "docs").mkdir()
    monkeypatch.chdir(git_repo / "docs")
    main(["doctor"])
    assert f"config: {git_repo / 'codex-self-iter.toml'} is valid" in capsys.readouterr().out


def test_the_walk_stops_at_the_top_of_the_git_work_tree(
    finished: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    inner = finished / "vendor" / "lib"
    inner.mkdir(parents=True)
    git(finished / "vendor", "init", "-q")  # another repository inside: its loops are its own
    monkeypatch.chdir(inner)
    assert main(["status"]) == 1
    assert f"{finished / 'vendor' / 'lib' / '.codex-self-iter'}: no loop state here" in capsys.readouterr().err


def test_an_explicit_workspace_is_never_replaced(
    finished: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(finished / "src" / "deep")
    assert main(["status", "-w", "."]) == 1
    assert "no loop state here" in capsys.readouterr().err


def test_status_from_a_subdirectory_as_a_subprocess(finished: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "codex_self_iter", "status"],
        cwd=finished / "src" / "deep",
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("codex-self-iter: stopped: max_iterations (exit 2) at iteration 1")
    assert f"state dir: {finished / '.codex-self-iter'}" in done.stdout
