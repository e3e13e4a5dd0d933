"""Agent calls as a ledger: each finished call is journalled (and counted) once, and never asked twice.

A call's journal record is written the moment the call is done; runtime.json is saved at the end of a step. A
kill -9 between the two leaves calls the journal has and the saved state does not. The next run rolls the
state forward from the journal (`recover`): it adds those calls to the totals, and queues their answers, which
`take_replay` hands back in place of the same calls when the iteration runs again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from pydantic import ValidationError

from codex_self_iter.agent.control import MODELS, ControlBlock
from codex_self_iter.agent.kinds import FailureKind, Role, TokenUsage
from codex_self_iter.agent.types import AgentResult
from codex_self_iter.loop.context import LoopContext
from codex_self_iter.state.call_record import EVENT, CallRecord, CallUsage, uncommitted_calls
from codex_self_iter.state.fsio import atomic_write_json
from codex_self_iter.state.runtime import RuntimeState

INVALID_OUTPUT = "invalid_output"


@dataclass(frozen=True)
class CallOutcome:
    """A validated block, or the failure that prevented one."""

    block: ControlBlock | None
    result: AgentResult
    failure: FailureKind | str
    error: str = ""
    repaired: bool = False
    before: str | None = None  # replayed: the executor's workspace fingerprint from before the original call

    @property
    def ok(self) -> bool:
        """True when a valid control block came back."""
        return self.block is not None


@dataclass(frozen=True)
class Note:
    """Writes a call's record: the totals and the journal count the same attempts."""

    ctx: LoopContext
    state: RuntimeState
    iteration: int
    role: Role
    before: str | None = None

    def record(self, outcome: CallOutcome, attempts: list[AgentResult]) -> CallOutcome:
        """Count the attempts, then journal them as one record (the order a restart relies on)."""
        result, block = outcome.result, outcome.block
        usage = TokenUsage()
        for attempt in attempts:
            usage = usage.plus(attempt.usage or TokenUsage())
        known = any(attempt.usage for attempt in attempts)
        cost = self.ctx.cost_of(usage if known else None)
        answer: dict[str, Any] = {}  # the control block's own fields ride along (CallRecord.block_fields)
        if block is not None:
            answer = block.model_dump(exclude={"reasons", "evidence"})
            answer["details"] = block.model_dump(include={"reasons", "evidence"})
            run_dir = self.ctx.layout.run_dir(self.iteration, self.role.value)
            atomic_write_json(run_dir / "control.json", block.model_dump())
        record = CallRecord(
            iteration=self.iteration,
            role=self.role.value,
            seq=self.state.totals.agent_calls + len(attempts),
            calls=len(attempts),
            exit_code=result.exit_code,
            duration_sec=round(sum(attempt.duration_sec for attempt in attempts), 3),
            timed_out=result.timed_out,
            cancelled=result.cancelled,
            failure=str(outcome.failure) if not outcome.ok else None,
            error=outcome.error or None,
            repaired=outcome.repaired,
            tokens=usage.total if known else None,
            cost_usd=None if cost is None else round(cost, 6),
            usage=CallUsage(**usage.__dict__) if known else None,
            thread_id=result.thread_id,
            files_changed=len(result.files_changed) or None,
            workspace_before=self.before,
            **answer,
        )
        self.state.totals = self.state.totals.with_record(record)
        self.ctx.journal.record(EVENT, **record.model_dump())
        return outcome


def recover(ctx: LoopContext, state: RuntimeState) -> None:
    """After an unclean exit: count the journalled calls the saved state missed, and queue their answers."""
    found = uncommitted_calls(ctx.layout.journal, state.totals.agent_calls)
    if not found:
        return
    for record in found:
        state.totals = state.totals.with_record(record)
    state.replay = [*state.replay, *(r for r in found if not r.cancelled)]
    ctx.journal.record("calls_recovered", seqs=[r.seq for r in found], replay=len(state.replay))
    ctx.reporter.warn(
        f"{len(found)} agent call(s) had finished before the loop was killed; counted, and their answers are "
        "used instead of asking again"
    )


def take_replay(ctx: LoopContext, state: RuntimeState, iteration: int, role: Role) -> CallOutcome | None:
    """The recovered answer for this call, when the resumed loop asks the same call again; else None."""
    if not state.replay:
        return None
    record = state.replay[0]
    if (record.iteration, record.role) != (iteration, role.value):
        ctx.journal.record("replay_dropped", iteration=iteration, role=role.value, seqs=[r.seq for r in state.replay])
        state.replay = []  # the resumed loop took another path (the task changed, say): ask afresh
        return None
    state.replay = state.replay[1:]
    block = _block(role, record) if record.failure is None else None
    if record.failure is None and block is None:
        state.replay = []  # an edited record that no longer validates: ask afresh
        return None
    failure = FailureKind.NONE if record.failure is None else _failure(record.failure)
    result = AgentResult(
        final_message="",
        exit_code=record.exit_code,
        duration_sec=record.duration_sec,
        timed_out=record.timed_out,
        failure=failure if isinstance(failure, FailureKind) else FailureKind.NONE,
        failure_message=record.error or "",
        usage=record.usage.tokens() if record.usage else None,
        thread_id=record.thread_id,
    )
    ctx.journal.record("call_replayed", iteration=iteration, role=role.value, seq=record.seq)
    ctx.reporter.info(f"#{iteration} {role.value}: using the answer recorded before the loop was killed")
    return CallOutcome(block, result, failure, record.error or "", record.repaired, record.workspace_before)


def _block(role: Role, record: CallRecord) -> ControlBlock | None:
    try:
        return cast(ControlBlock, MODELS[role].model_validate(record.block_fields()))
    except ValidationError:
        return None


def _failure(text: str) -> FailureKind | str:
    try:
        return FailureKind(text)
    except ValueError:
        return text
