"""Command hooks an agent writes into .git/config or .gitattributes never run in the loop's own git commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_self_iter.workspace.git import run_git
from tests.conftest import git
from tests.support.loop_harness import Agent, control, run_loop_in_process


def hostile_git_config(marks: Path) -> str:
    """Every repository-configured command git could run for status, diff or ls-files; each leaves a mark."""
    return (
        "\n[core]\n"
        f"\tfsmonitor = touch {marks}/fsmonitor; true\n"
        '[filter "evil"]\n'
        f"\tclean = sh -c 'touch {marks}/clean; cat'\n"
        f"\tsmudge = sh -c 'touch {marks}/smudge; cat'\n"
        '[diff "evil"]\n'
        f"\ttextconv = sh -c 'touch {marks}/textconv; cat \"$0\"'\n"
        f"\tcommand = sh -c 'touch {marks}/diff-driver'\n"
        "[diff]\n"
        f"\texternal = sh -c 'touch {marks}/external'\n"
    )


def test_git_hooks_planted_by_the_agent_never_run(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    agent = Agent(tmp_path, monkeypatch).on("planner", [{"control": {"next_goal": "edit hello", "summary": "plan"}}])
    agent.on(
        "executor",
        [
            {"append": ".git/config", "content": hostile_git_config(marks)},
            {"write": ".gitattributes", "content": "* filter=evil diff=evil\n"},
            {"append": "TASK.md", "content": "more\n"},
            {"write": "hello.txt", "content": "hello\n"},
            {"control": control("continue", "finish")},
        ],
        [{"append": "TASK.md", "content": "again {call}\n"}, {"control": control("complete", "", summary="done")}],
    )
    agent.on("reviewer", [{"control": {"verdict": "approve", "reasons": ["ok"], "next_goal": ""}}])
    run = run_loop_in_process(git_repo, {"max_iterations": 4, "review_every": 1})
    assert run.exit_code == 0, run.output
    assert len(agent.calls("reviewer")) >= 1  # the reviewer's diff was taken with the hostile config in place
    assert sorted(p.name for p in marks.iterdir()) == []
    # The same config does run in a plain git command: the test's hooks are live, not inert.
    git(git_repo, "status", "--porcelain")
    assert "fsmonitor" in {p.name for p in marks.iterdir()}


def test_the_hardened_runner_sees_the_changes_git_sees(git_repo: Path) -> None:
    (git_repo / "hello.txt").write_text("hello\n")
    (git_repo / "TASK.md").write_text("changed\n")
    done = run_git(git_repo, ["status", "--porcelain", "-z", "--untracked-files=all"])
    assert done.code == 0
    assert sorted(entry[3:] for entry in done.text().split("\0") if entry) == ["TASK.md", "hello.txt"]
