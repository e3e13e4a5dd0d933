"""The journal's agent_call record: what one call (with its repair attempt) answered and spent.

The journal is the ledger of agent calls, runtime.json a checkpoint of the loop's state. Each record carries
`seq`, the count of agent processes run up to and including it (`totals.agent_calls` once it is counted), so a
restart after kill -9 can tell which journalled calls the last saved state has not counted yet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from codex_self_iter.agent.kinds import TokenUsage
from codex_self_iter.state.fsio import tail_jsonl

EVENT = "agent_call"
TAIL_RECORDS = 400  # far more than one iteration writes (planner, executor, reviewer, checks, decisions)


class CallUsage(BaseModel):
    """Tokens of one record (the sum over its attempts)."""

    model_config = ConfigDict(extra="ignore")

    input_tokens: int = Field(default=0, ge=0)
    cached_input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    reasoning_output_tokens: int = Field(default=0, ge=0)

    def tokens(self) -> TokenUsage:
        """As the agent contract's usage type."""
        return TokenUsage(**self.model_dump())


class CallRecord(BaseModel):
    """One agent_call line; the control block's own fields ride along as extra keys (see `block_fields`)."""

    model_config = ConfigDict(extra="allow")

    iteration: int = Field(ge=0)
    role: str
    seq: int = Field(default=0, ge=0)
    calls: int = Field(default=1, ge=1, le=2)  # agent processes: 2 when a repair attempt ran
    exit_code: int | None = None
    duration_sec: float = Field(default=0.0, ge=0)  # summed over the attempts
    timed_out: bool = False
    cancelled: bool = False
    failure: str | None = None
    error: str | None = None
    repaired: bool = False
    tokens: int | None = None
    cost_usd: float | None = None
    usage: CallUsage | None = None
    thread_id: str | None = None
    files_changed: int | None = None
    workspace_before: str | None = None  # the executor's fingerprint before the call
    details: dict[str, Any] | None = None

    def block_fields(self) -> dict[str, Any]:
        """The control block as it was validated: the extra keys plus `details` (reasons, evidence)."""
        return {**(self.model_extra or {}), **(self.details or {})}


def uncommitted_calls(journal: Path, committed: int) -> list[CallRecord]:
    """The agent_call records of the last run that a saved `totals.agent_calls` of `committed` does not count.

    Reads back from the end to the last run's "start" record (older runs were counted, or reset by --fresh).
    """
    found: list[CallRecord] = []
    for raw in reversed(tail_jsonl(journal, TAIL_RECORDS)):
        event = raw.get("event")
        if event == "start":
            break
        if event != EVENT:
            continue
        try:
            record = CallRecord.model_validate(raw)
        except ValidationError:
            continue  # an edited line: the saved totals stand for it
        if record.seq <= committed:
            break
        found.append(record)
    found.reverse()
    return found
