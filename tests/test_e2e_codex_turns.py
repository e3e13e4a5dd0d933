"""Codex calls that cannot stall the loop, with the real codex binary and the fake model server.

A finished turn whose process lingers is taken within the grace; a model that never answers is a named stall,
and the same stall twice stops the run; Codex's own goals stay out of resumed threads; a usage limit stated to
the minute is waited out to the minute's end.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.codex_home import write_codex_home
from tests.support.e2e_loop import CodexLoop, agent_calls
from tests.support.e2e_processes import ProcessWatcher

pytestmark = pytest.mark.codex

PLAN = {"next_goal": "write hello.txt saying hello", "summary": "one file to write", "stop": False}
DONE = {"status": "complete", "summary": "wrote hello.txt", "next_goal": "", "evidence": ["hello.txt says hello"]}
APPROVE = {"verdict": "approve", "reasons": ["hello.txt says hello"], "next_goal": "", "no_change_needed": False}
LINGER = """#!/bin/sh
# The real codex, then a process that does not exit: what users of `codex exec` see when it hangs after its turn.
"$REAL_CODEX" "$@"
code=$?
case "$*" in *--json*) sleep 600 ;; esac
exit $code
"""


def answer(block: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"message_json": block}]


@pytest.mark.timeout(120)
def test_a_turn_whose_codex_lingers_is_taken_within_the_grace(
    loop: CodexLoop, codex_bin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrapper = tmp_path / "lingering-codex"
    wrapper.write_text(LINGER)
    wrapper.chmod(0o755)
    monkeypatch.setenv("REAL_CODEX", codex_bin)
    monkeypatch.setenv("CODEX_BIN", str(wrapper))
    loop.server.add_turns(answer(PLAN), [{"shell": "echo hello > hello.txt"}], answer(DONE), answer(APPROVE))
    started = time.monotonic()
    with ProcessWatcher(str(loop.workspace)) as watcher:
        run = loop.run({"codex": {"turn_grace_sec": 1}, "command_timeout_sec": 60})
    took = time.monotonic() - started

    assert run.exit_code == 0, run.output
    calls = agent_calls(run)
    assert [(c["role"], c["failure"], c["timed_out"]) for c in calls] == [
        ("planner", None, False),
        ("executor", None, False),
        ("reviewer", None, False),
    ]
    assert all(c["duration_sec"] < 15 for c in calls), calls  # each taken ~1 s after its turn, never 60 s
    assert took < 60
    assert watcher.survivors() == {}, watcher.seen  # the lingering `sleep 600` ended with its call
    print(f"lingering codex: {len(calls)} calls in {took:.1f}s, per call {[c['duration_sec'] for c in calls]}")


def _retrying_codex_home(url: str) -> None:
    home = write_codex_home(Path(os.environ["CODEX_HOME"]), url)
    config = home / "config.toml"
    config.write_text(config.read_text().replace("stream_max_retries = 0", "stream_max_retries = 3"))


@pytest.mark.timeout(120)
def test_a_model_that_never_answers_is_a_named_stall_and_twice_stops_the_run(
    loop: CodexLoop, capsys: pytest.CaptureFixture[str]
) -> None:
    _retrying_codex_home(loop.server.url)
    broken = [{"failed": "upstream connect error"}]
    silent = [{"stall": {"seconds": 110}}]
    loop.server.add_turns(broken, silent, broken, silent)
    started = time.monotonic()
    # 8 s of silence is a stall; a loaded machine can keep codex quiet for a few seconds before it says anything.
    with ProcessWatcher(str(loop.workspace)) as watcher:
        run = loop.run({"codex": {"stall_timeout_sec": 8}, "command_timeout_sec": 100, "backoff_base_sec": 1})
    took = time.monotonic() - started

    assert run.status["stop_reason"] == "agent_setup", run.output
    calls = agent_calls(run)
    assert len(calls) == 2 and all("codex stalled: no event for 8s" in c["error"] for c in calls), calls
    said = "Reconnecting... 1/3 (stream disconnected before completion: upstream connect error)"
    assert all(said in c["error"] for c in calls), calls
    assert "the same stall twice in a row" in calls[1]["error"]
    assert f"codex says: {said}" in capsys.readouterr().err  # shown verbatim as it arrived
    # Each call ended by its stall, long before its 100 s timeout (both timeouts would take over 200 s).
    assert all(not c["timed_out"] and 8 <= c["duration_sec"] < 50 for c in calls), calls
    assert watcher.survivors() == {}, watcher.seen
    print(f"never-answering server: {len(calls)} calls, stopped after {took:.1f}s")


@pytest.mark.timeout(120)
def test_codex_goals_stay_out_of_a_resumed_executor_thread(loop: CodexLoop) -> None:
    create_goal = {"name": "create_goal", "arguments": {"objective": "write hello.txt"}}
    more = {"status": "continue", "summary": "set a goal", "next_goal": "finish hello.txt", "evidence": []}
    loop.server.add_turns(
        answer(PLAN),
        [{"function_call": create_goal}],
        answer(more),
        [{"shell": "echo hello > hello.txt"}],
        answer(DONE),
        answer(APPROVE),
    )
    run = loop.run({"codex": {"resume": ["executor"]}})

    assert run.exit_code == 0, run.output
    requests = loop.requests()
    tools = [{tool.get("name") for tool in r.body.get("tools", [])} for r in requests]
    assert all(not {"create_goal", "update_goal", "get_goal"} & names for names in tools), tools
    resumed = [r for r in requests if "echo hello" in json.dumps(r.body) or "finish hello.txt" in json.dumps(r.body)]
    second_turn = resumed[0]
    assert "codex_internal_context" not in json.dumps(second_turn.body["input"])
    assert json.loads(second_turn.headers["x-codex-turn-metadata"])["turn_trigger"] == "exec"
    argv_files = sorted((run.state_dir / "runs").glob("*/executor/codex_call.json"))
    modes = [json.loads(p.read_text()) for p in argv_files]
    assert [m["mode"] for m in modes] == ["fresh", "resume"]
    assert all("features.goals=false" in m["argv"] for m in modes)


@pytest.mark.timeout(120)
def test_a_usage_limit_lifting_mid_minute_gets_at_most_one_call_before_it_lifts(loop: CodexLoop) -> None:
    minute = (int(loop.time.now) // 60 + 2) * 60
    lifts = minute + 30  # codex will say "try again at <minute>": the limit really lifts 30 s later
    loop.server.limit_until(lifts, loop.time.clock)
    loop.server.add_turns(answer(PLAN), [{"shell": "echo hello > hello.txt"}], answer(DONE), answer(APPROVE))
    run = loop.run({"usage_limit_max_wait_sec": 3600})

    assert run.exit_code == 0, run.output
    assert loop.server.limited_answers == 1
    limited = [c for c in agent_calls(run) if c["failure"] == "usage_limit"]
    assert len(limited) == 1 and "try again at" in limited[0]["error"].lower()
    waits = [r["seconds"] for r in run.journal() if r.get("kind") == "backoff"]
    assert len(waits) == 1 and loop.time.now >= lifts
    print(f"usage limit mid-minute: 1 limited call, waited {waits[0]:.0f}s on the loop's clock")
