"""The built-in agent runner: `codex exec --json` per call, optional per-role thread resume, classified failures."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from codex_self_iter.agent.control import json_schema
from codex_self_iter.agent.kinds import FailureKind, Role
from codex_self_iter.agent.types import AgentRequest, AgentResult, Checkup
from codex_self_iter.codex import TESTED_CODEX_VERSION
from codex_self_iter.codex.argv import check_supported, fresh_argv, resume_argv
from codex_self_iter.codex.binary import find_codex
from codex_self_iter.codex.call import Attempt, run_attempt, set_aside
from codex_self_iter.codex.checkup import codex_checkup
from codex_self_iter.codex.events import usage_delta
from codex_self_iter.codex.failures import Failure, classify, thread_missing
from codex_self_iter.codex.pricing import codex_model
from codex_self_iter.codex.probe import CodexProbe, probe_codex
from codex_self_iter.codex.settings import CodexSettings
from codex_self_iter.codex.threads import ThreadRecord, ThreadStore, rotation_reason
from codex_self_iter.errors import UserError
from codex_self_iter.state.fsio import atomic_write_json

CALL_FILE = "codex_call.json"
RESUME_FAILED_PREFIX = "resume-failed."


class CodexRunner:
    """Runs one `codex exec` per agent call; never leaves a codex process behind (see process.run_process)."""

    name = "codex"

    def __init__(
        self,
        settings: CodexSettings | None = None,
        *,
        state_dir: Path | None = None,
        env: Mapping[str, str] | None = None,
        announce: TextIO | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings or CodexSettings()
        self._state_dir = state_dir  # where codex_threads.json lives; None: each request's state_dir
        self._env = env  # None: codex inherits this process's environment unchanged
        self._announce = announce
        self._clock = clock
        self._probe: CodexProbe | None = None
        self._model = codex_model(self.settings, os.environ if env is None else env)
        self._last_stall: str | None = None

    @property
    def unsandboxed(self) -> bool:
        """True when codex runs without a sandbox (bypass or danger-full-access); record it in status.json."""
        return self.settings.unsandboxed

    @property
    def probe(self) -> CodexProbe | None:
        """The probe of the installed codex, once `prepare` has run."""
        return self._probe

    def status_fields(self) -> dict[str, Any]:
        """Facts about the agent for status.json: codex version and path, sandbox, bypass, resumed roles."""
        return {
            "agent": self.name,
            "codex_binary": self._probe.binary if self._probe else None,
            "codex_version": self._probe.version if self._probe else None,
            "codex_tested_version": TESTED_CODEX_VERSION,
            "sandbox": "danger-full-access" if self.unsandboxed else self.settings.sandbox,
            "bypass": self.settings.bypass,
            "unsandboxed": self.unsandboxed,
            "resume_roles": [role.value for role in self.settings.resume],
            "model": self._model[0],
            "model_source": self._model[1],
        }

    def prepare(self) -> CodexProbe:
        """Find and probe codex once per run; a UserError (exit 1) when it is missing or lacks a needed flag."""
        if self._probe is None:
            env = os.environ if self._env is None else self._env
            binary = find_codex(self.settings.binary, env)
            probe = probe_codex(binary, env=self._env, timeout_sec=self.settings.probe_timeout_sec)
            check_supported(self.settings, probe)
            self._probe = probe
            self._say_once(probe)
        return self._probe

    @property
    def prompt_on_stdin(self) -> bool:
        """codex exec reads the prompt from stdin."""
        return True

    def preflight(self) -> list[str]:
        """Whether the codex binary can be found (no codex call)."""
        try:
            find_codex(self.settings.binary, self._env)
        except UserError as exc:
            return [str(exc)]
        return []

    def checkup(self, runs_agent: bool = True) -> Checkup:
        """doctor's lines: codex found and its version, the sandbox (when it runs the agent), the login."""
        return codex_checkup(self.settings, self._env, runs_agent)

    def describe(self, request: AgentRequest) -> list[str]:
        """The argv `run` would execute next for this request (no codex call; for --dry-run)."""
        try:
            binary = self._probe.binary if self._probe else find_codex(self.settings.binary, self._env)
        except UserError:
            binary = "codex"
        record, _ = self._thread_for(request.role, self._store(request))
        return self._argv(binary, request, record)

    def run(self, request: AgentRequest) -> AgentResult:
        """Run codex for one agent call; failures come back classified, never raised."""
        started = time.monotonic()
        try:
            probe = self.prepare()
            _check_workspace(request.workspace)
        except UserError as exc:
            return AgentResult("", None, 0.0, failure=FailureKind.FATAL, failure_message=str(exc))
        record, rotation = self._thread_for(request.role, self._store(request))
        attempt = self._attempt(probe.binary, request, record, request.timeout_sec, 0.0)
        fallback = False
        if record is not None and thread_missing(attempt.facts):
            # Codex lost the thread (CODEX_HOME wiped, sessions pruned): carry on in a fresh one.
            set_aside(request.run_dir, RESUME_FAILED_PREFIX)
            self._store(request).drop(request.role)
            elapsed = time.monotonic() - started
            record, fallback = None, True
            attempt = self._attempt(probe.binary, request, None, max(1.0, request.timeout_sec - elapsed), elapsed)
        failure = self._repeated_stall(classify(attempt.facts, datetime.fromtimestamp(self._clock()).astimezone()))
        result = self._result(request, attempt, record, failure, time.monotonic() - started)
        self._remember_thread(request.role, self._store(request), attempt, record, failure)
        atomic_write_json(request.run_dir / CALL_FILE, _call_record(result, attempt, record, rotation, fallback))
        return result

    def _repeated_stall(self, failure: Failure) -> Failure:
        """The same stall cause twice in a row is a setup problem (no network, no login), not bad luck."""
        previous, self._last_stall = self._last_stall, failure.stall_cause
        if failure.stall_cause is None or failure.stall_cause != previous:
            return failure
        return Failure(FailureKind.FATAL, f"{failure.message} (the same stall twice in a row: check network and login)")

    def _attempt(
        self, binary: str, request: AgentRequest, record: ThreadRecord | None, timeout: float, offset: float
    ) -> Attempt:
        argv = self._argv(binary, request, record)
        schema = self._schema_file(request, resumed=record is not None)
        if schema is not None and not schema.exists():
            atomic_write_json(schema, json_schema(request.role))  # normally the loop has written it already
        previous = record.usage if record is not None else None
        return run_attempt(
            argv,
            request,
            env=self._env,
            previous=previous,
            timeout_sec=timeout,
            elapsed_offset=offset,
            grace_sec=self.settings.turn_grace_sec,
            stall_sec=self.settings.stall_timeout_sec,
        )

    def _argv(self, binary: str, request: AgentRequest, record: ThreadRecord | None) -> list[str]:
        schema = self._schema_file(request, resumed=record is not None)
        last_message = request.run_dir / "last_message.txt"
        if record is None:
            return fresh_argv(
                binary, self.settings, workspace=request.workspace, last_message=last_message, schema=schema
            )
        return resume_argv(
            binary,
            self.settings,
            record.thread_id,
            workspace=request.workspace,
            last_message=last_message,
            schema=schema,
        )

    def _schema_file(self, request: AgentRequest, *, resumed: bool) -> Path | None:
        if not self.settings.output_schema:
            return None
        if resumed and self._probe is not None and not self._probe.supports("--output-schema", resume=True):
            return None  # older codex: resume without a schema; the loop validates the block itself anyway
        return request.schema_file

    def _store(self, request: AgentRequest) -> ThreadStore:
        return ThreadStore(self._state_dir or request.state_dir)

    def _thread_for(self, role: Role, store: ThreadStore) -> tuple[ThreadRecord | None, str | None]:
        """The thread to resume for the role (None: start fresh) and, when one was retired, why."""
        if role not in self.settings.resume:
            return None, None
        record = store.get(role)
        reason = rotation_reason(record, self.settings) if record is not None else None
        # A retired record is simply not resumed; the next successful fresh call overwrites it.
        return (None, reason) if reason is not None else (record, None)

    def _result(
        self, request: AgentRequest, attempt: Attempt, record: ThreadRecord | None, failure: Failure, duration: float
    ) -> AgentResult:
        events = attempt.events
        previous = record.usage if record is not None and record.thread_id == events.thread_id else None
        usage = usage_delta(events.usage, previous) if events.usage is not None else None
        return AgentResult(
            final_message=attempt.final_message,
            exit_code=attempt.process.exit_code,
            duration_sec=duration,
            timed_out=attempt.process.timed_out,
            cancelled=attempt.process.cancelled,
            failure=failure.kind,
            failure_message=failure.message,
            retry_at=failure.retry_at,
            usage=usage,
            thread_id=events.thread_id,
            commands_run=events.commands_run,
            files_changed=[_relative(path, request.workspace) for path in events.files_changed],
            argv=attempt.argv,
        )

    def _remember_thread(
        self, role: Role, store: ThreadStore, attempt: Attempt, record: ThreadRecord | None, failure: Failure
    ) -> None:
        if role not in self.settings.resume:
            return
        events = attempt.events
        if failure.thread_full:
            store.drop(role)
        elif failure.kind is FailureKind.NONE and events.thread_id and events.usage is not None:
            same = record is not None and record.thread_id == events.thread_id
            turns = record.turns + 1 if same and record is not None else 0
            store.put(role, ThreadRecord(events.thread_id, turns, events.usage, self._clock()))

    def _say_once(self, probe: CodexProbe) -> None:
        out = self._announce or sys.stderr
        warning = self.settings.safety_warning()
        if warning:
            out.write(f"codex-self-iter: WARNING: {warning}\n")
        if not probe.is_tested_version:
            version = probe.version or "(unknown version)"
            out.write(f"codex-self-iter: note: codex {version} at {probe.binary}; tested with {TESTED_CODEX_VERSION}\n")
        out.flush()


def _check_workspace(workspace: Path) -> None:
    if not workspace.is_dir():
        raise UserError(f"{workspace}: workspace is not a directory")


def _relative(path: str, workspace: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(workspace.resolve()))
    except (ValueError, OSError):
        return path


def _call_record(
    result: AgentResult, attempt: Attempt, record: ThreadRecord | None, rotation: str | None, fallback: bool
) -> dict[str, Any]:
    return {
        "argv": result.argv,
        "mode": "resume" if record is not None else "fresh",
        "resumed_thread_id": record.thread_id if record is not None else None,
        "rotated_because": rotation,
        "resume_fallback": fallback,
        "thread_id": result.thread_id,
        "exit_code": result.exit_code,
        "failure": result.failure.value,
        "failure_message": result.failure_message,
        "retry_at": result.retry_at,
        "usage": asdict(result.usage) if result.usage is not None else None,
        "thread_usage_cumulative": asdict(attempt.events.usage) if attempt.events.usage is not None else None,
        "warnings": attempt.events.warnings,
    }
