"""Lifecycle hooks through the real loop: the environment each hook sees, and failing hooks never stop the loop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codex_self_iter.cli import main
from tests.support.loop_harness import Agent, control, fake_template, run_loop_in_process

PLAN = {"control": {"next_goal": "write hello.txt", "summary": "one step"}}
APPROVE = {"control": {"verdict": "approve", "reasons": ["fine"], "next_goal": ""}}
RECORD = (
    "import json, os, sys; open(sys.argv[1], 'a').write(json.dumps("
    "{k: v for k, v in os.environ.items() if k.startswith('CODEX_SELF_ITER_')}) + '\\n')"
)


def recorder(path: Path) -> list[str]:
    """A hook that appends the CODEX_SELF_ITER_* variables it got to path, one JSON line per run."""
    return [sys.executable, "-c", RECORD, str(path)]


def calls(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_each_hook_gets_the_outcome_in_its_environment(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = Agent(tmp_path, monkeypatch).on("planner", [PLAN]).on("reviewer", [APPROVE])
    agent.on(
        "executor",
        [{"write": "hello.txt", "content": "hel"}, {"control": control("continue", "finish hello.txt")}],
        [{"write": "hello.txt", "content": "hello"}, {"control": control("complete", summary="done")}],
    )
    logs = {name: tmp_path / f"{name}.jsonl" for name in ("on_iteration", "on_complete", "on_stop")}
    hooks = {name: recorder(path) for name, path in logs.items()}
    run = run_loop_in_process(git_repo, {"hooks": hooks, "max_iterations": 5})
    assert run.exit_code == 0, run.output

    iterations = calls(logs["on_iteration"])
    assert [c["CODEX_SELF_ITER_ITERATION"] for c in iterations] == ["1", "2"]
    assert iterations[0]["CODEX_SELF_ITER_EVENT"] == "on_iteration" and iterations[0]["CODEX_SELF_ITER_REASON"] == ""
    assert iterations[0]["CODEX_SELF_ITER_GOAL"] == "finish hello.txt"
    (complete,) = calls(logs["on_complete"])
    (stop,) = calls(logs["on_stop"])
    for seen, event in ((complete, "on_complete"), (stop, "on_stop")):
        assert seen["CODEX_SELF_ITER_EVENT"] == event
        assert (seen["CODEX_SELF_ITER_REASON"], seen["CODEX_SELF_ITER_EXIT_CODE"]) == ("complete", "0")
        assert (
            seen["CODEX_SELF_ITER_DETAIL"] == "checks pass (reviewer off)"
            or "approved" in seen["CODEX_SELF_ITER_DETAIL"]
        )
        assert seen["CODEX_SELF_ITER_ITERATION"] == "2" and seen["CODEX_SELF_ITER_BRANCH"] == "main"
        assert seen["CODEX_SELF_ITER_TOKENS"] == "0" and seen["CODEX_SELF_ITER_COST_USD"] == ""  # no usage reported
        assert seen["CODEX_SELF_ITER_WORKSPACE"] == str(git_repo)
        assert seen["CODEX_SELF_ITER_STATE_DIR"] == str(run.state_dir)
    hook_lines = [e for e in run.journal() if e.get("event") == "hook"]
    assert [(e["hook"], e["exit_code"]) for e in hook_lines] == [
        ("on_iteration", 0),
        ("on_iteration", 0),
        ("on_complete", 0),
        ("on_stop", 0),
    ]


def test_failing_slow_and_missing_hooks_are_warnings_and_the_loop_goes_on(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = Agent(tmp_path, monkeypatch).on("planner", [PLAN])
    agent.on("executor", [{"append": "x", "content": "{call}"}, {"control": control("continue", "step {call}")}])
    hooks = {
        "on_iteration": [sys.executable, "-c", "import sys; print('boom', file=sys.stderr); sys.exit(3)"],
        "on_stop": [str(tmp_path / "no-such-notifier")],
        "timeout_sec": 5,
    }
    run = run_loop_in_process(git_repo, {"hooks": hooks, "max_iterations": 3})
    assert run.exit_code == 2 and run.status["stop_reason"] == "max_iterations" and run.status["iteration"] == 3
    err = capsys.readouterr().err
    assert err.count("warning: hook on_iteration failed (exit 3); its output: ") == 3
    assert "warning: hook on_stop failed (" in err and "the loop goes on" in err
    log = run.state_dir / "runs" / "00001" / "hooks" / "on_iteration-stderr.log"
    assert log.read_text() == "boom\n"
    records = [e for e in run.journal() if e.get("event") == "hook"]
    assert [e["exit_code"] for e in records if e["hook"] == "on_iteration"] == [3, 3, 3]
    assert [e["error"] is not None for e in records if e["hook"] == "on_stop"] == [True]


@pytest.mark.timeout(60)
def test_a_hook_past_its_timeout_is_ended_and_the_loop_goes_on(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = Agent(tmp_path, monkeypatch).on("planner", [PLAN])
    agent.on("executor", [{"append": "x", "content": "{call}"}, {"control": control("continue", "step {call}")}])
    hooks = {"on_iteration": ["sleep", "30"], "timeout_sec": 0.5}
    run = run_loop_in_process(git_repo, {"hooks": hooks, "max_iterations": 2})
    assert run.exit_code == 2 and run.status["iteration"] == 2
    assert capsys.readouterr().err.count("hook on_iteration failed (timed out after 0.5s)") == 2


def test_a_bad_hook_in_the_config_is_one_line(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (git_repo / "codex-self-iter.toml").write_text('[hooks]\non_stop = ["", "x"]\n')
    assert main(["run", "-w", str(git_repo), "--dry-run"]) == 1
    assert "hooks.on_stop: Value error, the first item must name the program" in capsys.readouterr().err


def test_on_stop_as_a_subprocess(git_repo: Path, tmp_path: Path) -> None:
    script = tmp_path / "agent-script.json"
    executor = [[{"append": "x", "content": "{call}"}, {"control": control("continue", "step {call}")}]]
    script.write_text(json.dumps({"planner": [[PLAN]], "executor": executor}))
    seen = tmp_path / "stop.jsonl"
    config = tmp_path / "hooks.toml"
    config.write_text("checks = []\nmax_iterations = 2\n[hooks]\non_stop = " + json.dumps(recorder(seen)) + "\n")
    argv = ["run", "-w", str(git_repo), "--config", str(config), "--agent-command-template", fake_template()]
    done = subprocess.run(
        [sys.executable, "-m", "codex_self_iter", *argv],
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, "FAKE_AGENT_SCRIPT": str(script)},
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2, done.stderr
    (stop,) = calls(seen)
    assert (stop["CODEX_SELF_ITER_REASON"], stop["CODEX_SELF_ITER_EXIT_CODE"]) == ("max_iterations", "2")
    assert stop["CODEX_SELF_ITER_DETAIL"] == "2 of max_iterations=2 done"
