"""diff, rollback, merge and cleanup of worktree runs, in real repositories with the scripted agent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from filelock import FileLock

from codex_self_iter.cli import main
from codex_self_iter.workspace.isolation import IsolationRequest
from tests.conftest import git
from tests.support.loop_harness import Agent, Run, control, run_loop_in_process
from tests.support.repo_snapshot import repo_snapshot

PLAN = {"control": {"next_goal": "goal 1", "summary": "plan"}}


def stepping_run(repo: Path, agent: Agent, iterations: int, **config: object) -> Run:
    """A worktree run whose executor appends its call number to log.txt and sets the goal 'goal <n+1>'."""
    agent.on("planner", [PLAN])
    step = [{"append": "log.txt", "content": "{call}\n"}, {"control": control("continue", "goal {call}1")}]
    agent.on("executor", step)
    settings = {"max_iterations": iterations, "max_stagnation": 100, **config}
    run = run_loop_in_process(repo, settings, worktree=IsolationRequest())
    assert run.exit_code == 2, run.output
    assert run.worktree is not None
    return run


def cli(repo: Path, *args: str) -> int:
    return main([*args, "-w", str(repo)])


def test_diff_shows_the_whole_run_or_one_checkpoint(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stepping_run(git_repo, Agent(tmp_path, monkeypatch), 3)
    capsys.readouterr()
    assert cli(git_repo, "diff") == 0
    assert "+1\n+2\n+3\n" in capsys.readouterr().out
    assert cli(git_repo, "diff", "2") == 0
    one = capsys.readouterr().out
    assert " 1\n+2\n" in one and "+3" not in one
    assert cli(git_repo, "diff", "9") == 1
    assert "no checkpoint for iteration 9 (checkpoints: 1, 2, 3)" in capsys.readouterr().err


def test_rollback_puts_branch_worktree_and_loop_state_back_and_the_loop_continues_from_there(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = Agent(tmp_path, monkeypatch)
    run = stepping_run(git_repo, agent, 4)
    wt = run.worktree
    assert wt is not None
    tree = Path(wt.worktree)
    (tree / "stray.txt").write_text("left by an interrupted turn\n")
    tokens_before = run.runtime["totals"]
    assert cli(git_repo, "rollback", "--to", "2") == 0
    assert f"{wt.branch} is back at checkpoint 2" in capsys.readouterr().out
    assert (tree / "log.txt").read_text() == "1\n2\n" and not (tree / "stray.txt").exists()
    assert git(tree, "log", "-1", "--format=%s").strip() == "iteration 2: goal 11"
    runtime = json.loads((run.state_dir / "runtime.json").read_text())
    assert runtime["iteration"] == 2 and runtime["goal"] == "goal 21"  # the goal iteration 3 was given
    assert runtime["goal_history"][-1] == "goal 21" and "goal 31" not in runtime["goal_history"]
    assert runtime["totals"] == tokens_before  # spent is spent
    assert sorted(p.name for p in (run.state_dir / "runs").iterdir()) == ["00001", "00002"]
    assert json.loads((run.state_dir / "status.json").read_text())["iteration"] == 2

    again = run_loop_in_process(git_repo, {"max_iterations": 1}, worktree=IsolationRequest())
    assert again.worktree is not None and again.worktree.id == wt.id
    assert again.runtime["iteration"] == 3
    assert (tree / "log.txt").read_text() == "1\n2\n5\n"  # the agent's 5th call redid iteration 3
    subjects = git(tree, "log", "--format=%s", f"{wt.base}..{wt.branch}").split("\n")
    assert subjects[:3] == ["iteration 3: goal 21", "iteration 2: goal 11", "iteration 1: goal 1"]


def test_merge_clean_then_cleanup_removes_the_run(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = stepping_run(git_repo, Agent(tmp_path, monkeypatch), 2)
    wt = run.worktree
    assert wt is not None
    assert cli(git_repo, "merge") == 0
    assert f"merged {wt.branch} into main" in capsys.readouterr().out
    assert (git_repo / "log.txt").read_text() == "1\n2\n"
    assert git(git_repo, "status", "--porcelain") == ""
    assert git(git_repo, "log", "-1", "--format=%s").startswith(f"Merge {wt.branch}")

    before = repo_snapshot(git_repo)
    assert cli(git_repo, "cleanup") == 0
    listed = capsys.readouterr().out
    assert f"would remove: remove worktree {wt.worktree}" in listed
    assert f"would remove: delete branch {wt.branch} (merged)" in listed and "dry run: nothing was removed" in listed
    assert Path(wt.worktree).is_dir() and repo_snapshot(git_repo) == before
    private = wt.lock_file.parent
    assert private.joinpath("protected.json").is_file()
    assert cli(git_repo, "cleanup", "--apply") == 0
    assert not Path(wt.worktree).exists() and not Path(wt.state_dir).exists()
    assert not private.exists()  # nor its private state, outside the repository
    assert git(git_repo, "branch", "--list", wt.branch) == ""
    assert git(git_repo, "worktree", "list", "--porcelain").count("worktree ") == 1


def test_merge_refuses_a_dirty_tree_and_a_conflict_and_changes_nothing(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = stepping_run(git_repo, Agent(tmp_path, monkeypatch), 2)
    wt = run.worktree
    assert wt is not None
    (git_repo / "scratch.txt").write_text("mine\n")
    before = repo_snapshot(git_repo)
    capsys.readouterr()
    assert cli(git_repo, "merge") == 1
    err = capsys.readouterr().err
    assert "1 uncommitted change(s) (scratch.txt); merge needs a clean tree" in err and len(err.splitlines()) == 1
    assert f"git merge {wt.branch}" in err
    assert repo_snapshot(git_repo) == before

    (git_repo / "scratch.txt").unlink()
    (git_repo / "log.txt").write_text("the user's own log\n")
    git(git_repo, "add", "log.txt")
    git(git_repo, "commit", "-q", "-m", "user adds log.txt")
    before = repo_snapshot(git_repo)
    assert cli(git_repo, "merge") == 2
    err = capsys.readouterr().err
    assert f"{wt.branch} conflicts with main in log.txt; nothing was changed" in err
    assert f"To finish by hand: git merge {wt.branch}, resolve the conflicts" in err
    assert repo_snapshot(git_repo) == before and not (git_repo / ".git" / "MERGE_HEAD").exists()


def test_cleanup_keeps_unmerged_branches_unless_asked_and_prunes_old_iterations(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = stepping_run(git_repo, Agent(tmp_path, monkeypatch), 6, keep_runs=0)
    wt = run.worktree
    assert wt is not None
    assert len(list((run.state_dir / "runs").iterdir())) == 6
    capsys.readouterr()
    assert cli(git_repo, "cleanup", "--apply", "--keep-runs", "2") == 0
    out = capsys.readouterr().out
    assert f"removing: remove worktree {wt.worktree}" in out
    assert f"branch {wt.branch} kept (not merged; --delete-unmerged deletes it)" in out
    assert "removing: prune" in out
    assert not Path(wt.worktree).exists()
    assert git(git_repo, "rev-parse", "--verify", wt.branch).strip()  # the unmerged branch is still there
    assert sorted(p.name for p in (run.state_dir / "runs").iterdir()) == ["00005", "00006"]
    assert sorted(p.name[:5] for p in (run.state_dir / "prompts").iterdir()) == ["00005", "00006"]

    assert cli(git_repo, "cleanup", "--apply", "--delete-unmerged") == 0
    assert f"removing: delete branch {wt.branch} (NOT merged)" in capsys.readouterr().out
    assert git(git_repo, "branch", "--list", wt.branch) == "" and not Path(wt.state_dir).exists()


def test_the_loop_prunes_to_keep_runs_as_it_goes(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = stepping_run(git_repo, Agent(tmp_path, monkeypatch), 7, keep_runs=3)
    assert sorted(p.name for p in (run.state_dir / "runs").iterdir()) == ["00005", "00006", "00007"]
    assert {p.name[:5] for p in (run.state_dir / "prompts").iterdir()} == {"00005", "00006", "00007"}
    assert len((run.state_dir / "logs" / "iterations.jsonl").read_text().splitlines()) > 7  # the journal stays


def test_status_history_and_doctor_know_the_worktree_run(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = stepping_run(git_repo, Agent(tmp_path, monkeypatch), 2)
    wt = run.worktree
    assert wt is not None
    capsys.readouterr()
    assert cli(git_repo, "status") == 0  # no plain loop here: status shows the newest worktree run
    out = capsys.readouterr().out
    assert "stopped: max_iterations" in out and f"worktree run {wt.id}: branch {wt.branch}, 2 checkpoint(s)" in out
    assert main(["status", "--json", "--run", wt.branch, "-w", str(git_repo)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["worktree"]["checkpoints"] == 2 and report["state_dir"] == wt.state_dir
    assert main(["status", "-w", wt.worktree]) == 0  # from inside the checkout
    assert f"worktree run {wt.id}" in capsys.readouterr().out
    assert cli(git_repo, "history") == 0
    history = capsys.readouterr().out
    assert [line.split()[0] for line in history.splitlines() if " checkpoint " in line] == ["1", "2"]
    main(["doctor", "-w", str(git_repo)])
    assert f"worktree run {wt.id}: branch {wt.branch}; not running, iteration 2" in capsys.readouterr().out
    assert main(["status", "--run", "no-such-run", "-w", str(git_repo)]) == 1
    assert "no-such-run: no such worktree run" in capsys.readouterr().err


def test_rollback_to_a_checkpoint_whose_saved_state_was_pruned_keeps_counters_and_takes_the_next_goal(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = stepping_run(git_repo, Agent(tmp_path, monkeypatch), 4, keep_runs=1)
    assert (
        "next: see `codex-self-iter history`; edit plan.md or the config if needed, then `run --worktree`" in run.output
    )
    assert sorted(p.name for p in (run.state_dir / "checkpoints").iterdir()) == ["00004.json"]
    assert cli(git_repo, "rollback", "--to", "1") == 0
    runtime = json.loads((run.state_dir / "runtime.json").read_text())
    assert runtime["iteration"] == 1 and runtime["goal"] == "goal 11"  # from iteration 2's checkpoint commit
    assert runtime["clean_exit"] is True and runtime["completed"] is False
    assert cli(git_repo, "rollback", "--to", "3") == 1  # undone checkpoints are gone from the branch
    assert "no checkpoint for iteration 3 (checkpoints: 1)" in capsys.readouterr().err


def test_a_run_whose_loop_holds_its_lock_is_never_continued_by_another_run(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = stepping_run(git_repo, Agent(tmp_path, monkeypatch), 1)
    assert first.worktree is not None
    with FileLock(str(first.worktree.lock_file), timeout=0):  # as its loop holds it while it runs
        second = run_loop_in_process(
            git_repo, {"max_iterations": 1, "max_stagnation": 100}, worktree=IsolationRequest()
        )
    assert second.exit_code == 2, second.output  # a run of its own, not exit 4 on the running one's lock
    assert second.worktree is not None and second.worktree.branch != first.worktree.branch
