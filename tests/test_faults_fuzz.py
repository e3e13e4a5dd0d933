"""Fuzzed control blocks and agent output, and corrupt state files: never a crash, recovery with a warning."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codex_self_iter.agent.control import MODELS, parse_control_block, promise_claimed
from codex_self_iter.agent.kinds import Role
from codex_self_iter.proc.procinfo import start_ticks as process_start_ticks
from codex_self_iter.proc.reaped import MARKER_VAR
from tests.conftest import git
from tests.support.faults import pid_alive, wait_for
from tests.support.loop_harness import Agent, control, private_file, run_loop_in_process

JSON_LEAVES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=30,
)
KEYS = st.sampled_from(
    ["status", "summary", "next_goal", "evidence", "verdict", "reasons", "no_change_needed", "stop", "extra"]
)
BLOCKISH = st.dictionaries(KEYS, JSON_VALUES, max_size=7)
PROSE = st.text(alphabet=st.characters(blacklist_characters="`{}"), max_size=200)


def dump(value: Any) -> str:
    return json.dumps(value, allow_nan=True)


def wrapped(body: str, style: int) -> str:
    return [body, f"```json\n{body}\n```", f"```\n{body}\n```", f"{body}\n<promise>DONE</promise>"][style]


MESSAGES = st.one_of(
    st.text(max_size=500),
    st.builds(
        lambda prose, block, style, tail: prose + wrapped(dump(block), style) + tail,
        PROSE,
        BLOCKISH | JSON_VALUES,
        st.integers(0, 3),
        st.text(max_size=30),
    ),
    st.builds(
        lambda depth, opener: "```json\n" + opener * depth + "\n```", st.integers(1, 200_000), st.sampled_from("[{")
    ),
    st.builds(lambda depth: '{"status": "continue", "summary": ' + "[" * depth, st.integers(1, 200_000)),
    st.binary(max_size=300).map(lambda raw: raw.decode("utf-8", errors="surrogateescape")),
    st.just('{"status": "continue", "summary": "s", "next_goal": "\\ud800 lone surrogate", "evidence": []}'),
)


@settings(max_examples=400, deadline=None)
@given(message=MESSAGES, role=st.sampled_from(list(Role)))
def test_parsing_any_final_message_never_raises(message: str, role: Role) -> None:
    result = parse_control_block(role, message)
    if result.block is None:
        assert isinstance(result.error, str) and result.error
    else:
        assert isinstance(result.block, MODELS[role]) and result.error == ""
        goal = getattr(result.block, "next_goal", "")
        goal.encode("utf-8")  # whatever is accepted can be written to prompts and state files
    assert isinstance(promise_claimed(message, "DONE"), bool)


EXECUTOR_BLOCKS = st.fixed_dictionaries(
    {
        "status": st.sampled_from(["continue", "blocked"]),
        "summary": st.text(min_size=1, max_size=80).filter(str.strip),
        "next_goal": st.text(min_size=1, max_size=200).filter(str.strip),
        "evidence": st.lists(st.text(max_size=20), max_size=3),
    }
)


@settings(max_examples=200, deadline=None)
@given(prose=PROSE, block=EXECUTOR_BLOCKS, fenced=st.booleans())
def test_a_valid_block_after_any_prose_is_found(prose: str, block: dict[str, Any], fenced: bool) -> None:
    body = json.dumps(block)
    message = prose + ("\n```json\n" + body + "\n```\n" if fenced else "\n" + body)
    result = parse_control_block(Role.EXECUTOR, message)
    assert result.block is not None, result.error
    assert result.block.next_goal.strip() == block["next_goal"].strip()
    assert result.block.status == block["status"]


CAT_AGENT = """#!/bin/sh
# <role> <prompt_file>: print the canned answer for the role
cat "$(dirname "$0")/answer-$1.txt"
"""
PLAN_ANSWER = json.dumps({"next_goal": "write hello.txt", "summary": "plan"})


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(output=st.binary(max_size=2000) | MESSAGES.map(lambda text: text.encode("utf-8", errors="surrogatepass")))
def test_fuzzed_agent_output_through_the_real_loop_never_crashes(
    tmp_path_factory: pytest.TempPathFactory, output: bytes
) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    work = root / "work"
    work.mkdir()
    (work / "plan.md").write_text("- [ ] hello\n")
    git(work, "init", "-q", "-b", "main")
    agent = root / "agent.sh"
    agent.write_text(CAT_AGENT)
    agent.chmod(0o755)
    (root / "answer-planner.txt").write_text(PLAN_ANSWER)
    (root / "answer-executor.txt").write_bytes(output)
    (root / "answer-reviewer.txt").write_bytes(output)
    run = run_loop_in_process(
        work,
        {"max_iterations": 2, "max_agent_failures": 2},
        template=f"{shlex.quote(str(agent))} {{role}} {{prompt_file}}",
    )
    assert run.exit_code in (0, 2, 3), run.output
    status = run.status
    assert status["state"] in ("stopped", "complete") and status["stop_reason"]
    for record in run.journal():
        assert isinstance(record, dict)


@pytest.fixture
def agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Agent:
    agent = Agent(tmp_path, monkeypatch).on("planner", [{"control": {"next_goal": "write hello", "summary": "plan"}}])
    return agent.on(
        "executor", [{"append": "x.txt", "content": "{call}"}, {"control": control("continue", "goal {call}")}]
    )


CORRUPT_RUNTIME = {
    "empty": b"",
    "binary": b"\x00\xff\xfe garbage \x80",
    "truncated": b'{"iteration": 3, "goal": "half',
    "array": b"[1, 2, 3]",
    "null": b"null",
    "wrong types": b'{"iteration": "seven", "goal": 3}',
    "bad nested": b'{"streaks": "none", "goal_history": [null]}',
    "deep nesting": b'{"goal": ' + b"[" * 100_000,
    "infinite backoff": b'{"iteration": 2, "goal": "g", "backoff_until": Infinity}',
    "huge number": b'{"iteration": 1e999}',
}


@pytest.mark.parametrize("content", list(CORRUPT_RUNTIME.values()), ids=list(CORRUPT_RUNTIME))
def test_corrupt_runtime_json_is_set_aside_with_a_warning(
    git_repo: Path, agent: Agent, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    state = git_repo / ".codex-self-iter"
    state.mkdir()
    (state / "runtime.json").write_bytes(content)
    run = run_loop_in_process(git_repo, {"max_iterations": 1})
    err = capsys.readouterr().err
    assert run.exit_code == 2, run.output
    assert "warning:" in err and "runtime.json: unreadable state" in err and "starting from fresh counters" in err
    kept = list(state.glob("runtime.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == content  # the evidence is kept, not overwritten
    assert run.runtime["iteration"] == 1 and run.runtime["clean_exit"] is True


def test_a_directory_in_place_of_runtime_json_is_set_aside(git_repo: Path, agent: Agent) -> None:
    state = git_repo / ".codex-self-iter"
    (state / "runtime.json").mkdir(parents=True)
    run = run_loop_in_process(git_repo, {"max_iterations": 1})
    assert run.exit_code == 2 and run.runtime["iteration"] == 1
    assert [p.is_dir() for p in state.glob("runtime.json.corrupt-*")] == [True]


@pytest.mark.parametrize("content", [b"", b"\x00\xff{{{", b'{"state": "running", "pid": 1}', b"[" * 100_000])
def test_corrupt_status_json_is_simply_rewritten(git_repo: Path, agent: Agent, content: bytes) -> None:
    state = git_repo / ".codex-self-iter"
    state.mkdir()
    (state / "status.json").write_bytes(content)
    run = run_loop_in_process(git_repo, {"max_iterations": 1})
    assert run.exit_code == 2
    assert run.status["state"] == "stopped" and run.status["stop_reason"] == "max_iterations"


CORRUPT_JOURNAL = {
    "torn last line": b'{"event": "agent_call", "iteration": 1, "role": "executor", "summ',
    "binary": b"\x00\x01\xff\xfe\n\x80\x81\n",
    "invalid utf-8 inside a record": b'{"event": "agent_call", "summary": "\xff\xfe"}\n',
    "non-objects": b'1\n[2]\n"three"\nnull\n',
    "odd field types": b'{"event": "agent_call", "iteration": null, "role": [1], "summary": {"a": 1}, '
    b'"next_goal": 5, "error": []}\n',
    "deep nesting": b"[" * 100_000 + b"\n",
    "a 2 MB line without newline": b"x" * 2_000_000,
}


@pytest.mark.parametrize("content", list(CORRUPT_JOURNAL.values()), ids=list(CORRUPT_JOURNAL))
def test_corrupt_journal_is_skipped_with_a_warning_and_appended_to_cleanly(
    git_repo: Path, agent: Agent, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    logs = git_repo / ".codex-self-iter" / "logs"
    logs.mkdir(parents=True)
    journal = logs / "iterations.jsonl"
    journal.write_bytes(content)
    run = run_loop_in_process(git_repo, {"max_iterations": 2})
    err = capsys.readouterr().err
    assert run.exit_code == 2, run.output
    assert run.runtime["iteration"] == 2
    if content not in (CORRUPT_JOURNAL["odd field types"], CORRUPT_JOURNAL["a 2 MB line without newline"]):
        assert "iterations.jsonl: skipped" in err and "unreadable line(s)" in err
    added = journal.read_bytes()[len(content) :]
    lines = added.split(b"\n")
    assert lines[0] == b"" or content.endswith(b"\n")  # our first record starts on a line of its own
    assert lines[-1] == b""
    records = [json.loads(line) for line in lines if line]
    assert [r["event"] for r in records][:1] == ["start"] and records[-1]["event"] == "stop"


def test_the_loop_never_ends_a_process_group_agent_json_does_not_prove_is_ours(
    git_repo: Path, agent: Agent, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = "0123456789abcdef0123456789abcdef"
    bystander = subprocess.Popen(["sleep", "60"], start_new_session=True)  # no marker in its environment
    ours = subprocess.Popen(["sleep", "60"], start_new_session=True, env={**os.environ, MARKER_VAR: marker})
    try:
        state = git_repo / ".codex-self-iter"
        state.mkdir()
        record = private_file(state, "agent.json")
        start = process_start_ticks(bystander.pid)
        forged = [
            {"pid": bystander.pid, "pgid": bystander.pid, "start": start},  # the old proof: no marker
            {"pid": bystander.pid, "pgid": bystander.pid, "start": start, "marker": marker},  # not in its env
            {"pid": bystander.pid, "pgid": bystander.pid, "start": start, "marker": "x"},
            {"pid": os.getpid(), "pgid": os.getpgrp(), "start": process_start_ticks(os.getpid()), "marker": marker},
            {"pgid": 2**70, "marker": marker},
            {"pgid": True, "marker": marker},
            {"pgid": "12", "marker": marker},
            ["not", "an", "object"],
        ]
        for data in forged:
            record.write_text(json.dumps(data))
            assert run_loop_in_process(git_repo, {"max_iterations": 1}).exit_code == 2
            assert bystander.poll() is None and ours.poll() is None and not record.exists()
        # A record in the state dir (where the agent can write) is not even read.
        (state / "agent.json").write_text(json.dumps({"pgid": ours.pid, "marker": marker}))
        assert run_loop_in_process(git_repo, {"max_iterations": 1}).exit_code == 2
        assert ours.poll() is None
        # The positive control: the private record names a group whose process carries the call's marker.
        record.write_text(json.dumps({"pid": ours.pid, "pgid": ours.pid, "marker": marker}))
        capsys.readouterr()
        run_loop_in_process(git_repo, {"max_iterations": 1})
        assert f"ended agent process group {ours.pid}" in capsys.readouterr().err
        assert wait_for(lambda: ours.poll() is not None, 5)
        assert ours.returncode == -signal.SIGTERM and bystander.poll() is None
    finally:
        for proc in (bystander, ours):
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    assert not pid_alive(bystander.pid)


def test_a_corrupt_lock_holder_file_still_gives_exit_4(git_repo: Path) -> None:
    from codex_self_iter.cli import main

    state = git_repo / ".codex-self-iter"
    state.mkdir()
    private_file(state, "lock-holder.json").write_bytes(b"\xff[[[")
    with FileLock(str(private_file(state, "loop.lock")), timeout=0):
        code = main(["--workspace", str(git_repo), "--agent-command-template", "true {prompt_file}"])
    assert code == 4
