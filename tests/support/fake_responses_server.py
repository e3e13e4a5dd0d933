"""A scripted fake OpenAI Responses API on 127.0.0.1, for driving the real codex binary in tests.

A script is a list of turns, one consumed per POST /v1/responses, in order. A turn is a list of steps, or
{"match": REGEX, "steps": [...]} which is only used when REGEX matches the request's `input` JSON.
Steps: {"message": text}, {"message_json": obj}, {"shell": cmd}, {"apply_patch": patch},
{"function_call": {"name": ..., "arguments": {...}}}, {"reasoning": text},
{"error": {"status": 500, "body": str | obj, "headers": {...}}}, {"failed": message},
{"stall": {"seconds": n}}, {"usage": {...}} (overrides the turn's usage).
When the script is exhausted the server answers "(mock: script exhausted)".
`limit_until(epoch, clock)` answers every request with a 429 usage limit (resets_at = epoch) while clock() < epoch,
without using up script turns: a limit that lifts at a moment the test chooses, on the loop's own clock.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.fake_responses_sse import Step, sse_events

Turn = list[Step] | dict[str, Any]

EXHAUSTED = "(mock: script exhausted)"


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON, or the raw text when it is not JSON

    @property
    def input_text(self) -> str:
        """The request's `input` list as JSON text (what conditional turns match against)."""
        items = self.body.get("input", []) if isinstance(self.body, dict) else []
        return json.dumps(items)

    def user_texts(self) -> list[str]:
        """The text of every user message in the request's input, in order."""
        texts: list[str] = []
        for item in self.body.get("input", []) if isinstance(self.body, dict) else []:
            if item.get("type") == "message" and item.get("role") == "user":
                texts.extend(part.get("text", "") for part in item.get("content", []) if isinstance(part, dict))
        return texts


class FakeResponsesServer:
    """`with FakeResponsesServer(script) as server:` serves `server.url` and logs `server.requests`."""

    def __init__(self, script: list[Turn] | None = None, *, model: str = "gpt-5.5") -> None:
        self.script: list[Turn] = list(script or [])
        self.model = model
        self.requests: list[RecordedRequest] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._counter = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._limit: tuple[float, Callable[[], float]] | None = None
        self.limited_answers = 0

    def limit_until(self, epoch: float, clock: Callable[[], float]) -> None:
        """Answer with a usage limit until clock() reaches epoch."""
        with self._lock:
            self._limit = (epoch, clock)

    @property
    def url(self) -> str:
        """The base URL codex should use: http://127.0.0.1:PORT/v1."""
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def responses_requests(self) -> list[RecordedRequest]:
        """Only the POST /v1/responses requests, in arrival order."""
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and r.path.endswith("/responses")]

    def add_turns(self, *turns: Turn) -> None:
        """Append turns to the script (for tests that script several codex runs step by step)."""
        with self._lock:
            self.script.extend(turns)

    def __enter__(self) -> FakeResponsesServer:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _record(self, request: RecordedRequest) -> tuple[int, list[Step]]:
        with self._lock:
            self.requests.append(request)
            self._counter += 1
            return self._counter, self._take_turn(request)

    def _take_turn(self, request: RecordedRequest) -> list[Step]:
        if self._limit is not None and self._limit[1]() < self._limit[0]:
            self.limited_answers += 1
            return [{"error": {"status": 429, "body": usage_limit_body(int(self._limit[0]))}}]
        for index, turn in enumerate(self.script):
            if isinstance(turn, dict):
                if not re.search(turn["match"], request.input_text):
                    continue
                steps = list(turn["steps"])
            else:
                steps = list(turn)
            del self.script[index]
            return steps
        return [{"message": EXHAUSTED}]


def usage_limit_body(resets_at: int | None) -> dict[str, Any]:
    """The ChatGPT-plan usage-limit error codex recognises (429); codex states resets_at to the minute."""
    error: dict[str, Any] = {"type": "usage_limit_reached", "message": "You've hit your usage limit."}
    error["plan_type"] = "plus"
    if resets_at is not None:
        error["resets_at"] = resets_at
    return {"error": error}


def _handler_for(server: FakeResponsesServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            server._record(RecordedRequest("GET", self.path, _headers(self), None))
            self._send_json(404, {"error": {"message": "not found in the fake server", "type": "not_found"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length).decode("utf-8", errors="replace")
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw
            number, steps = server._record(RecordedRequest("POST", self.path, _headers(self), body))
            for step in steps:
                if "stall" in step and server.stopping.wait(float(step["stall"].get("seconds", 3600))):
                    return
            error = next((s["error"] for s in steps if "error" in s), None)
            if error is not None:
                payload = error.get("body", {"error": {"message": "fake error", "type": "server_error"}})
                self._send_raw(int(error.get("status", 500)), payload, error.get("headers", {}))
                return
            self._send_stream(sse_events(number, steps, body, server.model))

        def _send_json(self, status: int, payload: Any) -> None:
            self._send_raw(status, payload, {})

        def _send_raw(self, status: int, payload: Any, headers: dict[str, str]) -> None:
            text = payload if isinstance(payload, str) else json.dumps(payload)
            data = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if not isinstance(payload, str) else "text/plain")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _send_stream(self, events: list[dict[str, Any]]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            for event in events:
                self.wfile.write(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode())
                self.wfile.flush()
            self.close_connection = True

    return Handler


def _headers(handler: BaseHTTPRequestHandler) -> dict[str, str]:
    return {name.lower(): value for name, value in handler.headers.items()}
