"""A run right after `init`: the files init wrote are not the agent's work ("files changed", the reviewer's diff)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codex_self_iter.cli import main
from tests.conftest import git
from tests.support.loop_harness import Agent, control, fake_template

PLAN = {"control": {"next_goal": "write hello.txt", "summary": "one step"}}
APPROVE = {"control": {"verdict": "approve", "reasons": ["fine"], "next_goal": ""}}
CLAIM = {"control": control("complete", summary="wrote hello.txt")}


@pytest.fixture
def initialised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    """A git repository with one commit, then `init` (its files left uncommitted, as a new user leaves them)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# A project\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "start")
    monkeypatch.chdir(repo)
    assert main(["init", "--goal", "make hello.txt say hello"]) == 0
    out = capsys.readouterr().out
    assert "  2. git add TASK.md plan.md codex-self-iter.toml && git commit -m 'Task for codex-self-iter'" in out
    return repo


def test_files_changed_and_the_reviewers_diff_leave_out_what_init_wrote(
    initialised: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = Agent(tmp_path, monkeypatch).on("planner", [PLAN]).on("reviewer", [APPROVE])
    agent.on("executor", [{"write": "hello.txt", "content": "hello"}, CLAIM])
    assert main(["run", "--agent-command-template", fake_template()]) == 0
    out = capsys.readouterr().out
    assert "files changed: 1 ·" in out, out
    diff = (initialised / ".codex-self-iter" / "runs" / "00001" / "reviewer" / "diff.patch").read_text()
    assert "new untracked file: hello.txt" in diff
    assert "TASK.md" not in diff.split("(not shown")[0] and "plan.md" not in diff.split("(not shown")[0]
    note = "(not shown: 3 file(s) already changed before the run and not touched since: "
    assert note + "TASK.md, codex-self-iter.toml, plan.md)" in diff
    assert "new untracked file: TASK.md" not in agent.calls("reviewer")[0]["prompt"]


def test_a_file_init_wrote_that_the_agent_then_edits_counts(
    initialised: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = Agent(tmp_path, monkeypatch).on("planner", [PLAN]).on("reviewer", [APPROVE])
    agent.on(
        "executor",
        [{"write": "hello.txt", "content": "hello"}, {"append": "plan.md", "content": "- [x] done\n"}, CLAIM],
    )
    assert main(["run", "--agent-command-template", fake_template()]) == 0
    assert "files changed: 2 ·" in capsys.readouterr().out
    diff = (initialised / ".codex-self-iter" / "runs" / "00001" / "reviewer" / "diff.patch").read_text()
    assert "new untracked file: plan.md" in diff and "not touched since: TASK.md, codex-self-iter.toml)" in diff


def test_files_changed_after_init_as_a_subprocess(initialised: Path, tmp_path: Path) -> None:
    script = tmp_path / "agent-script.json"
    executor = [[{"write": "hello.txt", "content": "hi"}, CLAIM]]
    script.write_text(json.dumps({"planner": [[PLAN]], "reviewer": [[APPROVE]], "executor": executor}))
    done = subprocess.run(
        [sys.executable, "-m", "codex_self_iter", "run", "--agent-command-template", fake_template()],
        cwd=initialised,
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, "FAKE_AGENT_SCRIPT": str(script)},
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert "files changed: 1 ·" in done.stdout
