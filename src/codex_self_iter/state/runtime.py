"""The persisted loop state (runtime.json): what a restarted loop resumes from."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from codex_self_iter.outcome import StopReason
from codex_self_iter.state.call_record import CallRecord, CallUsage
from codex_self_iter.state.fsio import atomic_write_json, read_json, set_aside
from codex_self_iter.state.records import ChecksRecord, ReviewRecord

GOAL_HISTORY_KEEP = 20


class Streaks(BaseModel):
    """Consecutive-event counters that the gates read."""

    model_config = ConfigDict(extra="ignore")

    agent_failures: int = 0
    invalid_outputs: int = 0
    no_change: int = 0
    blocked: int = 0
    planner_stops: int = 0
    false_completions: int = 0
    stagnation: int = 0
    usage_limits: int = 0


class Baseline(BaseModel):
    """The workspace and checks before iteration 1 of this episode."""

    model_config = ConfigDict(extra="ignore")

    fingerprint: str = ""
    head: str | None = None
    checks_passed: bool | None = None
    checks_summary: str = ""
    recorded_at: float = 0.0
    # Files already edited or untracked before the run (e.g. what `init` wrote): path -> content digest.
    preexisting: dict[str, str] = Field(default_factory=dict)


class Totals(BaseModel):
    """Sums over the whole history of this state dir."""

    model_config = ConfigDict(extra="ignore")

    agent_calls: int = Field(default=0, ge=0)
    agent_seconds: float = 0.0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_output_tokens: int = 0
    cost_usd: float = 0.0  # from the model's price; calls of a model without a price add nothing

    @property
    def tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    def with_record(self, record: CallRecord) -> Totals:
        """These totals plus one journal record's calls: the journal and the totals add up the same figures."""
        usage = record.usage or CallUsage()
        return Totals(
            cost_usd=round(self.cost_usd + (record.cost_usd or 0.0), 6),
            agent_calls=self.agent_calls + record.calls,
            agent_seconds=round(self.agent_seconds + record.duration_sec, 3),
            input_tokens=self.input_tokens + usage.input_tokens,
            cached_input_tokens=self.cached_input_tokens + usage.cached_input_tokens,
            output_tokens=self.output_tokens + usage.output_tokens,
            reasoning_output_tokens=self.reasoning_output_tokens + usage.reasoning_output_tokens,
        )


class RuntimeState(BaseModel):
    """Everything the loop needs to pick up where it left off."""

    # No inf/NaN: a corrupt "backoff_until": Infinity would otherwise make a resumed loop wait forever.
    model_config = ConfigDict(extra="ignore", validate_assignment=True, allow_inf_nan=False)

    version: int = 1
    iteration: int = Field(default=0, ge=0, le=2**31)
    goal: str | None = None
    goal_history: list[str] = Field(default_factory=list)
    task_hash: str | None = None
    replan_reason: str | None = None
    replanned_for_stagnation: bool = False
    streaks: Streaks = Field(default_factory=Streaks)
    backoff_until: float = Field(default=0.0, ge=0)
    backoff_reason: str = ""
    usage_wait_total_sec: float = 0.0
    baseline: Baseline | None = None
    last_fingerprint: str | None = None
    last_claim_fingerprint: str | None = None
    last_checks: ChecksRecord | None = None
    last_review: ReviewRecord | None = None
    last_summary: str = ""
    config_digest: str | None = None
    totals: Totals = Field(default_factory=Totals)
    run_first_iteration: int = Field(default=0, ge=0)
    run_first_tokens: int = 0
    run_first_cost_usd: float = 0.0
    completed: bool = False
    task: str | None = None  # the task file this episode works on (task queue), else None
    stop_reason: StopReason | None = None
    clean_exit: bool = True
    # Calls the journal has and this state had not counted when the loop was killed: their answers are used
    # in order instead of asking the agent again (see loop/replay.py).
    replay: list[CallRecord] = Field(default_factory=list)

    def set_goal(self, goal: str) -> None:
        """Make goal current and remember it (bounded)."""
        self.goal = goal
        self.goal_history = [*self.goal_history, goal][-GOAL_HISTORY_KEEP:]


def load_runtime(path: Path) -> RuntimeState:
    """The saved state, or a fresh one; a corrupt file is kept aside and reported, never fatal."""
    if not path.exists():
        return RuntimeState()
    data = read_json(path)
    try:
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return RuntimeState.model_validate(data)
    except (ValidationError, ValueError) as exc:
        aside = set_aside(path, time.time())
        kept = f"; kept as {aside.name}" if aside is not None else ""
        reason = str(exc).splitlines()[0]
        print(
            f"codex-self-iter: warning: {path}: unreadable state ({reason}){kept}; starting from fresh counters",
            file=sys.stderr,
        )
        return RuntimeState()


def save_runtime(path: Path, state: RuntimeState) -> None:
    """Write the state atomically."""
    atomic_write_json(path, state.model_dump(mode="json"), durable=True)
