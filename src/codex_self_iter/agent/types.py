"""The contract between the loop and whatever runs the agent: one request in, one result out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from codex_self_iter.agent.kinds import FailureKind, Role, TokenUsage
from codex_self_iter.proc.process import ProcessHandle

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True)
class Finding:
    """One line of `doctor`'s report: ok / warn / fail, and the fix for a problem."""

    level: str  # OK | WARN | FAIL
    what: str
    fix: str = ""


@dataclass(frozen=True)
class Checkup:
    """What `doctor` says about a runner, and the program it found to run (None: not found)."""

    findings: list[Finding]
    program: str | None = None


@dataclass(frozen=True)
class AgentRequest:
    """Everything a runner needs for one agent call."""

    role: Role
    iteration: int
    prompt_file: Path
    prompt_text: str
    workspace: Path
    state_dir: Path
    run_dir: Path  # runs/<n>/<role>[-repair] : the runner writes its captured output here
    schema_file: Path
    timeout_sec: float
    cancel: Callable[[], bool] = lambda: False
    on_start: Callable[[ProcessHandle], None] | None = None
    on_tick: Callable[[float, TokenUsage | None], None] | None = None
    on_note: Callable[[str], None] | None = None  # the agent's own error/reconnect messages, verbatim, as they come


@dataclass(frozen=True)
class AgentResult:
    """What one agent call produced."""

    final_message: str
    exit_code: int | None
    duration_sec: float
    timed_out: bool = False
    cancelled: bool = False
    failure: FailureKind = FailureKind.NONE
    failure_message: str = ""
    retry_at: float | None = None  # epoch seconds, for usage limits that name a reset time
    usage: TokenUsage | None = None
    thread_id: str | None = None
    commands_run: int = 0
    files_changed: list[str] = field(default_factory=list)
    argv: list[str] = field(default_factory=list)


class AgentRunner(Protocol):
    """Runs one agent call; must never leave a process of the call behind."""

    name: str

    @property
    def unsandboxed(self) -> bool:
        """True when the agent runs without a sandbox (recorded in status.json, announced loudly)."""
        ...

    def prepare(self) -> object:
        """Check once per run that the agent can start at all; raise UserError when it cannot."""
        ...

    def status_fields(self) -> dict[str, Any]:
        """Facts about the agent for status.json."""
        ...

    def run(self, request: AgentRequest) -> AgentResult:
        """Run the agent once and return its result."""
        ...

    def describe(self, request: AgentRequest) -> list[str]:
        """The argv that `run` would execute, for --dry-run."""
        ...

    @property
    def prompt_on_stdin(self) -> bool:
        """True when the agent reads its prompt from stdin (else only from the prompt file in its argv)."""
        ...

    def preflight(self) -> list[str]:
        """What would stop this runner, found without starting anything (for --dry-run); [] when nothing would."""
        ...

    def checkup(self, runs_agent: bool = True) -> Checkup:
        """doctor's lines about this runner (its program and version, sandbox, login), found with no agent call.
        runs_agent=False: another runner runs the agent and this one only serves tools (codex for the plugin and
        the in-session hook), so its problems are warnings."""
        ...
