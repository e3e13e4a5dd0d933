"""Awkward workspaces: spaces and unicode, a symlinked path, symlinks and FIFOs inside, huge untracked files."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from codex_self_iter.workspace.fingerprint import take_fingerprint
from tests.conftest import git
from tests.support.loop_harness import Agent, control, run_loop_in_process

PLAN = {"control": {"next_goal": "write the files", "summary": "plan"}}
APPROVE = {"control": {"verdict": "approve", "reasons": ["done"], "next_goal": ""}}
HUGE = 8 * 1024**3  # sparse: no disk space used, but hashing it all would take many seconds


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    (path / "TASK.md").write_text("# Task\nWrite the files.\n", encoding="utf-8")
    (path / "plan.md").write_text("- [ ] write the files\n", encoding="utf-8")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "init")
    return path


@pytest.fixture
def agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Agent:
    return Agent(tmp_path, monkeypatch).on("planner", [PLAN]).on("reviewer", [APPROVE])


def test_a_workspace_with_spaces_unicode_and_shell_characters_completes(tmp_path: Path, agent: Agent) -> None:
    work = make_repo(tmp_path / "wörk spåce ✓ 日本 $(touch pwned) ; 'q'")
    agent.on(
        "executor",
        [{"write": "naïve file ✓.txt", "content": "héllo"}, {"control": control("continue", "add the second file")}],
        [{"write": "sub dir/ünï cödé.md", "content": "ok"}, {"control": control("complete", summary="both written")}],
    )
    run = run_loop_in_process(work, {"max_iterations": 5})
    assert run.exit_code == 0, run.output
    assert run.status["workspace"] == str(work)
    assert [c["cwd"] for c in agent.calls()] == [str(work)] * 4
    assert all(c["argv"][2] == str(work) for c in agent.calls())  # one argv element, spaces and all
    diff = (run.state_dir / "runs" / "00002" / "reviewer" / "diff.patch").read_text(encoding="utf-8")
    assert "naïve file ✓.txt" in diff and "sub dir/ünï cödé.md" in diff
    assert run.runtime["streaks"]["no_change"] == 0  # both turns' changes were seen
    assert not list(tmp_path.rglob("pwned"))


def test_a_workspace_reached_through_a_symlink_is_the_same_loop(tmp_path: Path, agent: Agent) -> None:
    real = make_repo(tmp_path / "real repo")
    link = tmp_path / "link to repo"
    link.symlink_to(real, target_is_directory=True)
    agent.on(
        "executor", [{"append": "log.txt", "content": "{call}\n"}, {"control": control("continue", "step {call}")}]
    )
    first = run_loop_in_process(link, {"max_iterations": 2})
    assert first.exit_code == 2, first.output
    status = json.loads((real / ".codex-self-iter" / "status.json").read_text())
    assert status["workspace"] == str(real) and status["state_dir"] == str(real / ".codex-self-iter")
    assert not (tmp_path / "link to repo" / ".codex-self-iter").is_symlink()
    assert "/.codex-self-iter/" in (real / ".git" / "info" / "exclude").read_text()
    second = run_loop_in_process(real, {"max_iterations": 1})  # the real path finds the same state
    assert second.exit_code == 2
    assert json.loads((real / ".codex-self-iter" / "runtime.json").read_text())["iteration"] == 3


@pytest.mark.parametrize("is_git", [True, False], ids=["git", "plain dir"])
def test_symlinks_and_fifos_inside_the_workspace_neither_hang_nor_escape(
    tmp_path: Path, agent: Agent, is_git: bool
) -> None:
    work = make_repo(tmp_path / "ws") if is_git else tmp_path / "ws"
    work.mkdir(exist_ok=True)
    (work / "plan.md").write_text("- [ ] write\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("outside the workspace\n")
    (work / "dangling").symlink_to(tmp_path / "nowhere")
    (work / "loop-a").symlink_to(work / "loop-b")
    (work / "loop-b").symlink_to(work / "loop-a")
    (work / "to-outside").symlink_to(outside, target_is_directory=True)
    (work / "to-zero").symlink_to("/dev/zero")
    (work / "up").symlink_to(work, target_is_directory=True)
    os.mkfifo(work / "a fifo")
    agent.on(
        "executor",
        [{"append": "out.txt", "content": "one\n"}, {"control": control("continue", "finish out.txt")}],
        [{"append": "out.txt", "content": "two\n"}, {"control": control("complete", summary="done")}],
    )
    started = time.monotonic()
    run = run_loop_in_process(work, {"max_iterations": 5})
    assert run.exit_code == 0, run.output
    assert time.monotonic() - started < 30
    assert run.runtime["streaks"]["no_change"] == 0
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (work / "a fifo").exists() and not (work / "a fifo").is_file()


@pytest.mark.parametrize("is_git", [True, False], ids=["git", "plain dir"])
def test_huge_untracked_files_keep_the_fingerprint_fast_and_changes_still_seen(tmp_path: Path, is_git: bool) -> None:
    work = make_repo(tmp_path / "ws") if is_git else tmp_path / "ws"
    work.mkdir(exist_ok=True)
    huge = [work / f"huge-{n}.bin" for n in range(3)]
    for path in huge:
        with open(path, "wb") as handle:
            handle.truncate(HUGE)
    started = time.monotonic()
    before = take_fingerprint(work, ".codex-self-iter")
    took = time.monotonic() - started
    assert took < 2.0, f"fingerprint of 3 sparse 8 GiB files took {took:.1f}s"
    time.sleep(0.01)  # a new mtime, even on coarse clocks
    with open(huge[1], "r+b") as handle:
        handle.seek(HUGE - 1)
        handle.write(b"x")  # a change far past the hashed head
    assert take_fingerprint(work, ".codex-self-iter").digest != before.digest
    assert take_fingerprint(work, ".codex-self-iter").digest == take_fingerprint(work, ".codex-self-iter").digest


def test_a_loop_whose_agent_appends_to_a_huge_file_sees_each_change(git_repo: Path, agent: Agent) -> None:
    with open(git_repo / "data.bin", "wb") as handle:
        handle.truncate(HUGE)
    agent.on("executor", [{"append": "data.bin", "content": "{call}"}, {"control": control("continue", "more {call}")}])
    started = time.monotonic()
    run = run_loop_in_process(git_repo, {"max_iterations": 4})
    assert run.exit_code == 2, run.output
    assert run.runtime["streaks"]["no_change"] == 0
    assert time.monotonic() - started < 30


def test_a_huge_tracked_diff_is_read_bounded(git_repo: Path) -> None:
    import tracemalloc

    from codex_self_iter.workspace.diffs import diff_since
    from tests.conftest import git

    big = git_repo / "big.txt"
    big.write_text("a line of text\n" * 200_000)
    git(git_repo, "add", "big.txt")
    git(git_repo, "commit", "-qm", "big")
    base = git(git_repo, "rev-parse", "HEAD").strip()
    big.write_text("another line\n" * 2_000_000)  # a ~26 MB diff
    tracemalloc.start()
    text = diff_since(git_repo, base, ".codex-self-iter", 20_000)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert text.endswith("run git diff yourself ...]")
    assert len(text) < 21_000
    assert peak < 5_000_000
