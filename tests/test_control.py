"""The control block: the last JSON object of the final message, validated per role."""

from __future__ import annotations

import json

import pytest

from codex_self_iter.agent.control import (
    ExecutorReport,
    ReviewerVerdict,
    json_schema,
    last_json_object,
    parse_control_block,
    promise_claimed,
)
from codex_self_iter.agent.kinds import Role

GOOD = '{"status": "continue", "summary": "s", "next_goal": "g2", "evidence": []}'


@pytest.mark.parametrize(
    "message",
    [
        GOOD,
        f"text\n```json\n{GOOD}\n```\n",
        f'prose {{"status": "complete", "summary": "old"}} more prose\n{GOOD}',
        f"```json\n{GOOD}\n```\ntrailing words",
    ],
)
def test_last_object_is_the_block(message: str) -> None:
    parsed = parse_control_block(Role.EXECUTOR, message)
    assert isinstance(parsed.block, ExecutorReport) and parsed.block.next_goal == "g2"


@pytest.mark.parametrize(
    ("role", "message", "error"),
    [
        (Role.EXECUTOR, "I did it all.", "no JSON control block"),
        (Role.EXECUTOR, '{"status": "continue", "summary": "s"}', '"next_goal" is missing'),
        (Role.EXECUTOR, '{"status": "maybe", "summary": "s", "next_goal": "g"}', '"status"'),
        (Role.EXECUTOR, '{"status": "continue", "summary": "s", "next_goal": "' + "x" * 3000 + '"}', "characters long"),
        (Role.REVIEWER, '{"verdict": "reject", "reasons": []}', '"next_goal" is missing'),
        (Role.PLANNER, '{"summary": "s"}', '"next_goal" is missing'),
    ],
)
def test_invalid_blocks_say_exactly_what_is_wrong(role: Role, message: str, error: str) -> None:
    parsed = parse_control_block(role, message)
    assert parsed.block is None and error in parsed.error


def test_complete_needs_no_goal_and_approve_needs_no_goal() -> None:
    assert parse_control_block(Role.EXECUTOR, '{"status": "complete", "summary": "s"}').block is not None
    verdict = parse_control_block(Role.REVIEWER, '{"verdict": "approve", "reasons": ["ok"]}').block
    assert isinstance(verdict, ReviewerVerdict) and verdict.verdict == "approve"


def test_control_characters_inside_strings_are_tolerated() -> None:
    message = '{"status": "continue", "summary": "line1\nline2\ttab", "next_goal": "g"}'
    assert parse_control_block(Role.EXECUTOR, message).block is not None


@pytest.mark.parametrize(
    ("message", "claimed"),
    [
        ("All good.\n<promise>DONE</promise>", True),
        ("All good. <promise>  DONE </promise>  \n", True),
        ("I will print <promise>DONE</promise> when finished.", False),
        ("DONE", False),
        ("<promise>DONE-ish</promise>", False),
    ],
)
def test_promise_only_as_an_exact_trailing_tag(message: str, claimed: bool) -> None:
    assert promise_claimed(message, "DONE") is claimed


@pytest.mark.parametrize("role", list(Role))
def test_schemas_are_strict_and_list_every_field(role: Role) -> None:
    schema = json_schema(role)
    assert schema["additionalProperties"] is False
    assert sorted(schema["required"]) == sorted(schema["properties"])


def test_nested_objects_and_a_later_unfenced_block() -> None:
    nested = '{"status": "continue", "summary": "s", "next_goal": "g", "extra": {"inner": {"x": 1}}}'
    old = '```json\n{"status": "complete", "summary": "old"}\n```\n'
    parsed = parse_control_block(Role.EXECUTOR, old + nested)
    assert isinstance(parsed.block, ExecutorReport) and parsed.block.next_goal == "g"


def test_an_object_with_several_nested_objects_before_its_last_key_is_found_whole() -> None:
    block = {"verdict": "reject", "reasons": ["r"], "gaps": [{"title": "a", "details": "", "done_when": ["x"]},
             {"title": "b", "details": "", "done_when": ["y"]}], "after": {"k": 1}, "tail": 2}  # fmt: skip
    for text in (json.dumps(block), "Done.\n```json\n" + json.dumps(block, indent=2) + "\n```"):
        assert last_json_object(text) == block
    assert last_json_object('{"first": 1}\nthen {"second": {"x": 1}, "y": [{"z": 2}, {"z": 3}]}') == {
        "second": {"x": 1}, "y": [{"z": 2}, {"z": 3}],
    }  # fmt: skip
