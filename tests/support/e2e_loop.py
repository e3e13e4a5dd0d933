"""The whole loop with the built-in codex runner: the real codex binary against the fake Responses server."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from codex_self_iter.agent.kinds import Role
from codex_self_iter.loop.launch import RunFlags, run_session
from codex_self_iter.options import DEFAULT_CONFIG_NAME, Options, prepare
from tests.support.fake_responses_server import FakeResponsesServer, RecordedRequest
from tests.support.loop_harness import FakeTime, Run

# What every e2e loop runs with unless a test says otherwise: no checks (the fake model is the whole project),
# a budget, no jitter (backoff sleeps are exact), and a per-call timeout far above a healthy codex call.
BASE_CONFIG: dict[str, Any] = {
    "checks": [],
    "max_iterations": 6,
    "command_timeout_sec": 60,
    "backoff_jitter": 0,
    "backoff_base_sec": 5,
}


@dataclass
class CodexLoop:
    """A git workspace, the fake model server codex talks to, and the clock the loop sleeps on."""

    server: FakeResponsesServer
    workspace: Path
    time: FakeTime

    def run(self, config: dict[str, Any] | None = None) -> Run:
        """Write <workspace>/codex-self-iter.toml and run `run --workspace <ws>` in-process with the codex runner."""
        table = {**BASE_CONFIG, **(config or {})}
        (self.workspace / DEFAULT_CONFIG_NAME).write_text(tomli_w.dumps(table), encoding="utf-8")
        exclude = self.workspace / ".git" / "info" / "exclude"
        if f"/{DEFAULT_CONFIG_NAME}" not in exclude.read_text(encoding="utf-8"):  # keep it out of the reviewer's diff
            with exclude.open("a", encoding="utf-8") as handle:
                handle.write(f"/{DEFAULT_CONFIG_NAME}\n")
        options = Options(workspace=str(self.workspace))  # no agent_command_template: the built-in codex runner
        out = io.StringIO()
        code = run_session(prepare(options), RunFlags(), self.time.deps(), out)
        return Run(code, out.getvalue(), self.workspace / ".codex-self-iter")

    def requests(self) -> list[RecordedRequest]:
        """Every model request codex made, in order."""
        return self.server.responses_requests()


def agent_calls(run: Run) -> list[dict[str, Any]]:
    """The journal's agent_call records, in order."""
    return [record for record in run.journal() if record["event"] == "agent_call"]


def prompts(run: Run) -> dict[str, str]:
    """Rendered prompt files by name (e.g. "00001-planner"), as the loop handed them to codex."""
    return {path.stem: path.read_text(encoding="utf-8") for path in sorted((run.state_dir / "prompts").glob("*.md"))}


def prompt_of(request: RecordedRequest, run: Run) -> str:
    """The name of the loop prompt a request answers (codex sends the prompt as the last user message)."""
    last = request.user_texts()[-1]
    names = [name for name, text in prompts(run).items() if text == last]
    assert len(names) == 1, f"request does not end with exactly one loop prompt: {last[:200]!r}"
    return names[0]


def role_of(request: RecordedRequest, run: Run) -> Role:
    """The role whose prompt a request carries."""
    return Role(prompt_of(request, run).split("-")[1])


def sent_usage(usages: list[dict[str, Any]]) -> dict[str, int]:
    """The sum of Responses-API usage objects the server sent, in the loop's TokenUsage field names."""
    return {
        "input_tokens": sum(u["input_tokens"] for u in usages),
        "cached_input_tokens": sum(u["input_tokens_details"]["cached_tokens"] for u in usages),
        "output_tokens": sum(u["output_tokens"] for u in usages),
        "reasoning_output_tokens": sum(u["output_tokens_details"]["reasoning_tokens"] for u in usages),
    }


def usage(input_tokens: int, cached: int, output_tokens: int, reasoning: int) -> dict[str, Any]:
    """A Responses-API usage object (what one fake response reports)."""
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": input_tokens + output_tokens,
    }


def read_json(path: Path) -> Any:
    """A JSON file the loop wrote."""
    return json.loads(path.read_text(encoding="utf-8"))


PLAN = {"next_goal": "write hello.txt saying hello", "summary": "one file to write", "stop": False}
APPROVE = {"verdict": "approve", "reasons": ["hello.txt says hello"], "next_goal": "", "no_change_needed": False}


def report(status: str = "continue", summary: str = "did a step", next_goal: str = "", **extra: Any) -> dict[str, Any]:
    """An executor control block as the model sends it."""
    return {"status": status, "summary": summary, "next_goal": next_goal, "evidence": [], **extra}


def answer(block: dict[str, Any]) -> list[dict[str, Any]]:
    """One model response whose final message is the control block."""
    return [{"message_json": block}]


def shell(command: str) -> list[dict[str, Any]]:
    """One model response that runs a shell command through codex's exec_command tool."""
    return [{"shell": command}]


def tool_outputs(request: RecordedRequest) -> list[str]:
    """What codex sent back to the model from the tool calls it ran."""
    return [item["output"] for item in request.body["input"] if item.get("type") == "function_call_output"]
