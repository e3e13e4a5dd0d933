"""The SSE body of one fake Responses-API answer, shaped like the stream codex 0.169 accepts (codex-cli.md §5.2)."""

from __future__ import annotations

import json
from typing import Any

Step = dict[str, Any]

DEFAULT_USAGE: dict[str, Any] = {
    "input_tokens": 100,
    "input_tokens_details": {"cached_tokens": 10},
    "output_tokens": 20,
    "output_tokens_details": {"reasoning_tokens": 5},
    "total_tokens": 120,
}


def sse_events(number: int, steps: list[Step], body: Any, model: str) -> list[dict[str, Any]]:
    """The server-sent events answering request number `number` with the turn's steps."""
    response_id = f"resp_mock_{number}"
    events: list[dict[str, Any]] = [
        {
            "type": "response.created",
            "response": {"id": response_id, "object": "response", "model": model, "status": "in_progress"},
        }
    ]
    usage = DEFAULT_USAGE
    for index, step in enumerate(steps):
        if "usage" in step:
            usage = _full_usage(step["usage"])
        if "failed" in step:
            error = {"code": "server_error", "message": step["failed"]}
            failed = {"id": response_id, "status": "failed", "error": error}
            events.append({"type": "response.failed", "response": failed})
            return events
        for item in _items(number, index, step, body):
            if item["type"] == "message":
                events.extend(_message_events(index, item))
            else:
                events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    completed = {"id": response_id, "object": "response", "model": model, "status": "completed", "usage": usage}
    events.append({"type": "response.completed", "response": completed})
    return events


def _full_usage(override: dict[str, Any]) -> dict[str, Any]:
    """Codex rejects a usage object without total_tokens, so fill in what the step left out."""
    usage = {**DEFAULT_USAGE, **override}
    if "total_tokens" not in override:
        usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
    return usage


def _items(number: int, index: int, step: Step, body: Any) -> list[dict[str, Any]]:
    ident = f"{number}_{index}"
    if "message" in step or "message_json" in step:
        text = step["message"] if "message" in step else json.dumps(step["message_json"])
        content: list[dict[str, Any]] = [{"type": "output_text", "text": text, "annotations": []}]
        message = {"type": "message", "role": "assistant", "id": f"msg_{ident}", "status": "completed"}
        return [{**message, "content": content}]
    if "reasoning" in step:
        summary = [{"type": "summary_text", "text": step["reasoning"]}]
        return [{"type": "reasoning", "id": f"rs_{ident}", "summary": summary}]
    if "shell" in step:
        name, arguments = _shell_call(step["shell"], body)
        return [_function_call(ident, name, arguments)]
    if "function_call" in step:
        call = step["function_call"]
        return [_function_call(ident, call["name"], call.get("arguments", {}))]
    if "apply_patch" in step:
        return [
            {
                "type": "custom_tool_call",
                "id": f"ctc_{ident}",
                "call_id": f"call_{ident}_patch",
                "name": "apply_patch",
                "input": step["apply_patch"],
                "status": "completed",
            }
        ]
    return []


def _function_call(ident: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": f"fc_{ident}",
        "call_id": f"call_{ident}_fn",
        "name": name,
        "arguments": json.dumps(arguments),
        "status": "completed",
    }


def _shell_call(command: str, body: Any) -> tuple[str, dict[str, Any]]:
    """Use whichever shell tool codex offered: exec_command, shell_command or the legacy shell."""
    offered = {tool.get("name") for tool in body.get("tools", [])} if isinstance(body, dict) else set()
    if "exec_command" in offered or not offered:
        return "exec_command", {"cmd": command}
    if "shell_command" in offered:
        return "shell_command", {"command": command}
    return "shell", {"command": ["bash", "-lc", command]}


def _message_events(output_index: int, item: dict[str, Any]) -> list[dict[str, Any]]:
    text = item["content"][0]["text"]
    empty: dict[str, Any] = {**item, "status": "in_progress", "content": []}
    return [
        {"type": "response.output_item.added", "output_index": output_index, "item": empty},
        {
            "type": "response.output_text.delta",
            "output_index": output_index,
            "item_id": item["id"],
            "content_index": 0,
            "delta": text,
        },
        {"type": "response.output_item.done", "output_index": output_index, "item": item},
    ]
