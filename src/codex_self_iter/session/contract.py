"""The in-session contract (frozen when `session start` records it) and its mutable state, on disk."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from codex_self_iter.checks.run import CheckSpec
from codex_self_iter.errors import StateError
from codex_self_iter.session.layout import SessionPaths
from codex_self_iter.state.fsio import append_jsonl, atomic_write_json, read_json
from codex_self_iter.state.records import ChecksRecord
from codex_self_iter.state.runtime import Baseline

Status = Literal["active", "complete", "released", "stopped", "cancelled"]
TERMINAL: frozenset[str] = frozenset({"complete", "released", "stopped", "cancelled"})


class ContractCheck(BaseModel):
    """One check of the contract, as the hook runs it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    argv: list[str] = Field(min_length=1)
    shell: bool = False
    source: str = ""
    timeout_sec: float = Field(gt=0)

    @classmethod
    def of(cls, spec: CheckSpec) -> ContractCheck:
        """From a CheckSpec."""
        return cls(name=spec.name, argv=spec.argv, shell=spec.shell, source=spec.source, timeout_sec=spec.timeout_sec)

    def spec(self) -> CheckSpec:
        """Back to a CheckSpec for checks.run."""
        return CheckSpec(self.name, list(self.argv), self.shell, self.source, self.timeout_sec)


class Contract(BaseModel):
    """What `session start` froze: the objective, the checks, the baseline and the caps."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = 1
    id: str = Field(description="Unique per contract, e.g. 20261203T081500-1234.")
    objective: str = Field(min_length=1)
    workspace: str
    checks: list[ContractCheck] = Field(min_length=1)
    checks_source: str = ""
    completion_promise: str = "DONE"
    max_iterations: int = Field(ge=1, description="Blocks (continuations) before the session is released.")
    max_no_change: int = Field(ge=1, description="Blocks with the same failures and an unchanged workspace.")
    check_budget_sec: float = Field(gt=0, description="All checks of one stop end within this.")
    stop_files: list[str] = Field(default_factory=list, description="STOP sentinels that release the session.")
    state_dir_in_workspace: str | None = None
    baseline: Baseline
    protected_files: int = Field(default=0, description="Files the protected-tests snapshot guards.")
    allow_test_changes: bool = Field(default=False, description="Weakened tests are recorded, not blocked.")
    started_in_session: str = Field(default="", description="CODEX_THREAD_ID when started inside Codex.")
    created_at: float = 0.0


class SessionState(BaseModel):
    """The contract's counters and status; rewritten atomically after every hook decision."""

    model_config = ConfigDict(extra="ignore", validate_assignment=True, allow_inf_nan=False)

    contract_id: str = ""
    status: Status = "active"
    bound_session: str = Field(default="", description="The Codex session this contract binds; '' = unclaimed.")
    bound_by: str = ""
    stops: int = 0
    blocks: int = 0
    claims: int = 0
    same_failures: int = 0
    last_signature: str = ""
    last_decision: str = ""
    last_turn: str = ""
    last_event_key: str = ""
    last_checks: ChecksRecord | None = None
    reason: str = ""
    message: str = ""
    notified: bool = False
    cancel_reason: str = ""
    updated_at: float = 0.0
    ended_at: float | None = None

    @property
    def active(self) -> bool:
        """True while the contract can still block this session's stops."""
        return self.status == "active"


def load_contract(paths: SessionPaths) -> Contract:
    """The contract in private state; StateError when it is missing or unreadable."""
    data = read_json(paths.contract)
    try:
        if not isinstance(data, dict):
            raise ValueError("missing, unreadable or not a JSON object")
        return Contract.model_validate(data)
    except (ValidationError, ValueError) as exc:
        reason = str(exc).splitlines()[0]
        raise StateError(f"{paths.contract}: unusable contract ({reason}); start again with `session start`") from exc


def parse_contract(text: str | None) -> Contract | None:
    """A contract from JSON text (the workspace's copy), or None when it is not one."""
    if text is None:
        return None
    try:
        return Contract.model_validate_json(text)
    except ValidationError:
        return None


def load_state(paths: SessionPaths, contract_id: str) -> SessionState:
    """The state of this contract; a missing, corrupt or stale file is a fresh unbound state."""
    data = read_json(paths.state)
    try:
        state = SessionState.model_validate(data) if isinstance(data, dict) else None
    except ValidationError:
        state = None
    if state is None or state.contract_id != contract_id:
        return SessionState(contract_id=contract_id)
    return state


def save_state(paths: SessionPaths, state: SessionState, clock: Any = time.time, path: Path | None = None) -> None:
    """Write the state atomically (durable: a crash must not lose a count); path: a contract still in the workspace."""
    state.updated_at = round(clock(), 3)
    atomic_write_json(path or paths.state, state.model_dump(mode="json"), durable=True)


def archive(paths: SessionPaths, contract: Contract, state: SessionState) -> None:
    """Append an ended (or replaced) contract to history.jsonl."""
    append_jsonl(
        paths.history,
        {
            "contract_id": contract.id,
            "objective": contract.objective,
            "status": state.status,
            "reason": state.reason,
            "message": state.message,
            "bound_session": state.bound_session,
            "stops": state.stops,
            "blocks": state.blocks,
            "claims": state.claims,
            "created_at": contract.created_at,
            "ended_at": state.ended_at,
        },
    )
