"""The live line and `status`: iteration k/N, the plan's checklist progress, tokens and cost so far."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codex_self_iter.cli import main
from tests.support.background_loop import BackgroundLoop, start_loop
from tests.support.loop_harness import Agent, control, run_loop_in_process

PLAN = {"control": {"next_goal": "write hello.txt", "summary": "one step"}}
SLOW = [{"sleep": 1.5}, {"append": "x", "content": "{call}"}, {"control": control("continue", "step {call}")}]
CHECKLIST = "# Plan\n\n- [x] read the task\n- [ ] write hello.txt\n* [X] nothing else\n1. [ ] commit\nno - [x] step\n"


@pytest.fixture
def agent(git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Agent:
    (git_repo / "plan.md").write_text(CHECKLIST)
    return Agent(tmp_path, monkeypatch).on("planner", [PLAN]).on("executor", SLOW)


def test_heartbeats_and_status_show_the_budget_and_the_plan(
    git_repo: Path, agent: Agent, capsys: pytest.CaptureFixture[str]
) -> None:
    run = run_loop_in_process(git_repo, {"max_iterations": 2, "heartbeat_sec": 0.5})
    assert run.exit_code == 2
    beats = [line for line in capsys.readouterr().err.splitlines() if " executor running " in line]
    assert any(" · iteration 1/2 · plan 2/4 steps" in line for line in beats), beats
    assert any(" · iteration 2/2 · plan 2/4 steps" in line for line in beats), beats
    assert not any("tokens" in line or "$" in line for line in beats)  # a command template reports no usage
    assert main(["status", "-w", str(git_repo), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["last_iteration"], report["plan"]) == (2, {"done": 2, "total": 4})
    assert (report["tokens"], report["cost_usd"], report["model"]) == (0, None, None)
    assert main(["status", "-w", str(git_repo)]) == 0
    out = capsys.readouterr().out
    assert "  plan: 2/4 steps checked off" in out and "cost:" not in out


@pytest.mark.timeout(90)
def test_status_of_a_running_loop_says_iteration_k_of_n_as_a_subprocess(
    git_repo: Path, tmp_path: Path, agent: Agent, loops: list[BackgroundLoop], capsys: pytest.CaptureFixture[str]
) -> None:
    agent.on("executor", [{"sleep": 60}])
    loop = start_loop(git_repo, tmp_path, "--max-iterations", "7")
    loops.append(loop)
    loop.wait_running("executor")
    assert main(["status", "-w", str(git_repo)]) == 0
    out = capsys.readouterr().out
    assert f"running (pid {loop.proc.pid}) · iteration 1/7: executor running for " in out
    assert "  plan: 2/4 steps checked off" in out
