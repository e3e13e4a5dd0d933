"""The loop with its built-in codex runner at its limits: usage limits, the sandbox around commits, a rejected login.

The real codex binary against the fake model server, as in test_e2e_codex_loop.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import git
from tests.support.e2e_loop import APPROVE, PLAN, CodexLoop, agent_calls, answer, read_json, report, shell, tool_outputs
from tests.support.fake_responses_server import usage_limit_body

pytestmark = pytest.mark.codex


def test_a_usage_limit_is_waited_out_until_the_stated_time(loop: CodexLoop) -> None:
    resets_at = int(loop.time.now) + 600
    loop.server.add_turns(
        [{"error": {"status": 429, "body": usage_limit_body(resets_at)}}],
        answer(PLAN),
        shell("echo hello > hello.txt"),
        answer(report("complete", "wrote hello.txt")),
        answer(APPROVE),
    )
    run = loop.run({"usage_limit_max_wait_sec": 3600})

    assert run.exit_code == 0, run.output
    first = agent_calls(run)[0]
    assert first["failure"] == "usage_limit" and "try again at" in first["error"].lower()
    (backoff,) = [r for r in run.journal() if r.get("kind") == "backoff"]
    assert backoff["reason"] == "usage limit"
    # Codex prints the reset time to the minute: the loop waits until that minute's end, not a generic backoff.
    assert 600 <= backoff["seconds"] <= 660
    assert sum(loop.time.sleeps) == pytest.approx(backoff["seconds"], abs=0.01)  # the journal rounds to ms
    assert run.runtime["usage_wait_total_sec"] == pytest.approx(backoff["seconds"], abs=0.01)
    assert run.status["stop_reason"] == "complete"


def test_a_usage_limit_without_a_time_backs_off_exponentially(loop: CodexLoop) -> None:
    loop.server.add_turns(
        [{"error": {"status": 429, "body": usage_limit_body(None)}}],
        [{"error": {"status": 429, "body": usage_limit_body(None)}}],
        answer(PLAN),
        shell("echo hello > hello.txt"),
        answer(report("continue", "wrote hello.txt", "check hello.txt")),
    )
    run = loop.run({"usage_limit_max_wait_sec": 3600, "max_iterations": 1})

    assert run.exit_code == 2, run.output
    assert [c["failure"] for c in agent_calls(run)][:2] == ["usage_limit", "usage_limit"]
    waits = [(b["seconds"], b["reason"]) for b in run.journal() if b.get("kind") == "backoff"]
    assert waits[:2] == [(60, "usage limit"), (120, "usage limit")]
    assert run.status["stop_reason"] == "max_iterations"


def test_a_usage_limit_beyond_the_longest_wait_stops_the_loop(loop: CodexLoop) -> None:
    loop.server.add_turns(
        [{"error": {"status": 429, "body": usage_limit_body(int(loop.time.now) + 2 * 3600)}}],
        answer(PLAN),
    )
    run = loop.run({"usage_limit_max_wait_sec": 1800})

    assert run.exit_code == 2, run.output
    status = run.status
    assert (status["state"], status["stop_reason"], status["exit_code"]) == ("stopped", "usage_limit", 2)
    assert "usage_limit_max_wait_sec=1800" in status["stop_detail"]
    assert loop.time.sleeps == []
    assert len(loop.requests()) == 1


COMMIT = "echo hello > hello.txt && git add hello.txt && git commit -qm 'agent commit'"


@pytest.mark.parametrize(
    ("codex", "committed"),
    [({}, False), ({"writable_roots": [".git"]}, True), ({"bypass": True}, True)],
    ids=["workspace-write", "writable-roots", "bypass"],
)
def test_the_agent_commits_only_where_the_sandbox_allows_it(
    loop: CodexLoop, codex: dict[str, Any], committed: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    loop.server.add_turns(answer(PLAN), shell(COMMIT), answer(report("complete", "hello.txt")), answer(APPROVE))
    run = loop.run({"codex": codex})

    assert run.exit_code == 0, run.output
    assert (loop.workspace / "hello.txt").read_text() == "hello\n"
    subjects = git(loop.workspace, "log", "--format=%s").splitlines()
    commit_output = tool_outputs(loop.requests()[2])[0]
    diff = (run.state_dir / "runs" / "00001" / "reviewer" / "diff.patch").read_text()
    if committed:
        assert subjects == ["agent commit", "init"], commit_output
        assert "+++ b/hello.txt" in diff and "\n+hello\n" in diff  # the diff since the run's baseline commit
    else:
        # workspace-write mounts the workspace's .git read-only: the agent cannot commit (or even git add).
        assert subjects == ["init"]
        assert "Read-only file system" in commit_output and "index.lock" in commit_output
        assert "untracked file: hello.txt\nhello\n" in diff
    assert diff.strip() in loop.requests()[-1].user_texts()[-1]  # the reviewer sees the change either way

    bypass = bool(codex.get("bypass"))
    status = run.status
    assert (status["bypass_sandbox"], status["agent"]["bypass"]) == (bypass, bypass)
    assert status["agent"]["sandbox"] == ("danger-full-access" if bypass else "workspace-write")
    modes = {json.loads(r.headers["x-codex-turn-metadata"])["sandbox_mode"] for r in loop.requests()}
    assert modes == {"danger-full-access" if bypass else "workspace-write"}
    argv = read_json(run.state_dir / "runs" / "00001" / "executor" / "codex_call.json")["argv"]
    assert ("--dangerously-bypass-approvals-and-sandbox" in argv) is bypass
    writable = f"sandbox_workspace_write.writable_roots={json.dumps([str(loop.workspace / '.git')])}"
    assert (writable in argv) is ("writable_roots" in codex)
    stderr = capsys.readouterr().err
    assert ("sandbox BYPASS is on" in stderr) is bypass  # loud, every run
    assert ("--dangerously-bypass-approvals-and-sandbox: NO sandbox, NO approvals" in stderr) is bypass


def test_a_rejected_login_stops_at_once_as_a_setup_problem(loop: CodexLoop) -> None:
    unauthorized = {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}
    loop.server.add_turns([{"error": {"status": 401, "body": unauthorized}}])
    run = loop.run({"max_agent_failures": 5})

    assert run.exit_code == 1, run.output
    status = run.status
    assert (status["stop_reason"], status["exit_code"]) == ("agent_setup", 1)
    assert loop.time.sleeps == []  # retrying cannot fix a login: no backoff, no second call
    assert len(loop.requests()) == 1
    assert "agent_setup" in run.output
