"""Worktree runs as real processes: kill -9 in the middle then `run` again, and two runs at once on one repo."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import git
from tests.support.faults import pid_alive, wait_for
from tests.support.loop_harness import control, fake_template, private_file
from tests.support.repo_snapshot import repo_snapshot

PLAN = {"control": {"next_goal": "write the files", "summary": "plan"}}
APPROVE = {"control": {"verdict": "approve", "reasons": ["all there"], "next_goal": ""}}
CONFIG = "checks = []\nmax_stagnation = 100\nbackoff_base_sec = 0\nno_change_backoff_sec = 0\nheartbeat_sec = 3600\n"


def start_loop(repo: Path, tmp: Path, name: str, script: dict[str, Any], *extra: str) -> subprocess.Popen[bytes]:
    """`run --worktree` as its own process, with its own fake-agent script."""
    path = tmp / f"{name}-script.json"
    path.write_text(json.dumps(script))
    (tmp / f"{name}.toml").write_text(CONFIG)
    env = {**os.environ, "FAKE_AGENT_SCRIPT": str(path)}
    argv = [sys.executable, "-m", "codex_self_iter", "run", "--worktree", "-w", str(repo)]
    argv += ["--config", str(tmp / f"{name}.toml"), "--agent-command-template", fake_template(), *extra]
    out = open(tmp / f"{name}.out", "ab")  # noqa: SIM115 - handed to the child
    with out:
        return subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def state_dirs(repo: Path) -> list[Path]:
    root = repo / ".git" / "codex-self-iter" / "state"
    return sorted(root.iterdir()) if root.is_dir() else []


def record(state_dir: Path) -> dict[str, Any]:
    return json.loads((state_dir / "worktree.json").read_text())


@pytest.mark.timeout(120)
def test_kill_9_mid_run_then_run_again_continues_in_the_same_worktree_and_branch(
    git_repo: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "in-call-2"
    script = {
        "planner": [[PLAN]],
        "executor": [
            [{"write": "a.txt", "content": "a"}, {"control": control("continue", "write b.txt")}],
            [{"write": "b.txt", "content": "b"}, {"touch": str(marker)}, {"sleep": 60},
             {"control": control("continue", "never reached")}],
            [{"write": "c.txt", "content": "c"}, {"control": control("complete", summary="a, b and c are there")}],
        ],
        "reviewer": [[APPROVE]],
    }  # fmt: skip
    before = repo_snapshot(git_repo)
    loop = start_loop(git_repo, tmp_path, "first", script)
    try:
        assert wait_for(marker.exists, 60), (tmp_path / "first.out").read_text()
        loop.send_signal(signal.SIGKILL)
        assert loop.wait(10) == -signal.SIGKILL
    finally:
        if loop.poll() is None:
            loop.kill()
            loop.wait()
    [state] = state_dirs(git_repo)
    run = record(state)
    agent = json.loads(private_file(state, "agent.json").read_text())  # the killed loop's agent
    tree = Path(run["worktree"])
    assert (tree / "b.txt").read_text() == "b"  # the interrupted turn's edit, not committed yet
    assert git(tree, "log", "--format=%s", f"{run['base']}..{run['branch']}") == "iteration 1: write the files\n"

    again = start_loop(git_repo, tmp_path, "first", script)  # same script: its call counters go on
    assert again.wait(60) == 0, (tmp_path / "first.out").read_text()
    assert state_dirs(git_repo) == [state]  # no second run
    assert not pid_alive(int(agent["pid"]))
    messages = git(tree, "log", "--format=%s%x00", f"{run['base']}..{run['branch']}").split("\0")
    assert [m.strip() for m in messages if m.strip()] == ["iteration 2: write b.txt", "iteration 1: write the files"]
    for name in "abc":
        assert git(tree, "show", f"{run['branch']}:{name}.txt") == name  # nothing lost
    status = json.loads((state / "status.json").read_text())
    assert (status["state"], status["iteration"]) == ("complete", 2)
    assert "did not exit cleanly; resuming" in (tmp_path / "first.out").read_text()
    assert repo_snapshot(git_repo) == before


@pytest.mark.timeout(120)
def test_two_worktree_runs_at_once_on_one_repository_do_not_interfere(git_repo: Path, tmp_path: Path) -> None:
    def script(letter: str) -> dict[str, Any]:
        step = [{"append": "work.txt", "content": f"{letter}{{call}}\n"}, {"sleep": 0.3},
                {"control": control("continue", f"{letter} step {{call}}")}]  # fmt: skip
        return {"planner": [[PLAN]], "executor": [step]}

    before = repo_snapshot(git_repo)
    loops = [start_loop(git_repo, tmp_path, name, script(name), "--max-iterations", "4") for name in ("A", "B")]
    try:
        codes = [loop.wait(90) for loop in loops]
    finally:
        for loop in loops:
            if loop.poll() is None:
                loop.kill()
                loop.wait()
    assert codes == [2, 2], [(tmp_path / f"{n}.out").read_text() for n in "AB"]
    dirs = state_dirs(git_repo)
    assert len(dirs) == 2
    runs = [record(d) for d in dirs]
    assert len({r["branch"] for r in runs}) == 2 and len({r["worktree"] for r in runs}) == 2
    spans = []
    for state, run in zip(dirs, runs, strict=True):
        work = Path(run["worktree"]) / "work.txt"
        letters = {line[0] for line in work.read_text().splitlines()}
        assert len(letters) == 1 and len(work.read_text().splitlines()) == 4  # only its own agent's work
        assert len(git(git_repo, "log", "--format=%H", f"{run['base']}..{run['branch']}").split()) == 4
        journal = [json.loads(line) for line in (state / "logs" / "iterations.jsonl").read_text().splitlines()]
        calls = [r["ts"] for r in journal if r["event"] == "agent_call"]
        spans.append((min(calls), max(calls)))
        assert json.loads((state / "status.json").read_text())["stop_reason"] == "max_iterations"
    assert spans[0][0] < spans[1][1] and spans[1][0] < spans[0][1]  # they really ran at the same time
    assert repo_snapshot(git_repo) == before
