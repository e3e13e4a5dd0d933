"""CodexRunner end to end: the real codex binary against the scripted fake Responses server, real git repos."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codex_self_iter.agent.control import ExecutorReport, json_schema, parse_control_block
from codex_self_iter.agent.kinds import FailureKind, Role, TokenUsage
from codex_self_iter.codex import TESTED_CODEX_VERSION
from codex_self_iter.codex.runner import CodexRunner
from codex_self_iter.codex.settings import CodexSettings
from codex_self_iter.proc.process import ProcessHandle
from tests.support.codex_runs import block, live_members, make_request
from tests.support.fake_responses_server import FakeResponsesServer

pytestmark = pytest.mark.codex


def metadata(server: FakeResponsesServer, index: int = -1) -> dict[str, object]:
    request = server.responses_requests()[index]
    return dict(json.loads(request.headers["x-codex-turn-metadata"]))


def test_the_agent_edits_files_and_answers_with_a_control_block(server: FakeResponsesServer, git_repo: Path) -> None:
    server.add_turns(
        [{"reasoning": "start with hello.txt"}, {"shell": "printf 'hello\\n' > hello.txt"}],
        [{"apply_patch": "*** Begin Patch\n*** Add File: notes.md\n+# Notes\n*** End Patch\n"}],
        [{"message_json": block(summary="wrote hello.txt and notes.md", evidence=["hello.txt says hello"])}],
    )
    request = make_request(git_repo, prompt="Make hello.txt say hello, please.")
    assert not request.schema_file.exists()
    result = CodexRunner().run(request)

    assert result.failure is FailureKind.NONE, result.failure_message
    assert result.exit_code == 0 and not result.timed_out
    parsed = parse_control_block(Role.EXECUTOR, result.final_message)
    assert isinstance(parsed.block, ExecutorReport) and parsed.block.summary == "wrote hello.txt and notes.md"
    assert (git_repo / "hello.txt").read_text() == "hello\n"
    assert (git_repo / "notes.md").read_text() == "# Notes\n"
    assert result.files_changed == ["notes.md"]
    assert result.commands_run == 1
    assert result.usage == TokenUsage(300, 30, 60, 15)  # three requests of 100/10/20/5, as the server reported
    assert result.thread_id
    assert result.argv[1:3] == ["exec", "--json"] and result.argv[-1] == "-"
    assert "workspace-write" in result.argv

    for name in ("events.jsonl", "stderr.log", "last_message.txt", "codex_call.json"):
        assert (request.run_dir / name).exists(), name
    assert (request.run_dir / "last_message.txt").read_text() == result.final_message
    first = server.responses_requests()[0]
    assert "Make hello.txt say hello, please." in first.user_texts()
    assert metadata(server)["sandbox_mode"] == "workspace-write"
    assert json.loads(request.schema_file.read_text()) == json_schema(Role.EXECUTOR)


def test_the_schema_codex_sends_matches_each_role(server: FakeResponsesServer, git_repo: Path) -> None:
    answers = {
        Role.PLANNER: {"next_goal": "write hello.txt", "summary": "one step", "stop": False},
        Role.EXECUTOR: block(),
        Role.REVIEWER: {"verdict": "approve", "reasons": ["ok"], "next_goal": "", "no_change_needed": False},
    }
    runner = CodexRunner()
    for index, (role, answer) in enumerate(answers.items()):
        server.add_turns([{"message_json": answer}])
        result = runner.run(make_request(git_repo, role))
        assert result.failure is FailureKind.NONE, result.failure_message
        sent = server.responses_requests()[index].body["text"]["format"]
        assert sent["type"] == "json_schema" and sent["strict"] is True
        assert sent["schema"] == json_schema(role)
        assert parse_control_block(role, result.final_message).block is not None


def test_prose_without_a_control_block_is_returned_for_the_loop_to_repair(
    server: FakeResponsesServer, git_repo: Path
) -> None:
    server.add_turns([{"message": "I looked around. Everything seems fine."}])
    result = CodexRunner().run(make_request(git_repo))
    assert result.failure is FailureKind.NONE
    assert result.final_message == "I looked around. Everything seems fine."
    assert parse_control_block(Role.EXECUTOR, result.final_message).block is None


def test_a_server_error_is_transient(server: FakeResponsesServer, git_repo: Path) -> None:
    server.add_turns([{"error": {"status": 500, "body": {"error": {"message": "boom", "type": "server_error"}}}}])
    result = CodexRunner().run(make_request(git_repo))
    assert result.failure is FailureKind.TRANSIENT
    assert result.exit_code == 1
    assert "high demand" in result.failure_message
    assert result.final_message == ""
    assert result.usage is None


def test_a_usage_limit_is_recognised_with_its_reset_time(server: FakeResponsesServer, git_repo: Path) -> None:
    resets_at = int(time.time()) + 2 * 3600
    body = {
        "error": {
            "type": "usage_limit_reached",
            "message": "You've hit your usage limit.",
            "plan_type": "plus",
            "resets_at": resets_at,
        }
    }
    server.add_turns([{"error": {"status": 429, "body": body}}])
    result = CodexRunner().run(make_request(git_repo))
    assert result.failure is FailureKind.USAGE_LIMIT, result.failure_message
    assert "try again at" in result.failure_message
    # Codex prints the local wall-clock time to the minute: the end of that minute is never early.
    assert result.retry_at is not None and resets_at <= result.retry_at <= resets_at + 60


def test_a_plain_429_is_a_usage_limit_without_a_time(server: FakeResponsesServer, git_repo: Path) -> None:
    server.add_turns([{"error": {"status": 429, "body": {"error": {"message": "slow down", "type": "rate_limit"}}}}])
    result = CodexRunner().run(make_request(git_repo))
    assert result.failure is FailureKind.USAGE_LIMIT
    assert result.retry_at is None


def test_rejected_credentials_are_fatal_with_a_login_hint(server: FakeResponsesServer, git_repo: Path) -> None:
    body = {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}
    server.add_turns([{"error": {"status": 401, "body": body}}])
    result = CodexRunner().run(make_request(git_repo))
    assert result.failure is FailureKind.FATAL
    assert "codex login" in result.failure_message


def test_a_workspace_outside_git_is_fatal_with_a_hint(server: FakeResponsesServer, tmp_path: Path) -> None:
    workspace = tmp_path / "plain dir"
    workspace.mkdir()
    result = CodexRunner().run(make_request(workspace))
    assert result.failure is FailureKind.FATAL
    assert "git init" in result.failure_message and "skip_git_repo_check" in result.failure_message
    assert server.responses_requests() == []
    server.add_turns([{"message_json": block()}])
    allowed = CodexRunner(CodexSettings(skip_git_repo_check=True)).run(make_request(workspace))
    assert allowed.failure is FailureKind.NONE, allowed.failure_message


@pytest.mark.timeout(60)
def test_a_stalled_model_times_out_and_the_whole_process_group_dies(
    server: FakeResponsesServer, git_repo: Path
) -> None:
    server.add_turns([{"stall": {"seconds": 120}}])
    handles: list[ProcessHandle] = []
    seen: set[int] = set()
    ticks: list[tuple[float, TokenUsage | None]] = []

    def on_tick(elapsed: float, usage: TokenUsage | None) -> None:
        ticks.append((elapsed, usage))
        seen.update(live_members(handles[0].pgid))

    request = make_request(git_repo, timeout_sec=4.0, on_start=handles.append, on_tick=on_tick)
    started = time.monotonic()
    result = CodexRunner().run(request)

    assert result.timed_out and result.failure is FailureKind.TRANSIENT
    assert "timed out after 4s" in result.failure_message
    assert time.monotonic() - started < 4.0 + 10
    assert len(handles) == 1 and len(seen) >= 2  # the node launcher and the native codex it started
    assert ticks and all(usage is None for _, usage in ticks) and ticks[-1][0] >= 2
    deadline = time.monotonic() + 5
    while live_members(handles[0].pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert live_members(handles[0].pgid) == {}
    assert server.responses_requests(), "codex never reached the server"


@pytest.mark.timeout(60)
def test_cancel_ends_the_call_early(server: FakeResponsesServer, git_repo: Path) -> None:
    server.add_turns([{"stall": {"seconds": 120}}])
    started = time.monotonic()
    request = make_request(git_repo, timeout_sec=60, cancel=lambda: time.monotonic() - started > 2)
    result = CodexRunner().run(request)
    assert result.cancelled and result.failure is FailureKind.TRANSIENT
    assert time.monotonic() - started < 15


def test_bypass_is_announced_once_and_really_unsandboxed(
    server: FakeResponsesServer, git_repo: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.txt"
    server.add_turns([{"shell": f"echo escaped > '{outside}'"}], [{"message_json": block()}])
    announced = io.StringIO()
    runner = CodexRunner(CodexSettings(bypass=True), announce=announced)
    result = runner.run(make_request(git_repo))
    runner.prepare()
    assert result.failure is FailureKind.NONE, result.failure_message
    assert "--dangerously-bypass-approvals-and-sandbox" in result.argv and "-s" not in result.argv
    assert announced.getvalue().count("WARNING") == 1
    assert runner.unsandboxed and runner.status_fields()["bypass"] is True
    assert metadata(server)["sandbox_mode"] == "danger-full-access"
    assert outside.read_text() == "escaped\n"


def test_writable_roots_let_the_agent_commit(server: FakeResponsesServer, git_repo: Path) -> None:
    server.add_turns(
        [{"shell": "echo hi > hello.txt && git add hello.txt && git commit -qm 'agent commit'"}],
        [{"message_json": block()}],
    )
    result = CodexRunner(CodexSettings(writable_roots=[".git"])).run(make_request(git_repo))
    assert result.failure is FailureKind.NONE, result.failure_message
    log = subprocess.run(["git", "log", "--format=%s"], cwd=git_repo, capture_output=True, text=True, check=True)
    assert log.stdout.splitlines()[0] == "agent commit"


def test_secrets_in_the_environment_are_never_written(
    server: FakeResponsesServer, git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-test-never-write-this-0123456789"
    monkeypatch.setenv("CODEX_API_KEY", secret)
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    server.add_turns([{"shell": "env | wc -l"}], [{"message_json": block()}])
    result = CodexRunner(CodexSettings(resume=[Role.EXECUTOR])).run(make_request(git_repo))
    assert result.failure is FailureKind.NONE
    for path in (git_repo / ".codex-self-iter").rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(encoding="utf-8", errors="replace"), path


def test_a_missing_codex_is_a_fatal_result_naming_the_install_command(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CODEX_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = CodexRunner().run(make_request(git_repo))
    assert result.failure is FailureKind.FATAL
    assert f"npm install -g @openai/codex@{TESTED_CODEX_VERSION}" in result.failure_message


def test_describe_shows_the_argv_without_running_codex(git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_BIN", sys.executable)  # anything executable: describe must not run it
    request = make_request(git_repo)
    argv = CodexRunner(CodexSettings(model="gpt-5.5")).describe(request)
    assert argv[0] == sys.executable
    assert argv[1:] == [
        "exec", "--json", "-C", str(git_repo), "-s", "workspace-write", "-o", str(request.run_dir / "last_message.txt"),
        "--output-schema", str(request.schema_file), "-m", "gpt-5.5", "-c", "features.goals=false", "-",
    ]  # fmt: skip
    assert not request.run_dir.exists() and not request.schema_file.exists()  # describe writes nothing
