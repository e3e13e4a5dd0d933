"""The scripted fake Responses server itself: turn order, conditional turns, errors, logging, SSE shape."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.support.fake_responses_server import EXHAUSTED, FakeResponsesServer


def post(server: FakeResponsesServer, body: dict[str, Any], timeout: float = 10) -> tuple[int, str]:
    request = urllib.request.Request(
        server.url + "/responses",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", "x-test": "yes"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def sse_events(text: str) -> list[dict[str, Any]]:
    return [json.loads(line[len("data: ") :]) for line in text.splitlines() if line.startswith("data: ")]


def user_input(text: str) -> dict[str, Any]:
    return {"input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}]}


def test_turns_are_served_in_order_and_logged() -> None:
    script = [
        [{"reasoning": "hmm"}, {"shell": "echo hi"}],
        [{"message_json": {"a": 1}}, {"usage": {"input_tokens": 7, "output_tokens": 3}}],
    ]
    with FakeResponsesServer(script) as server:
        status, first = post(server, {"tools": [{"type": "function", "name": "exec_command"}], **user_input("go")})
        _, second = post(server, user_input("again"))
        _, third = post(server, user_input("more"))
    assert status == 200
    events = sse_events(first)
    assert [e["type"] for e in events] == [
        "response.created",
        "response.output_item.done",
        "response.output_item.done",
        "response.completed",
    ]
    call = events[2]["item"]
    assert call["type"] == "function_call" and call["name"] == "exec_command"
    assert json.loads(call["arguments"]) == {"cmd": "echo hi"}
    done = sse_events(second)[-1]["response"]
    assert done["usage"]["input_tokens"] == 7 and done["usage"]["total_tokens"] == 10
    texts = [e["delta"] for e in sse_events(second) if e["type"] == "response.output_text.delta"]
    assert texts == ['{"a": 1}']
    assert EXHAUSTED in third
    logged = server.responses_requests()
    assert [r.user_texts() for r in logged] == [["go"], ["again"], ["more"]]
    assert logged[0].headers["x-test"] == "yes"


def test_conditional_turns_wait_for_their_match() -> None:
    script: list[Any] = [{"match": "REVIEW", "steps": [{"message": "reviewed"}]}, [{"message": "plain"}]]
    with FakeResponsesServer(script) as server:
        _, first = post(server, user_input("execute"))
        _, second = post(server, user_input("REVIEW this"))
    assert "plain" in first and "reviewed" in second


def test_error_and_failed_steps() -> None:
    script = [[{"error": {"status": 429, "body": {"error": {"type": "usage_limit_reached"}}}}], [{"failed": "gone"}]]
    with FakeResponsesServer(script) as server:
        status, body = post(server, user_input("x"))
        _, failed = post(server, user_input("y"))
    assert status == 429 and json.loads(body)["error"]["type"] == "usage_limit_reached"
    last = sse_events(failed)[-1]
    assert last["type"] == "response.failed" and last["response"]["error"]["message"] == "gone"


@pytest.mark.timeout(30)
def test_a_stall_holds_the_answer_and_ends_with_the_server() -> None:
    with FakeResponsesServer([[{"stall": {"seconds": 1}}, {"message": "late"}]]) as server:
        started = time.monotonic()
        _, body = post(server, user_input("x"))
        assert time.monotonic() - started >= 1 and "late" in body
    started = time.monotonic()
    with FakeResponsesServer([[{"stall": {"seconds": 600}}]]) as server, pytest.raises(OSError):
        post(server, user_input("x"), timeout=0.5)
    assert time.monotonic() - started < 5  # shutting the server down did not wait the 600 s out
