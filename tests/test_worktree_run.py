"""`run --worktree`: the loop works on its own branch in a git worktree; the user's repository is left alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from codex_self_iter.cli import main
from codex_self_iter.errors import UserError
from codex_self_iter.workspace.isolation import IsolationRequest
from tests.conftest import git
from tests.support.loop_harness import Agent, control, fake_template, run_loop_in_process
from tests.support.repo_snapshot import repo_snapshot

PLAN = {"control": {"next_goal": "write hello.txt", "summary": "one step"}}
APPROVE = {"control": {"verdict": "approve", "reasons": ["hello.txt says hello"], "next_goal": ""}}


def script(agent: Agent) -> None:
    """Iteration 1 writes, 2 changes nothing, 3 finishes and claims; the reviewer approves."""
    agent.on("planner", [PLAN])
    agent.on(
        "executor",
        [{"write": "hello.txt", "content": "hel"}, {"control": control("continue", "finish hello.txt")}],
        [{"control": control("continue", "make hello.txt say hello")}],
        [{"write": "hello.txt", "content": "hello"}, {"write": "docs/n.md", "content": "n"},
         {"control": control("complete", summary="hello.txt says hello")}],
    )  # fmt: skip
    agent.on("reviewer", [APPROVE])


def commits(repo: Path, rev_range: str) -> list[str]:
    """Full messages of the commits in rev_range, oldest first."""
    out = git(repo, "log", "--reverse", "--format=%B%x00", rev_range)
    return [message.strip() for message in out.split("\0") if message.strip()]


def dirty_the_tree(repo: Path) -> None:
    """A stash entry, a staged edit, an unstaged edit and an untracked file."""
    (repo / "plan.md").write_text("# Plan\n- [ ] stashed\n")
    git(repo, "stash", "push", "-q", "-m", "user stash")
    (repo / "TASK.md").write_text("# Task\nMake hello.txt say hello.\nstaged edit\n")
    git(repo, "add", "TASK.md")
    (repo / "plan.md").write_text("# Plan\n- [ ] write hello.txt\nunstaged edit\n")
    (repo / "notes.txt").write_text("untracked\n")


def test_worktree_run_commits_each_changing_iteration_and_leaves_the_user_repo_byte_identical(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (git_repo / "plan.md").write_text("# Plan\n- [ ] stashed\n")
    git(git_repo, "stash", "push", "-q", "-m", "user stash")  # a stash entry that must survive untouched
    agent = Agent(tmp_path, monkeypatch)
    script(agent)
    before = repo_snapshot(git_repo)
    run = run_loop_in_process(git_repo, {"max_iterations": 10}, worktree=IsolationRequest())
    assert run.exit_code == 0, run.output
    assert repo_snapshot(git_repo) == before
    assert not (git_repo / "hello.txt").exists()

    wt = run.worktree
    assert wt is not None and wt.branch.startswith("codex-self-iter/make-hello-txt-say-hello-")
    assert (Path(wt.worktree) / "hello.txt").read_text() == "hello"
    assert {c["cwd"] for c in agent.calls()} == {wt.worktree}  # every role ran in the worktree
    messages = commits(git_repo, f"{wt.base}..{wt.branch}")
    assert len(messages) == 2  # iteration 2 changed nothing: no commit for it
    first, third = messages
    assert first.startswith("iteration 1: write hello.txt\n")
    assert "Codex-Self-Iter-Iteration: 1\nCodex-Self-Iter-Executor: continue\nCodex-Self-Iter-Checks: not run" in first
    assert third.startswith("iteration 3: make hello.txt say hello\n")
    assert "Codex-Self-Iter-Executor: complete" in third and "Codex-Self-Iter-Iteration: 3" in third
    assert git(Path(wt.worktree), "status", "--porcelain") == ""  # everything is on the branch
    checkpoints = [r for r in run.journal() if r["event"] == "checkpoint"]
    assert [r["iteration"] for r in checkpoints] == [1, 3]

    reviewer_prompt = agent.calls("reviewer")[0]["prompt"]  # base..branch: iteration 1's commit and iteration 3's
    assert "+hello" in reviewer_prompt and "docs/n.md" in reviewer_prompt
    assert f"branch: {wt.branch} (2 checkpoint commit(s) on top of main" in run.output
    assert "2 files changed" in run.output and f"git merge {wt.branch}" in run.output


def test_a_dirty_tree_is_refused_in_one_line_and_left_exactly_as_it_was(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dirty_the_tree(git_repo)
    before = repo_snapshot(git_repo)
    with pytest.raises(UserError, match=r"3 uncommitted change.*--include-uncommitted"):
        run_loop_in_process(git_repo, worktree=IsolationRequest())
    code = main(["run", "--worktree", "-w", str(git_repo), "--agent-command-template", "true {prompt_file}"])
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "commit or stash them first, or run again with --include-uncommitted" in err
    assert repo_snapshot(git_repo) == before
    assert git(git_repo, "branch", "--list", "codex-self-iter/*") == ""


def test_include_uncommitted_carries_the_changes_as_the_first_commit(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dirty_the_tree(git_repo)
    agent = Agent(tmp_path, monkeypatch)
    script(agent)
    before = repo_snapshot(git_repo)
    run = run_loop_in_process(git_repo, {"max_iterations": 10}, worktree=IsolationRequest(include_uncommitted=True))
    assert run.exit_code == 0, run.output
    assert repo_snapshot(git_repo) == before  # tree, staged and unstaged edits, untracked file, stash: all as they were
    wt = run.worktree
    assert wt is not None and wt.carried_uncommitted and wt.start_commit == git(git_repo, "rev-parse", "HEAD").strip()
    carried = commits(git_repo, f"{wt.start_commit}..{wt.base}")
    assert carried == ["uncommitted changes carried over from main"]
    tree = Path(wt.worktree)
    assert (tree / "notes.txt").read_text() == "untracked\n"
    assert "unstaged edit" in (tree / "plan.md").read_text() and "staged edit" in (tree / "TASK.md").read_text()
    assert len(commits(git_repo, f"{wt.base}..{wt.branch}")) == 2


def test_a_stopped_run_is_continued_on_the_same_branch_and_fresh_starts_a_new_one(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = Agent(tmp_path, monkeypatch)
    agent.on("planner", [PLAN])
    agent.on(
        "executor", [{"append": "log.txt", "content": "{call}\n"}, {"control": control("continue", "step {call}")}]
    )
    first = run_loop_in_process(git_repo, {"max_iterations": 2}, worktree=IsolationRequest())
    assert first.exit_code == 2 and first.worktree is not None
    again = run_loop_in_process(git_repo, {"max_iterations": 2}, worktree=IsolationRequest())
    assert again.worktree is not None and again.worktree.id == first.worktree.id
    assert again.runtime["iteration"] == 4
    assert (Path(first.worktree.worktree) / "log.txt").read_text() == "1\n2\n3\n4\n"
    assert len(commits(git_repo, f"{first.worktree.base}..{first.worktree.branch}")) == 4
    fresh = run_loop_in_process(git_repo, {"max_iterations": 1}, worktree=IsolationRequest(new=True))
    assert fresh.worktree is not None and fresh.worktree.branch != first.worktree.branch
    assert fresh.runtime["iteration"] == 1


def test_worktree_run_from_the_command_line(git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    agent = Agent(tmp_path, monkeypatch)
    script(agent)

    config = tmp_path / "c.toml"
    config.write_text('checks = []\nisolation = "worktree"\nno_change_backoff_sec = 0\n')
    done = subprocess.run(
        [sys.executable, "-m", "codex_self_iter", "run", "-w", str(git_repo), "--config", str(config),
         "--agent-command-template", fake_template()],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "merge into main: codex-self-iter merge --run make-hello-txt-say-hello-" in done.stdout, done.stdout
    assert git(git_repo, "branch", "--list", "--format=%(refname:short)", "codex-self-iter/*").startswith(
        "codex-self-iter/make-hello-txt-say-hello-"
    )
