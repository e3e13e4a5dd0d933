"""The status.json snapshot: one typed model for the loop that writes it and the commands that read it."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field

from codex_self_iter.outcome import StopReason
from codex_self_iter.state.fsio import read_json
from codex_self_iter.state.records import ChecksRecord, ReviewRecord
from codex_self_iter.state.runtime import Baseline, Streaks, Totals

STATUS_SCHEMA_VERSION = 1


class Phase(StrEnum):
    """What the loop is doing, as it last wrote it."""

    STARTING = "starting"
    RUNNING = "running"
    BACKING_OFF = "backing_off"
    STOPPED = "stopped"
    COMPLETE = "complete"
    CRASHED = "crashed"


LIVE_PHASES = (Phase.STARTING, Phase.RUNNING, Phase.BACKING_OFF)


class StatusTotals(Totals):
    """The run totals, with their token sum spelled out for readers."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens


class PlanProgress(BaseModel):
    """The plan's Markdown checklist: items checked (`- [x]`) of all items."""

    done: int
    total: int


class StatusSnapshot(BaseModel):
    """status.json. The loop writes every field; readers accept a partial file (each field has a default)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    schema_version: int = Field(default=STATUS_SCHEMA_VERSION, alias="schema")
    version: str = ""
    state: Phase | None = None
    pid: int | None = None
    agent_pid: int | None = None
    role: str | None = None  # the running call's label, e.g. "executor" or "executor-repair"
    call_iteration: int | None = None
    call_started_at: float | None = None
    iteration: int = 0
    last_iteration: int | None = None  # where this run's max_iterations ends it; None without that budget
    plan: PlanProgress | None = None
    task: str | None = None  # the task file of this episode (task queue), else None
    goal: str | None = None
    goal_history: list[str] = []
    streaks: Streaks = Field(default_factory=Streaks)
    backoff_until: float | None = None
    backoff_reason: str | None = None
    totals: StatusTotals = Field(default_factory=StatusTotals)
    model: str | None = None  # the model the runner uses, when it says
    cost_usd: float | None = None  # totals.cost_usd, or None when the model's price (or the usage) is unknown
    baseline: Baseline | None = None
    last_checks: ChecksRecord | None = None
    last_review: ReviewRecord | None = None
    last_summary: str = ""
    stop_reason: StopReason | None = None
    stop_detail: str | None = None
    exit_code: int | None = None
    started_at: float | None = None
    updated_at: float | None = None
    elapsed_sec: float | None = None
    workspace: str = ""
    state_dir: str = ""
    runner: str = ""
    agent: dict[str, Any] = {}  # the runner's own facts (AgentRunner.status_fields), different per backend
    bypass_sandbox: bool = False
    checks: list[str] = []
    checks_source: str = ""
    config_file: str | None = None
    written_at: str = ""

    def to_json(self) -> dict[str, Any]:
        """The JSON object written to status.json."""
        return self.model_dump(mode="json", by_alias=True)


def read_snapshot(path: Path) -> tuple[StatusSnapshot | None, str]:
    """The snapshot at path; None when there is none, with the reason when it cannot be read."""
    if not path.exists():
        return None, ""
    data = read_json(path)
    if not isinstance(data, dict):
        return None, "unreadable status (not a JSON object)"
    try:
        return StatusSnapshot.model_validate(data), ""
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        return None, f"unreadable status ({where}: {error['msg']})"
