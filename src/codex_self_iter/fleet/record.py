"""fleet.json: the fleet's loops, their state and the fleet's settings; written atomically after every change."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from codex_self_iter.errors import UserError
from codex_self_iter.state.fsio import atomic_write_json, read_json

FLEET_FILE = "fleet.json"
LoopState = Literal["queued", "running", "complete", "stopped", "failed", "interrupted", "skipped"]
FINISHED: tuple[LoopState, ...] = ("complete", "stopped", "failed")
"""Loops with a final outcome: a resumed fleet never runs them again. The rest run (again) on `fleet run`."""


class LoopRecord(BaseModel):
    """One loop of the fleet: what it runs, where, and how it went."""

    model_config = ConfigDict(extra="ignore")

    id: str
    repo: str
    task: str | None = None
    state: LoopState = "queued"
    run_id: str | None = None
    """The loop's worktree run (`run --worktree --run <id>` continues it), known once its process made it."""
    workspace: str = ""
    state_dir: str = ""
    branch: str = ""
    log: str = ""
    pid: int | None = None
    pid_start: str | None = None
    """The process's start time in clock ticks (/proc), so a reused pid is not taken for the loop."""
    starts: int = 0
    started_at: float | None = None
    ended_at: float | None = None
    exit_code: int | None = None
    stop_reason: str | None = None
    iteration: int = 0
    tokens: int = 0
    cost_usd: float | None = None
    note: str = ""
    spans: list[list[float]] = Field(default_factory=list)
    """[start, end] of every process of this loop, as the fleet saw them (end 0 while running)."""

    @property
    def key(self) -> str:
        """Identity, the same as LoopSpec.key."""
        return f"{self.repo}:{self.task or ''}"


class Budget(BaseModel):
    """Fleet-wide budgets, summed over every loop's own totals; 0 = none."""

    model_config = ConfigDict(extra="forbid")

    max_total_tokens: int = Field(default=0, ge=0)
    max_cost_usd: float = Field(default=0, ge=0)


class LoopOptions(BaseModel):
    """What every loop of the fleet is started with, besides its own repository and task."""

    model_config = ConfigDict(extra="forbid")

    config: str | None = None
    agent_command_template: str | None = None
    max_iterations: int | None = None


class FleetRecord(BaseModel):
    """The whole fleet."""

    model_config = ConfigDict(extra="ignore")

    version: int = 1
    created_at: float
    parallel: int = Field(default=2, ge=1)
    budget: Budget = Field(default_factory=Budget)
    options: LoopOptions = Field(default_factory=LoopOptions)
    loops: list[LoopRecord] = Field(default_factory=list)
    runner_pid: int | None = None
    stop_reason: str | None = None

    def unfinished(self) -> list[LoopRecord]:
        """Loops that a `fleet run` (still) has to run."""
        return [loop for loop in self.loops if loop.state not in FINISHED]


def load_fleet(fleet_dir: Path) -> FleetRecord | None:
    """The fleet recorded in fleet_dir, None when there is none; a clear error when it is unreadable."""
    path = fleet_dir / FLEET_FILE
    if not path.exists():
        return None
    data = read_json(path)
    try:
        return FleetRecord.model_validate(data)
    except ValidationError as exc:
        raise UserError(f"{path}: not a fleet record ({exc.errors()[0]['msg']}); move it away to start anew") from None


def save_fleet(fleet_dir: Path, fleet: FleetRecord) -> None:
    """Write fleet.json atomically and durably: a fleet killed at any moment resumes from it."""
    atomic_write_json(fleet_dir / FLEET_FILE, fleet.model_dump(mode="json"), durable=True)
