"""The whole loop end to end with its built-in codex runner: the real codex binary, the fake model server, git.

Each test scripts the model's answers (tool calls and control blocks), runs `run` in-process with no agent
command template (so the loop drives `codex exec`), and checks what the loop recorded against what the model
server saw and sent. Time is injected: backoff and usage-limit waits are recorded, not slept.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from codex_self_iter.agent.control import json_schema
from codex_self_iter.agent.kinds import Role
from tests.support.e2e_loop import (
    APPROVE,
    PLAN,
    CodexLoop,
    agent_calls,
    answer,
    prompt_of,
    prompts,
    read_json,
    report,
    role_of,
    sent_usage,
    shell,
    tool_outputs,
    usage,
)
from tests.support.e2e_processes import ProcessWatcher
from tests.support.fake_responses_sse import DEFAULT_USAGE
from tests.support.loop_harness import private_file

pytestmark = pytest.mark.codex


def test_a_full_loop_edits_files_through_tool_calls_and_completes(loop: CodexLoop) -> None:
    loop.server.add_turns(
        answer(PLAN),
        shell("printf 'hel' > hello.txt"),
        answer(report("continue", "started hello.txt", "finish hello.txt so it says hello")),
        shell("printf 'hello\\n' > hello.txt && mkdir -p docs && echo '# Notes' > docs/notes.md"),
        answer(report("complete", "hello.txt says hello", evidence=["cat hello.txt: hello"])),
        answer(APPROVE),
    )
    run = loop.run()

    assert run.exit_code == 0, run.output
    assert (loop.workspace / "hello.txt").read_text() == "hello\n"
    assert (loop.workspace / "docs" / "notes.md").read_text() == "# Notes\n"
    status = run.status
    assert (status["state"], status["stop_reason"], status["exit_code"]) == ("complete", "complete", 0)
    assert status["iteration"] == 2 and status["runner"] == "codex"
    assert status["agent"]["codex_binary"] == os.environ["CODEX_BIN"] and status["agent"]["codex_version"]
    assert status["agent"]["sandbox"] == "workspace-write"
    assert status["bypass_sandbox"] is False
    assert status["last_review"]["verdict"] == "approve"
    assert status["totals"]["agent_calls"] == 4
    assert [(c["role"], c["failure"]) for c in agent_calls(run)] == [
        ("planner", None), ("executor", None), ("executor", None), ("reviewer", None),
    ]  # fmt: skip
    assert "stopped: complete (exit 0)" in run.output

    requests = loop.requests()
    assert [prompt_of(r, run) for r in requests] == [
        "00001-planner", "00001-executor", "00001-executor", "00002-executor", "00002-executor", "00002-reviewer",
    ]  # fmt: skip
    assert "finish hello.txt so it says hello" in requests[3].user_texts()[-1]  # the executor's next_goal, fed back
    calls = [item for r in requests for item in r.body["input"] if item.get("type") == "function_call"]
    assert {call["name"] for call in calls} == {"exec_command"}  # the edits were codex's own tool calls
    assert all("Process exited with code 0" in output for r in requests for output in tool_outputs(r))
    assert "docs/notes.md" in requests[-1].user_texts()[-1]  # the reviewer saw the diff
    assert {json.loads(r.headers["x-codex-turn-metadata"])["sandbox_mode"] for r in requests} == {"workspace-write"}
    call = read_json(run.state_dir / "runs" / "00002" / "executor" / "codex_call.json")
    assert call["mode"] == "fresh" and call["argv"][1:3] == ["exec", "--json"] and call["argv"][-1] == "-"


def test_recorded_token_usage_equals_what_the_server_reported(loop: CodexLoop) -> None:
    sent = [usage(1000, 100, 50, 10), usage(1300, 400, 70, 0), usage(1500, 1200, 90, 30), usage(800, 0, 40, 5)]
    loop.server.add_turns(
        [*answer(PLAN), {"usage": sent[0]}],
        [*shell("echo hello > hello.txt"), {"usage": sent[1]}],
        [*answer(report("complete", "wrote hello.txt")), {"usage": sent[2]}],
        [*answer(APPROVE), {"usage": sent[3]}],
    )
    run = loop.run()

    assert run.exit_code == 0, run.output
    per_call = [(c["role"], c["usage"], c["tokens"]) for c in agent_calls(run)]
    assert per_call == [
        ("planner", sent_usage(sent[:1]), 1050),
        ("executor", sent_usage(sent[1:3]), 1300 + 70 + 1500 + 90),
        ("reviewer", sent_usage(sent[3:]), 840),
    ]
    totals = run.status["totals"]
    assert {key: totals[key] for key in sent_usage(sent)} == sent_usage(sent)
    assert totals["tokens"] == sum(u["total_tokens"] for u in sent) == 4850
    assert run.runtime["totals"]["input_tokens"] == 4600


def test_a_token_budget_stops_the_loop(loop: CodexLoop) -> None:
    loop.server.add_turns(
        answer(PLAN),
        shell("echo hel > hello.txt"),
        answer(report("continue", "started", "finish hello.txt")),
        answer(report("complete", "never asked for: the budget is spent")),
    )
    run = loop.run({"max_total_tokens": 300})

    per_request = DEFAULT_USAGE["input_tokens"] + DEFAULT_USAGE["output_tokens"]
    assert run.exit_code == 2, run.output
    status = run.status
    assert (status["state"], status["stop_reason"], status["exit_code"]) == ("stopped", "token_budget", 2)
    assert status["totals"]["tokens"] == 3 * per_request >= 300
    assert "max_total_tokens=300" in status["stop_detail"]
    assert len(loop.requests()) == 3  # planner + one executor call (tool call, answer); then nothing more


def test_a_server_error_backs_off_then_the_loop_succeeds(loop: CodexLoop) -> None:
    loop.server.add_turns(
        [{"error": {"status": 500, "body": {"error": {"message": "boom", "type": "server_error"}}}}],
        answer(PLAN),
        shell("echo hello > hello.txt"),
        answer(report("complete", "wrote hello.txt")),
        answer(APPROVE),
    )
    run = loop.run({"backoff_base_sec": 30})

    assert run.exit_code == 0, run.output
    calls = agent_calls(run)
    assert calls[0]["role"] == "planner" and calls[0]["failure"] == "transient" and calls[0]["exit_code"] == 1
    assert "high demand" in calls[0]["error"]
    backoffs = [r for r in run.journal() if r.get("kind") == "backoff"]
    assert [(b["seconds"], b["reason"]) for b in backoffs] == [(30, "agent failure")]
    assert sum(loop.time.sleeps) == pytest.approx(30)  # really waited (on the injected clock) before retrying
    assert [c["failure"] for c in calls[1:]] == [None, None, None]
    assert run.status["streaks"]["agent_failures"] == 0
    assert (loop.workspace / "hello.txt").read_text() == "hello\n"


def test_prose_without_a_control_block_gets_one_repair_attempt(loop: CodexLoop) -> None:
    loop.server.add_turns(
        answer(PLAN),
        shell("echo hello > hello.txt"),
        [{"message": "I wrote hello.txt. Everything is done, I think."}],
        answer(report("complete", "wrote hello.txt", evidence=["hello.txt: hello"])),
        answer(APPROVE),
    )
    run = loop.run()

    assert run.exit_code == 0, run.output
    requests = loop.requests()
    assert [prompt_of(r, run) for r in requests] == [
        "00001-planner", "00001-executor", "00001-executor", "00001-executor-repair", "00001-reviewer",
    ]  # fmt: skip
    repair = requests[3].user_texts()[-1]
    assert repair.startswith(requests[1].user_texts()[-1])  # the original prompt, then what was wrong
    assert "could not be used by the loop" in repair
    assert "I wrote hello.txt. Everything is done, I think." in repair
    executor = [c for c in agent_calls(run) if c["role"] == "executor"]
    assert [(c["repaired"], c["status"], c["failure"]) for c in executor] == [(True, "complete", None)]
    assert (run.state_dir / "runs" / "00001" / "executor" / "final_message.txt").read_text().startswith("I wrote")
    assert (run.state_dir / "runs" / "00001" / "executor-repair" / "last_message.txt").exists()


@pytest.mark.timeout(90)
def test_a_stalled_model_is_timed_out_and_no_codex_process_survives(loop: CodexLoop) -> None:
    # The model starts a long-running command (a child of codex, in its sandbox), then the server stalls.
    long_command = {"name": "exec_command", "arguments": {"cmd": "exec sleep 300", "yield_time_ms": 500}}
    stall = [{"stall": {"seconds": 120}}]
    loop.server.add_turns([{"function_call": long_command}], stall, [{"function_call": long_command}], stall)
    # 8 s: time for codex to reach the model and start the command even on a loaded machine.
    with ProcessWatcher(str(loop.workspace)) as watcher:
        run = loop.run({"command_timeout_sec": 8, "max_agent_failures": 2, "backoff_base_sec": 10})

    assert run.exit_code == 3, run.output
    status = run.status
    assert (status["state"], status["stop_reason"], status["exit_code"]) == ("stopped", "agent_failure", 3)
    calls = agent_calls(run)
    assert [(c["role"], c["timed_out"], c["failure"]) for c in calls] == [("planner", True, "transient")] * 2, calls
    assert all("timed out after 8s" in c["error"] for c in calls), calls
    assert all(8 <= c["duration_sec"] < 8 + 10 for c in calls), calls  # each call ended soon after its timeout
    assert [(b["seconds"], b["reason"]) for b in run.journal() if b.get("kind") == "backoff"] == [(10, "agent failure")]
    assert sum(loop.time.sleeps) == pytest.approx(10)
    names = {seen.name for seen in watcher.seen.values()}
    assert {"node", "codex", "sleep"} <= names, watcher.seen  # the launcher, codex, and the command it started
    assert watcher.survivors() == {}, watcher.seen
    assert not private_file(run.state_dir, "agent.json").exists()  # nothing left for a later run to clean up


def test_a_resumed_executor_thread_carries_the_previous_turns(loop: CodexLoop) -> None:
    loop.server.add_turns(
        answer(PLAN),
        [*shell("printf 'hel' > hello.txt"), {"usage": usage(1000, 0, 10, 0)}],
        [*answer(report("continue", "FIRST EXECUTOR TURN", "finish hello.txt")), {"usage": usage(1100, 0, 20, 0)}],
        [*shell("printf 'hello' > hello.txt"), {"usage": usage(1500, 0, 30, 0)}],
        [*answer(report("complete", "hello.txt done")), {"usage": usage(1600, 0, 40, 0)}],
        answer(APPROVE),
    )
    run = loop.run({"codex": {"resume": ["executor"]}})

    assert run.exit_code == 0, run.output
    requests = loop.requests()
    second = requests[3]  # the first request of iteration 2's executor call
    assert role_of(second, run) is Role.EXECUTOR and prompt_of(second, run) == "00002-executor"
    texts = second.user_texts()
    assert prompts(run)["00001-executor"] in texts and texts[-1] == prompts(run)["00002-executor"]
    assert "FIRST EXECUTOR TURN" in second.input_text  # the model's own earlier answer is in the history
    assert "printf 'hel' > hello.txt" in second.input_text  # and so is its earlier tool call
    assert "You are the PLANNER" not in second.input_text  # only the executor's thread is continued
    assert "You are the EXECUTOR" not in requests[-1].input_text  # the reviewer starts fresh

    executor = [c for c in agent_calls(run) if c["role"] == "executor"]
    assert executor[0]["thread_id"] == executor[1]["thread_id"]
    # Codex reports usage cumulatively per thread; the loop records each call's own share.
    assert [c["usage"]["input_tokens"] for c in executor] == [2100, 3100]
    assert [c["usage"]["output_tokens"] for c in executor] == [30, 70]
    call = read_json(run.state_dir / "runs" / "00002" / "executor" / "codex_call.json")
    assert call["mode"] == "resume" and call["resumed_thread_id"] == executor[0]["thread_id"]
    assert call["thread_usage_cumulative"]["input_tokens"] == 5200
    threads = read_json(run.state_dir / "codex_threads.json")["roles"]
    assert list(threads) == ["executor"] and threads["executor"]["turns"] == 1
    assert (loop.workspace / "hello.txt").read_text() == "hello"


def test_the_schema_codex_sends_matches_each_role(loop: CodexLoop) -> None:
    loop.server.add_turns(
        answer(PLAN),
        shell("echo hello > hello.txt"),
        answer(report("complete", "wrote hello.txt")),
        answer(APPROVE),
    )
    run = loop.run()

    assert run.exit_code == 0, run.output
    requests = loop.requests()
    assert [role_of(r, run) for r in requests] == [Role.PLANNER, Role.EXECUTOR, Role.EXECUTOR, Role.REVIEWER]
    for request in requests:
        role = role_of(request, run)
        sent = request.body["text"]["format"]
        assert (sent["type"], sent["strict"], sent["name"]) == ("json_schema", True, "codex_output_schema")
        assert sent["schema"] == json_schema(role), role
    for role in (Role.PLANNER, Role.EXECUTOR, Role.REVIEWER):  # the roles of a run without a task queue
        call = read_json(run.state_dir / "runs" / "00001" / role.value / "codex_call.json")
        schema = Path(call["argv"][call["argv"].index("--output-schema") + 1])
        assert read_json(schema) == json_schema(role)
