"""status, stop --now, history --follow and run --detach against a loop that is really running."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from codex_self_iter.cli import main
from tests.support.background_loop import BackgroundLoop, cli, pid_alive, start_loop, wait_for
from tests.support.loop_harness import Agent, control, fake_template

PLAN = {"control": {"next_goal": "write hello.txt", "summary": "one step"}}


@pytest.fixture
def agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Agent:
    return Agent(tmp_path, monkeypatch).on("planner", [PLAN])


@pytest.mark.timeout(90)
def test_status_and_stop_now_end_a_running_loop_and_its_agent_with_exit_5(
    git_repo: Path, tmp_path: Path, agent: Agent, loops: list[BackgroundLoop], capsys: pytest.CaptureFixture[str]
) -> None:
    child_pidfile = tmp_path / "child.pid"
    agent.on("executor", [{"spawn": {"sleep": 120, "pidfile": str(child_pidfile)}}, {"sleep": 120}])
    loop = start_loop(git_repo, tmp_path, "--max-iterations", "5")
    loops.append(loop)
    running = loop.wait_running("executor")
    agent_pid = running["agent_pid"]
    wait_for(child_pidfile.exists, what="the agent's child")
    child = int(child_pidfile.read_text())

    assert main(["status", "-w", str(git_repo), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["state"] == "running" and report["running"] is True and report["lock_held"] is True
    assert report["pid"] == loop.proc.pid
    assert report["call"]["role"] == "executor" and report["call"]["agent_pid"] == agent_pid
    assert report["goal"] == "write hello.txt"
    assert main(["status", "-w", str(git_repo)]) == 0
    assert f"running (pid {loop.proc.pid}) · iteration 1/5: executor running for " in capsys.readouterr().out

    started = time.monotonic()
    assert main(["stop", "--now", "-w", str(git_repo), "--reason", "time to go"]) == 0
    assert loop.proc.wait(timeout=15) == 5
    assert time.monotonic() - started < 10
    out = capsys.readouterr().out
    assert "sent SIGTERM" in out and "stopped: signal (exit 5)" in out
    wait_for(lambda: not pid_alive(agent_pid) and not pid_alive(child), timeout=10, what="the agent group to end")

    final = json.loads((loop.state_dir / "status.json").read_text())
    assert final["state"] == "stopped" and final["stop_reason"] == "signal" and final["exit_code"] == 5
    assert final["stop_detail"] == "stopped by SIGTERM (time to go)"
    assert json.loads((loop.state_dir / "STOP").read_text())["reason"] == "time to go"
    assert main(["status", "-w", str(git_repo), "--json"]) == 0
    after = json.loads(capsys.readouterr().out)
    assert after["state"] == "stopped" and after["running"] is False and after["stop_requested"] == "time to go"


@pytest.mark.timeout(90)
def test_stop_without_now_lets_the_current_call_finish_then_exits_5(
    git_repo: Path, tmp_path: Path, agent: Agent, loops: list[BackgroundLoop], capsys: pytest.CaptureFixture[str]
) -> None:
    agent.on("executor", [{"sleep": 1.5}, {"append": "x", "content": "{call}"}, {"control": control("continue", "go")}])
    loop = start_loop(git_repo, tmp_path, "--max-iterations", "50")
    loops.append(loop)
    loop.wait_running("executor")
    assert main(["stop", "-w", str(git_repo)]) == 0
    assert "stops before its next agent call" in capsys.readouterr().out
    assert loop.proc.wait(timeout=30) == 5
    assert len(agent.calls("executor")) == 1
    assert json.loads((loop.state_dir / "status.json").read_text())["stop_reason"] == "stop_file"


@pytest.mark.timeout(90)
def test_status_and_stop_as_subprocesses(
    git_repo: Path, tmp_path: Path, agent: Agent, loops: list[BackgroundLoop]
) -> None:
    agent.on("executor", [{"sleep": 120}])
    loop = start_loop(git_repo, tmp_path)
    loops.append(loop)
    loop.wait_running("executor")
    shown = cli("status", "-w", str(git_repo))
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"codex-self-iter: running (pid {loop.proc.pid})")
    stopped = cli("stop", "--now", "-w", str(git_repo))
    assert stopped.returncode == 0, stopped.stderr
    assert loop.proc.wait(timeout=15) == 5


@pytest.mark.timeout(90)
def test_history_follow_prints_new_rows_and_ends_with_the_loop(
    git_repo: Path, tmp_path: Path, agent: Agent, loops: list[BackgroundLoop], capsys: pytest.CaptureFixture[str]
) -> None:
    agent.on("executor", [{"sleep": 0.5}, {"append": "x", "content": "{call}"}, {"control": control("continue", "s")}])
    loop = start_loop(git_repo, tmp_path, "--max-iterations", "4")
    loops.append(loop)
    loop.wait_running("executor")
    assert main(["history", "--follow", "-w", str(git_repo)]) == 0
    assert loop.proc.wait(timeout=15) == 2
    out = capsys.readouterr().out
    assert out.count(" executor ") == 4
    assert "max_iterations (exit 2)" in out.splitlines()[-1]


@pytest.mark.timeout(90)
def test_detach_returns_at_once_and_the_loop_outlives_the_parent(git_repo: Path, tmp_path: Path, agent: Agent) -> None:
    agent.on("executor", [{"sleep": 120}])
    config = tmp_path / "c.toml"
    config.write_text("checks = []\n")
    template = fake_template()
    started = cli("run", "-w", str(git_repo), "--config", str(config), "--agent-command-template", template, "--detach")
    assert started.returncode == 0, started.stderr
    pid = int(started.stdout.split("pid ", 1)[1].split(",", 1)[0])
    state = git_repo / ".codex-self-iter"
    try:
        assert str(state / "logs" / "loop.log") in started.stdout
        assert pid_alive(pid)  # its parent (the cli above) has exited already
        wait_for(lambda: json.loads((state / "status.json").read_text()).get("role") == "executor", what="executor")
        assert "#1 executor started" in (state / "logs" / "loop.log").read_text()
        stopped = cli("stop", "--now", "-w", str(git_repo))
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        wait_for(lambda: not pid_alive(pid), timeout=15, what="the detached loop to end")
        assert json.loads((state / "status.json").read_text())["exit_code"] == 5
        assert "stopped: signal (exit 5)" in (state / "logs" / "loop.log").read_text()
    finally:
        agent_pid = json.loads((state / "status.json").read_text()).get("agent_pid")
        for leftover in (pid, agent_pid):
            if isinstance(leftover, int) and pid_alive(leftover):
                os.kill(leftover, signal.SIGKILL)
