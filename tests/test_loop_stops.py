"""Stopping: STOP sentinels, the lock, timeouts that kill the agent's children, and bad input."""

from __future__ import annotations

import json
import os
import shlex
import time
from pathlib import Path

import pytest
from filelock import FileLock

from codex_self_iter.loop.launch import RunFlags
from tests.support.loop_harness import Agent, FakeTime, control, private_file, run_loop_in_process

PLAN = {"control": {"next_goal": "write hello.txt", "summary": "one step"}}


@pytest.fixture
def agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Agent:
    return Agent(tmp_path, monkeypatch).on("planner", [PLAN])


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("sentinel", [".codex-stop", ".codex-self-iter/STOP"])
def test_stop_file_created_during_a_call_stops_before_the_next_with_exit_5(
    git_repo: Path, agent: Agent, sentinel: str
) -> None:
    agent.on(
        "executor",
        [{"append": "x", "content": "{call}"}, {"touch": sentinel}, {"control": control("continue", "more")}],
    )
    run = run_loop_in_process(git_repo, {"max_iterations": 10})
    assert run.exit_code == 5
    assert run.status["stop_reason"] == "stop_file"
    assert len(agent.calls("executor")) == 1


def test_stop_file_is_noticed_during_a_backoff_sleep(git_repo: Path, agent: Agent) -> None:
    agent.on("executor", [{"exit": 1}])
    clock = FakeTime()
    stop = git_repo / ".codex-stop"

    def sleep(seconds: float) -> None:
        clock.sleeps.append(seconds)
        clock.now += seconds
        if sum(clock.sleeps) >= 0.3:
            stop.touch()

    clock.sleep = sleep  # type: ignore[method-assign]
    run = run_loop_in_process(git_repo, {"backoff_base_sec": 100, "backoff_jitter": 0}, clock)
    assert run.exit_code == 5
    assert sum(clock.sleeps) < 1.0  # reacted within the first slices of a 100 s backoff


def test_existing_stop_file_refuses_to_start_unless_cleared(git_repo: Path, agent: Agent) -> None:
    agent.on("executor", [{"append": "x", "content": "{call}"}, {"control": control("continue", "more")}])
    (git_repo / ".codex-stop").touch()
    with pytest.raises(Exception, match="--clear-stop"):
        run_loop_in_process(git_repo, {"max_iterations": 1})
    run = run_loop_in_process(git_repo, {"max_iterations": 1}, flags=RunFlags(clear_stop=True))
    assert run.exit_code == 2
    assert not (git_repo / ".codex-stop").exists()


def test_second_loop_exits_4_naming_the_holder(git_repo: Path, agent: Agent) -> None:
    from codex_self_iter.cli import main

    state = git_repo / ".codex-self-iter"
    state.mkdir()
    private_file(state, "lock-holder.json").write_text(json.dumps({"pid": 4242, "started_at": time.time()}))
    with FileLock(str(private_file(state, "loop.lock")), timeout=0):
        code = main(["--workspace", str(git_repo), "--agent-command-template", "true {prompt_file}"])
    assert code == 4
    holder = json.loads(private_file(state, "lock-holder.json").read_text())
    assert holder["pid"] == 4242  # the holder's record is untouched


def test_timeout_kills_the_agent_and_its_child(git_repo: Path, agent: Agent, tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    agent.on("executor", [{"spawn": {"sleep": 60, "pidfile": str(pidfile)}}, {"sleep": 60}])
    started = time.monotonic()
    run = run_loop_in_process(git_repo, {"command_timeout_sec": 1.5, "max_agent_failures": 1})
    assert time.monotonic() - started < 30
    assert run.exit_code == 3
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while pid_alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(child)
    call = next(e for e in run.journal() if e.get("role") == "executor")
    assert call["timed_out"] is True


def test_non_git_workspace_works_and_detects_no_change(tmp_path: Path, agent: Agent) -> None:
    work = tmp_path / "plain dir"
    work.mkdir()
    (work / "plan.md").write_text("- [ ] hello\n")
    agent.on("executor", [{"control": control("continue", "look around {call}")}])
    run = run_loop_in_process(work, {"max_no_change": 2, "backoff_jitter": 0})
    assert run.exit_code == 2
    assert run.status["stop_reason"] == "no_change"


SHELL_AGENT = r"""
n=$(cat "$COUNTER" 2>/dev/null || echo 0); n=$((n+1)); echo "$n" > "$COUNTER"; echo "$n" >> x.txt
if [ "$n" = 1 ]; then printf '{"next_goal": "start", "summary": "plan"}'; exit 0; fi
long=$(printf '%0900d' 0)
printf '{"status": "continue", "summary": "%s", "next_goal": "step %s %s", "evidence": []}' "$long" "$n" "$long"
"""


@pytest.mark.timeout(300)
def test_prompt_size_is_bounded_after_500_iterations(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COUNTER", str(tmp_path / "counter"))
    template = "/bin/sh -c " + shlex.quote(SHELL_AGENT) + " {prompt_file}"
    run = run_loop_in_process(
        git_repo, {"max_iterations": 500, "max_stagnation": 1000, "keep_runs": 0}, template=template
    )
    assert run.exit_code == 2, run.output
    assert run.status["stop_reason"] == "max_iterations"
    prompts = sorted((run.state_dir / "prompts").glob("*-executor.md"))
    sizes = {int(p.name[:5]): p.stat().st_size for p in prompts}
    assert len(sizes) == 500
    assert sizes[500] <= sizes[10] * 1.05
    assert sizes[500] < 20_000


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda ws, cfg: (ws / "plan.md").unlink(), "plan file not found"),
        (lambda ws, cfg: cfg.write_text("max_iterations = [oops\n"), "invalid TOML"),
        (lambda ws, cfg: cfg.write_text("max_iteratons = 3\n"), "max_iteratons: unknown key"),
        (lambda ws, cfg: cfg.write_text('max_iterations = "many"\n'), "max_iterations:"),
        (lambda ws, cfg: cfg.write_text('agent_command_template = "agent --in {workspace}"\n'), "{prompt_file}"),
        (lambda ws, cfg: cfg.write_text('agent_command_template = "no-such-agent-xyz {prompt_file}"\n'), "not found"),
        (lambda ws, cfg: (ws / "TASK.md").write_bytes(b"\xff\xfe bad"), "not UTF-8"),
    ],
)
def test_bad_input_is_one_line_exit_1_and_state_untouched(
    git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], setup: object, message: str
) -> None:
    from codex_self_iter.cli import main

    state = git_repo / ".codex-self-iter"
    state.mkdir()
    (state / "runtime.json").write_text('{"iteration": 7, "goal": "keep me"}')
    config = tmp_path / "c.toml"
    config.write_text("")
    setup(git_repo, config)  # type: ignore[operator]
    code = main(["--workspace", str(git_repo), "--config", str(config)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1 and message in err[0], err
    assert "Traceback" not in err[0]
    assert json.loads((state / "runtime.json").read_text()) == {"iteration": 7, "goal": "keep me"}


def test_workspace_that_is_a_file_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from codex_self_iter.cli import main

    afile = tmp_path / "file"
    afile.write_text("x")
    assert main(["--workspace", str(afile)]) == 1
    assert "not a directory" in capsys.readouterr().err
