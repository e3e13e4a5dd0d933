"""One agent call for one role: prompt to file, run, parse the control block, one repair attempt, record."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from codex_self_iter.agent.control import (
    ControlBlock,
    ExecutorReport,
    json_schema,
    parse_control_block,
    promise_claimed,
)
from codex_self_iter.agent.kinds import FailureKind, Role, TokenUsage
from codex_self_iter.agent.types import AgentResult
from codex_self_iter.loop import gates
from codex_self_iter.loop.context import LoopContext
from codex_self_iter.loop.ledger import INVALID_OUTPUT, CallOutcome, Note, take_replay
from codex_self_iter.loop.next_call import agent_request
from codex_self_iter.loop.reporter import Live
from codex_self_iter.proc.orphans import forget_agent, remember_agent
from codex_self_iter.proc.process import ProcessHandle
from codex_self_iter.prompts.render import repair_prompt, write_prompt
from codex_self_iter.state.fsio import atomic_write_json, atomic_write_text, make_private_dir
from codex_self_iter.state.runtime import Baseline, RuntimeState
from codex_self_iter.state.snapshot import Phase
from codex_self_iter.state.status import write_status
from codex_self_iter.workspace.diffs import changed_files
from codex_self_iter.workspace.inputs import read_plan_progress


def call_role(
    ctx: LoopContext, state: RuntimeState, iteration: int, role: Role, prompt: str, before: str | None = None
) -> CallOutcome:
    """Run the role's agent once (plus one repair attempt for a missing or invalid block); before: the
    executor's workspace fingerprint, kept in the record so a replayed answer is judged against it."""
    replayed = take_replay(ctx, state, iteration, role)
    if replayed is not None:
        return replayed
    note = Note(ctx, state, iteration, role, before)
    result = _run(ctx, state, iteration, role, prompt, role.value)
    if result.failure is not FailureKind.NONE or result.cancelled:
        return note.record(CallOutcome(None, result, result.failure, result.failure_message), [result])
    parsed = _parse(ctx, role, result.final_message)
    if parsed[0] is not None:
        return note.record(CallOutcome(parsed[0], result, FailureKind.NONE), [result])
    ctx.reporter.info(f"#{iteration} {role.value}: {parsed[1]}; asking once more (repair attempt)")
    retry = _run(
        ctx,
        state,
        iteration,
        role,
        repair_prompt(prompt, role, parsed[1], result.final_message),
        f"{role.value}-repair",
    )
    attempts = [result, retry]
    if retry.failure is not FailureKind.NONE or retry.cancelled:
        return note.record(CallOutcome(None, retry, retry.failure, retry.failure_message, True), attempts)
    block, error = _parse(ctx, role, retry.final_message)
    failure: FailureKind | str = FailureKind.NONE if block is not None else INVALID_OUTPUT
    detail = "" if block is not None else f"still no valid control block after the repair attempt: {error}"
    return note.record(CallOutcome(block, retry, failure, detail, True), attempts)


def _parse(ctx: LoopContext, role: Role, message: str) -> tuple[ControlBlock | None, str]:
    parsed = parse_control_block(role, message, ctx.settings.max_goal_chars)
    block = parsed.block
    if role is Role.EXECUTOR and promise_claimed(message, ctx.settings.completion_promise):
        # The promise tag is a completion claim, gated like any other; it never skips checks or review.
        if isinstance(block, ExecutorReport):
            block = block.model_copy(update={"status": "complete"})
        else:
            block = ExecutorReport(status="complete", summary="completion promise tag", evidence=[])
    return block, parsed.error


def _run(ctx: LoopContext, state: RuntimeState, iteration: int, role: Role, prompt: str, label: str) -> AgentResult:
    layout = ctx.layout
    run_dir = layout.run_dir(iteration, label)
    make_private_dir(run_dir)
    prompt_file = write_prompt(layout.prompts_dir, iteration, label, prompt)
    schema_file = run_dir / "schema.json"
    atomic_write_json(schema_file, json_schema(role))
    live: dict[str, Any] = {"pid": None, "files": None, "files_at": 0.0, "plan": read_plan_progress(layout)}

    def started(handle: ProcessHandle) -> None:
        live["pid"] = handle.pid
        remember_agent(layout.agent_file, handle)
        write_status(ctx, state, Phase.RUNNING, role=label, agent_pid=handle.pid, call_iteration=iteration)

    def tick(elapsed: float, usage: TokenUsage | None) -> None:
        if elapsed - live["files_at"] >= 10:
            base = state.baseline or Baseline()
            files = changed_files(layout.workspace, base.head, ctx.state_exclude, base.preexisting)
            live["files"], live["files_at"] = files, elapsed
            live["plan"] = read_plan_progress(layout)
        spent = gates.Spent.of_run(state, 0.0)
        cost = ctx.cost_of(usage or TokenUsage())
        ctx.reporter.heartbeat(
            Live(
                iteration,
                label,
                elapsed,
                gates.last_iteration(state, ctx.settings),
                live["plan"],
                live["files"],
                spent.tokens + (usage.total if usage else 0),
                None if cost is None else spent.cost_usd + cost,
            )
        )

    request = agent_request(
        layout, ctx.settings, role, iteration, label, prompt_file, prompt, ctx.signals.cancelled, started, tick
    )
    request = replace(request, on_note=lambda text: ctx.reporter.info(f"#{iteration} {label} · codex says: {text}"))
    ctx.reporter.call_started(iteration, label, state.goal if role is not Role.PLANNER else None)
    try:
        result = ctx.runner.run(request)
    finally:
        forget_agent(layout.agent_file)
    atomic_write_text(run_dir / "final_message.txt", result.final_message)
    outcome = result.failure.value if result.failure is not FailureKind.NONE else f"exit {result.exit_code}"
    ctx.reporter.call_finished(iteration, label, "cancelled" if result.cancelled else outcome, result.duration_sec)
    return replace(result, argv=result.argv or ctx.runner.describe(request))
