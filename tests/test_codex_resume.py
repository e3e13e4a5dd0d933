"""Per-role thread resume: the thread store, rotation, usage deltas, and falling back when codex lost a thread."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codex_self_iter.agent.kinds import FailureKind, Role, TokenUsage
from codex_self_iter.codex.runner import CodexRunner
from codex_self_iter.codex.settings import CodexSettings
from codex_self_iter.codex.threads import THREADS_FILE, ThreadRecord, ThreadStore, rotation_reason
from tests.support.codex_runs import STATE_DIR_NAME, block, make_request
from tests.support.fake_responses_server import FakeResponsesServer

UNKNOWN_THREAD = "01a1fb9a-0000-7000-8000-000000000000"


def usage(input_tokens: int, output_tokens: int) -> dict[str, object]:
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
    }


def test_thread_store_round_trip_and_corruption(tmp_path: Path) -> None:
    store = ThreadStore(tmp_path)
    assert store.get(Role.EXECUTOR) is None
    record = ThreadRecord("t-1", 3, TokenUsage(10, 1, 2, 0), 123.5)
    store.put(Role.EXECUTOR, record)
    store.put(Role.REVIEWER, ThreadRecord("t-2", 0, TokenUsage(), 1.0))
    assert store.get(Role.EXECUTOR) == record
    store.drop(Role.EXECUTOR)
    assert store.get(Role.EXECUTOR) is None and store.get(Role.REVIEWER) is not None
    (tmp_path / THREADS_FILE).write_text('{"roles": {"reviewer": {"thread_id": 5}}', encoding="utf-8")
    assert store.get(Role.REVIEWER) is None  # torn or foreign content: start fresh, never crash
    (tmp_path / THREADS_FILE).write_text('{"roles": {"reviewer": {"thread_id": "x", "turns": "many"}}}')
    assert store.get(Role.REVIEWER) is None


@pytest.mark.parametrize(
    ("turns", "total", "max_turns", "max_tokens", "rotate"),
    [
        (0, 0, 20, 1000, False),
        (19, 999, 20, 1000, False),
        (20, 0, 20, 1000, True),
        (0, 1000, 20, 1000, True),
        (500, 10**9, 0, 0, False),  # 0 = no limit
    ],
)
def test_rotation_reason(turns: int, total: int, max_turns: int, max_tokens: int, rotate: bool) -> None:
    settings = CodexSettings(resume_max_turns=max_turns, resume_max_tokens=max_tokens)
    record = ThreadRecord("t", turns, TokenUsage(input_tokens=total), 0.0)
    assert (rotation_reason(record, settings) is not None) is rotate


def call_record(request_run_dir: Path) -> dict[str, object]:
    return dict(json.loads((request_run_dir / "codex_call.json").read_text()))


@pytest.mark.codex
def test_a_resumed_thread_carries_the_previous_turns_and_reports_usage_deltas(
    server: FakeResponsesServer, git_repo: Path
) -> None:
    server.add_turns(
        [{"message_json": block(summary="first turn done")}, {"usage": usage(100, 20)}],
        [{"shell": "echo second > second.txt"}, {"usage": usage(400, 30)}],
        [{"message_json": block(summary="second turn done")}, {"usage": usage(500, 40)}],
    )
    runner = CodexRunner(CodexSettings(resume=[Role.EXECUTOR]))
    first = runner.run(make_request(git_repo, prompt="FIRST PROMPT"))
    second_request = make_request(git_repo, iteration=2, prompt="SECOND PROMPT")
    second = runner.run(second_request)

    assert first.failure is second.failure is FailureKind.NONE
    assert first.thread_id == second.thread_id
    assert "resume" in second.argv and first.thread_id in second.argv and "-C" not in second.argv
    assert first.usage == TokenUsage(100, 0, 20, 0)
    # Codex reports 100+400+500 / 20+30+40 cumulatively; the call's own share is what the server sent this time.
    assert second.usage == TokenUsage(900, 0, 70, 0)
    assert call_record(second_request.run_dir)["thread_usage_cumulative"] == {
        "input_tokens": 1000, "cached_input_tokens": 0, "output_tokens": 90, "reasoning_output_tokens": 0,
    }  # fmt: skip
    resumed = server.responses_requests()[1]
    assert resumed.user_texts()[-1] == "SECOND PROMPT" and "FIRST PROMPT" in resumed.user_texts()
    assert "first turn done" in resumed.input_text  # the model's earlier answer is part of the history
    assert (git_repo / "second.txt").read_text() == "second\n"  # cwd = workspace, sandbox still workspace-write
    assert resumed.body["text"]["format"]["schema"]["required"] == ["evidence", "next_goal", "status", "summary"]
    stored = ThreadStore(git_repo / STATE_DIR_NAME).get(Role.EXECUTOR)
    assert stored is not None and stored.thread_id == first.thread_id and stored.turns == 1
    assert stored.usage == TokenUsage(1000, 0, 90, 0)


@pytest.mark.codex
def test_roles_without_resume_always_start_fresh(server: FakeResponsesServer, git_repo: Path) -> None:
    server.add_turns([{"message_json": block()}], [{"message_json": block()}])
    runner = CodexRunner(CodexSettings(resume=[Role.REVIEWER]))
    first = runner.run(make_request(git_repo))
    second = runner.run(make_request(git_repo, iteration=2))
    assert first.thread_id != second.thread_id
    assert "resume" not in second.argv
    assert not (git_repo / STATE_DIR_NAME / THREADS_FILE).exists()


@pytest.mark.codex
def test_an_unknown_thread_falls_back_to_a_fresh_thread(server: FakeResponsesServer, git_repo: Path) -> None:
    state = git_repo / STATE_DIR_NAME
    ThreadStore(state).put(Role.EXECUTOR, ThreadRecord(UNKNOWN_THREAD, 2, TokenUsage(5000, 0, 500, 0), 1.0))
    server.add_turns([{"message_json": block()}])
    request = make_request(git_repo)
    result = CodexRunner(CodexSettings(resume=[Role.EXECUTOR])).run(request)

    assert result.failure is FailureKind.NONE, result.failure_message
    assert result.thread_id and result.thread_id != UNKNOWN_THREAD
    assert "resume" not in result.argv
    assert result.usage == TokenUsage(100, 10, 20, 5)  # not measured against the lost thread's totals
    record = call_record(request.run_dir)
    assert record["resume_fallback"] is True and record["mode"] == "fresh"
    assert "no rollout found" in (request.run_dir / "resume-failed.stderr.log").read_text()
    stored = ThreadStore(state).get(Role.EXECUTOR)
    assert stored is not None and stored.thread_id == result.thread_id and stored.turns == 0


@pytest.mark.codex
def test_a_thread_is_rotated_after_resume_max_turns(server: FakeResponsesServer, git_repo: Path) -> None:
    server.add_turns(*[[{"message_json": block()}] for _ in range(3)])
    runner = CodexRunner(CodexSettings(resume=[Role.EXECUTOR], resume_max_turns=1))
    requests = [make_request(git_repo, iteration=n) for n in (1, 2, 3)]
    results = [runner.run(request) for request in requests]
    assert all(result.failure is FailureKind.NONE for result in results)
    assert results[0].thread_id == results[1].thread_id != results[2].thread_id
    assert "resume" in results[1].argv and "resume" not in results[2].argv
    assert "resume_max_turns" in str(call_record(requests[2].run_dir)["rotated_because"])
    assert len(server.responses_requests()[2].user_texts()) < len(server.responses_requests()[1].user_texts())


@pytest.mark.codex
def test_a_failed_resumed_call_keeps_the_thread_for_next_time(server: FakeResponsesServer, git_repo: Path) -> None:
    server.add_turns(
        [{"message_json": block()}],
        [{"error": {"status": 500, "body": {"error": {"message": "boom"}}}}],
        [{"message_json": block()}],
    )
    runner = CodexRunner(CodexSettings(resume=[Role.EXECUTOR]))
    first = runner.run(make_request(git_repo))
    failed = runner.run(make_request(git_repo, iteration=2))
    third = runner.run(make_request(git_repo, iteration=3))
    assert failed.failure is FailureKind.TRANSIENT
    assert third.failure is FailureKind.NONE and third.thread_id == first.thread_id
