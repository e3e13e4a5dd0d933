"""The --json event stream reader: fed line by line, tolerant of garbage, usage deltas from cumulative totals."""

from __future__ import annotations

import json

import pytest

from codex_self_iter.agent.kinds import TokenUsage
from codex_self_iter.codex.events import CodexEvents, parse_usage, usage_delta

# A stream as codex 0.169 printed it against the fake server (see codex-cli.md §3.3).
STREAM = [
    {"type": "thread.started", "thread_id": "01a1fb60-28be-7a32-90af-9b9aa7ece09f"},
    {"type": "turn.started"},
    {"type": "item.completed", "item": {"id": "item_0", "type": "reasoning", "text": "thinking"}},
    {
        "type": "item.started",
        "item": {"id": "item_1", "type": "command_execution", "command": "echo hi", "status": "in_progress"},
    },
    {
        "type": "item.completed",
        "item": {"id": "item_1", "type": "command_execution", "command": "echo hi", "exit_code": 0},
    },
    {
        "type": "item.started",
        "item": {"id": "item_2", "type": "file_change", "changes": [{"path": "/ws/notes.md", "kind": "add"}]},
    },
    {
        "type": "item.completed",
        "item": {"id": "item_2", "type": "file_change", "changes": [{"path": "/ws/notes.md", "kind": "add"}]},
    },
    {"type": "item.completed", "item": {"id": "item_3", "type": "error", "message": "Model metadata not found"}},
    {"type": "item.completed", "item": {"id": "item_4", "type": "agent_message", "text": "first"}},
    {"type": "item.completed", "item": {"id": "item_5", "type": "agent_message", "text": "I wrote hello.txt"}},
    {
        "type": "turn.completed",
        "usage": {
            "input_tokens": 200,
            "cached_input_tokens": 20,
            "cache_write_input_tokens": 0,
            "output_tokens": 40,
            "reasoning_output_tokens": 10,
        },
    },
]


def feed_all(lines: list[str | bytes]) -> CodexEvents:
    events = CodexEvents()
    for line in lines:
        events.feed(line)
    return events


def test_a_successful_stream_yields_thread_commands_files_messages_and_usage() -> None:
    events = feed_all([json.dumps(event).encode() for event in STREAM])
    assert events.thread_id == "01a1fb60-28be-7a32-90af-9b9aa7ece09f"
    assert events.commands_run == 1
    assert events.files_changed == ["/ws/notes.md"]
    assert events.messages == ["first", "I wrote hello.txt"]
    assert events.last_message == "I wrote hello.txt"
    assert events.warnings == ["Model metadata not found"]
    assert events.turn_completed and not events.turn_failed
    assert events.usage == TokenUsage(200, 20, 40, 10)
    assert events.errors == []


def test_garbage_blank_and_unknown_lines_are_skipped() -> None:
    lines: list[str | bytes] = [
        "not json at all",
        "",
        "   ",
        b"\xff\xfe broken utf-8",
        "[1, 2, 3]",
        '{"type": "item.plan.delta", "delta": "x"}',
        '{"type": "something.new", "payload": {}}',
        '{"type": "thread.started", "thread_id": 42}',
        '{"type": "item.completed", "item": "not an object"}',
        '{"type": "turn.completed", "usage": "not an object"}',
        '{"type": "thread.started", "thread_id": "t-1"}',
    ]
    events = feed_all(lines)
    assert events.thread_id == "t-1"
    assert events.turn_completed
    assert events.usage is None
    assert events.ignored_lines >= 5


def test_errors_and_turn_failed_are_collected_in_order() -> None:
    lines = [
        '{"type":"thread.started","thread_id":"t"}',
        '{"type":"turn.started"}',
        '{"type":"error","message":"Reconnecting... 1/5 (stream disconnected)"}',
        '{"type":"error","message":"unexpected status 401 Unauthorized"}',
        '{"type":"turn.failed","error":{"message":"unexpected status 401 Unauthorized"}}',
    ]
    events = feed_all(list(lines))
    assert events.turn_failed and not events.turn_completed
    assert events.failure_messages == ["unexpected status 401 Unauthorized"]
    assert events.errors == [
        "Reconnecting... 1/5 (stream disconnected)",
        "unexpected status 401 Unauthorized",
        "unexpected status 401 Unauthorized",
    ]


def test_turn_failed_without_a_message_still_counts() -> None:
    events = feed_all(['{"type":"turn.failed"}'])
    assert events.turn_failed
    assert events.failure_messages == ["turn failed"]


def test_commands_are_counted_once_per_item_and_files_once_per_path() -> None:
    started = {"type": "item.started", "item": {"id": "c1", "type": "command_execution"}}
    done = {"type": "item.completed", "item": {"id": "c1", "type": "command_execution"}}
    other = {"type": "item.completed", "item": {"id": "c2", "type": "command_execution"}}
    patch = {
        "type": "item.completed",
        "item": {"type": "file_change", "changes": [{"path": "b"}, {"path": "a"}, {"path": "b"}, {"kind": "x"}]},
    }
    events = feed_all([json.dumps(e) for e in (started, done, other, patch)])
    assert events.commands_run == 2
    assert events.files_changed == ["b", "a"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"input_tokens": 5, "cached_input_tokens": 1, "output_tokens": 2, "reasoning_output_tokens": 1}, (5, 1, 2, 1)),
        ({"input_tokens": 5}, (5, 0, 0, 0)),
        ({"input_tokens": -3, "output_tokens": "7", "cached_input_tokens": True}, (0, 0, 0, 0)),
    ],
)
def test_parse_usage(raw: dict[str, object], expected: tuple[int, int, int, int]) -> None:
    assert parse_usage(raw) == TokenUsage(*expected)


def test_parse_usage_rejects_non_objects() -> None:
    assert parse_usage(None) is None
    assert parse_usage([1]) is None


@pytest.mark.parametrize(
    ("cumulative", "previous", "delta"),
    [
        ((100, 10, 20, 5), None, (100, 10, 20, 5)),  # a fresh thread: the totals are this call's
        ((300, 30, 60, 15), (100, 10, 20, 5), (200, 20, 40, 10)),  # resumed: subtract what came before
        ((100, 10, 20, 5), (100, 10, 20, 5), (0, 0, 0, 0)),  # nothing new
        ((50, 0, 10, 0), (300, 30, 60, 15), (50, 0, 10, 0)),  # went backwards: codex counted afresh
        ((300, 5, 60, 15), (100, 10, 20, 5), (200, 0, 40, 10)),  # one field dipped: never negative
    ],
)
def test_usage_delta(
    cumulative: tuple[int, int, int, int], previous: tuple[int, int, int, int] | None, delta: tuple[int, int, int, int]
) -> None:
    before = TokenUsage(*previous) if previous is not None else None
    assert usage_delta(TokenUsage(*cumulative), before) == TokenUsage(*delta)


def test_messages_kept_in_memory_are_bounded() -> None:
    events = feed_all(
        [json.dumps({"type": "item.completed", "item": {"type": "agent_message", "text": f"m{i}"}}) for i in range(500)]
    )
    assert len(events.messages) <= 50
    assert events.last_message == "m499"
