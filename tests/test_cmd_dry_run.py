"""`run --dry-run`: the next prompt and exact argv, with no agent call and not one byte of state written."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import time
from pathlib import Path

import pytest
from filelock import FileLock

from codex_self_iter.cli import main
from codex_self_iter.workspace.isolation import IsolationRequest
from tests.conftest import git
from tests.support.loop_harness import Agent, control, fake_template, private_file, run_loop_in_process
from tests.support.repo_snapshot import repo_snapshot

PLAN = {"control": {"next_goal": "write hello.txt", "summary": "one step"}}


def tree(directory: Path) -> dict[str, tuple[str, int]]:
    """Every file under directory with its content hash and mtime."""
    return {
        str(path.relative_to(directory)): (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def dry_run(workspace: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["run", "--dry-run", "-w", str(workspace), "--agent-command-template", fake_template(), *extra])
    return code, capsys.readouterr().out


@pytest.fixture
def agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Agent:
    agent = Agent(tmp_path, monkeypatch).on("planner", [PLAN])
    return agent.on("executor", [{"append": "x", "content": "{call}"}, {"control": control("continue", "step {call}")}])


def test_first_dry_run_shows_the_planner_and_creates_nothing(
    git_repo: Path, agent: Agent, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = dry_run(git_repo, capsys)
    assert code == 0
    assert "next: iteration 1 · planner (there is no current goal yet" in out
    prompt_file = git_repo / ".codex-self-iter" / "prompts" / "00001-planner.md"
    argv = shlex.split(out.split("argv: ", 1)[1].splitlines()[0])  # the exact argv, each value one token
    assert argv[-3:] == [str(prompt_file), str(git_repo), "planner"]
    assert "----- planner prompt -----" in out and "You are the PLANNER" in out and "Make hello.txt say hello" in out
    assert "~" in out and " tokens" in out
    assert not (git_repo / ".codex-self-iter").exists()
    assert agent.calls() == []


def test_dry_run_after_a_run_shows_the_executor_and_changes_no_state(
    git_repo: Path, agent: Agent, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_loop_in_process(git_repo, {"max_iterations": 2}).exit_code == 2
    capsys.readouterr()
    state = git_repo / ".codex-self-iter"
    before = tree(state)
    calls = len(agent.calls())
    code, out = dry_run(git_repo, capsys, "--config", str(git_repo.parent / "loop-config.toml"))
    assert code == 0
    assert "next: iteration 3 · executor (goal: step 2)" in out
    assert "resuming from" in out and "(iteration 2 done)" in out
    assert "Iteration 3." in out and "step 2" in out.split("----- executor prompt -----", 1)[1]
    assert tree(state) == before
    assert len(agent.calls()) == calls


def test_corrupt_runtime_is_left_in_place(git_repo: Path, agent: Agent, capsys: pytest.CaptureFixture[str]) -> None:
    state = git_repo / ".codex-self-iter"
    state.mkdir()
    (state / "runtime.json").write_text("{torn")
    code, out = dry_run(git_repo, capsys)
    assert code == 0 and "runtime.json is unreadable" in out and "planner" in out
    assert [p.name for p in state.iterdir()] == ["runtime.json"]


def test_notes_for_stop_file_running_loop_and_backoff(
    git_repo: Path, agent: Agent, capsys: pytest.CaptureFixture[str]
) -> None:
    state = git_repo / ".codex-self-iter"
    state.mkdir()
    (state / "runtime.json").write_text(
        json.dumps({"iteration": 4, "goal": "g", "backoff_until": time.time() + 600, "backoff_reason": "no change"})
    )
    (git_repo / ".codex-stop").write_text("")
    private_file(state, "lock-holder.json").write_text(json.dumps({"pid": os.getpid(), "started_at": time.time()}))
    with FileLock(str(private_file(state, "loop.lock")), timeout=0):
        code, out = dry_run(git_repo, capsys)
    assert code == 0
    assert "a STOP sentinel" not in out and ".codex-stop is present" in out
    assert "a loop is running (pid" in out and "would first back off until" in out
    assert "next: iteration 5 · executor (goal: g)" in out


def test_codex_runner_argv_reads_the_prompt_from_stdin(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CODEX_BIN", str(git_repo / "no-codex"))
    assert main(["run", "--dry-run", "-w", str(git_repo)]) == 0
    out = capsys.readouterr().out
    argv = out.split("argv: ", 1)[1].splitlines()[0].split()
    assert argv[:2] == ["codex", "exec"] and "--json" in argv and argv[-1] == "-"
    assert argv[argv.index("-s") : argv.index("-s") + 2] == ["-s", "workspace-write"]
    assert argv[argv.index("features.goals=false") - 1] == "-c"  # Codex's own goal loop stays off
    assert "stdin: the prompt below" in out and "CODEX_BIN=" in out
    assert not (git_repo / ".codex-self-iter").exists()


def test_bad_input_and_conflicting_flags_are_one_line(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--dry-run", "--detach", "-w", str(git_repo)]) == 1
    assert "exclude each other" in capsys.readouterr().err
    (git_repo / "plan.md").unlink()
    code = main(["run", "--dry-run", "-w", str(git_repo), "--agent-command-template", "true {prompt_file}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "plan file not found" in err[0]
    assert not (git_repo / ".codex-self-iter").exists()


def test_a_cost_budget_the_agent_cannot_report_usage_for_refuses_to_start(
    git_repo: Path, agent: Agent, capsys: pytest.CaptureFixture[str]
) -> None:
    config = git_repo.parent / "budget.toml"
    config.write_text("max_cost_usd = 3\nchecks = []\n")
    args = ["-w", str(git_repo), "--agent-command-template", fake_template(), "--config", str(config)]
    for dry in ([], ["--dry-run"]):
        code = main(["run", *dry, *args])
        out, err = capsys.readouterr()
        assert code == 1 and out == "", out  # the config-error exit code, before anything runs
        assert err.strip().splitlines() == [
            f"codex-self-iter: error: {config}: max_cost_usd = 3 cannot be enforced: the template runner reports no "
            "model or token usage; unset max_cost_usd (max_iterations or max_wall_clock_sec bound such a run)"
        ]
    assert agent.calls() == [] and not (git_repo / ".codex-self-iter").exists()


def test_dry_run_of_a_new_worktree_run_previews_it_there_and_creates_nothing(
    git_repo: Path, agent: Agent, capsys: pytest.CaptureFixture[str]
) -> None:
    config = git_repo.parent / "loop-config.toml"  # the file run_loop_in_process writes for the real run below
    config.write_text("checks = []\nmax_iterations = 1\n")  # no baseline check results in the real prompt
    before = repo_snapshot(git_repo)
    code, out = dry_run(git_repo, capsys, "--worktree", "--config", str(config))
    assert code == 0, out
    planned = re.search(
        r"would create branch codex-self-iter/(\S+) from main \((\w+)\), check it out in (.+?) and keep", out
    )
    assert planned is not None, out
    run_id, start, tree = planned[1], planned[2], Path(planned[3])
    runs = git_repo / ".git" / "codex-self-iter"
    assert run_id.startswith("make-hello-txt-say-hello-") and git(git_repo, "rev-parse", "HEAD").startswith(start)
    assert tree == runs / "worktrees" / run_id
    assert f"keep its state in {runs / 'state' / run_id}; nothing is created now" in out
    assert f"  workspace: {tree} (the agent and the checks run here)" in out
    argv = shlex.split(out.split("argv: ", 1)[1].splitlines()[0])
    assert argv[-3:] == [str(runs / "state" / run_id / "prompts" / "00001-planner.md"), str(tree), "planner"]
    # Nothing exists yet: no branch, no worktree, no state dir, the user's files, index and refs untouched.
    assert git(git_repo, "branch", "--list", "--format=%(refname:short)").split() == ["main"]
    assert git(git_repo, "worktree", "list", "--porcelain").count("worktree ") == 1  # the user's own only
    assert not runs.exists() and not (git_repo / ".codex-self-iter").exists()
    assert repo_snapshot(git_repo) == before and agent.calls() == []

    # The real run creates what the preview named (a later second on the clock) and sends the previewed prompt.
    run = run_loop_in_process(git_repo, {"max_iterations": 1}, worktree=IsolationRequest())
    assert run.worktree is not None and run.worktree.id.startswith("make-hello-txt-say-hello-")
    shown = out.split("----- planner prompt -----\n", 1)[1].split("\n----- end of prompt -----", 1)[0]
    sent = agent.calls("planner")[0]
    assert sent["cwd"] == run.worktree.worktree and shown.replace(run_id, run.worktree.id) == sent["prompt"].rstrip()
    code, again = dry_run(git_repo, capsys, "--worktree", "--config", str(config))
    assert code == 0 and f"  worktree: continuing run {run.worktree.id} on branch {run.worktree.branch}" in again


def test_dry_run_of_a_worktree_run_refuses_a_dirty_tree_as_the_run_would(
    git_repo: Path, agent: Agent, capsys: pytest.CaptureFixture[str]
) -> None:
    (git_repo / "TASK.md").write_text("# Task\nMake hello.txt say hello, loudly.\n")
    code = main(["run", "--dry-run", "--worktree", "-w", str(git_repo), "--agent-command-template", fake_template()])
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        code == 1
        and len(err) == 1
        and "1 uncommitted change(s) (TASK.md)" in err[0]
        and "--include-uncommitted" in err[0]
    )
    code, out = dry_run(git_repo, capsys, "--worktree", "--include-uncommitted")
    assert code == 0 and "with your uncommitted changes carried over" in out and "loudly" in out
    assert not (git_repo / ".git" / "codex-self-iter").exists()
