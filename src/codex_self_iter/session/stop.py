"""The slow path of the Stop hook: under the contract's lock, bind the session, observe, decide, record."""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from codex_self_iter.checks.protected import ProtectedSnapshot, find_tampering
from codex_self_iter.checks.report import CheckReport
from codex_self_iter.checks.run import run_checks
from codex_self_iter.session.contract import (
    TERMINAL,
    Contract,
    SessionState,
    archive,
    load_state,
    save_state,
)
from codex_self_iter.session.custody import settle
from codex_self_iter.session.decide import Allow, Block, Observation, Release, Verdict, decide, early_exit, is_claim
from codex_self_iter.session.hook_input import HookInput
from codex_self_iter.session.layout import SessionPaths
from codex_self_iter.session.requests import read_cancel, stop_request
from codex_self_iter.state.fsio import atomic_write_text
from codex_self_iter.state.journal import Journal
from codex_self_iter.workspace.fingerprint import take_fingerprint

LOCK_WAIT_SEC = 90.0  # a wait plus a whole check run (CHECK_BUDGET_SEC) stays inside the hook's 600 s timeout


def decide_stop(found: tuple[str, str], hook: HookInput) -> dict[str, Any] | None:
    """The hook's answer for this stop (None: allow silently); found: the workspace and private session dirs."""
    paths = SessionPaths(Path(found[0]), Path(found[1]))
    journal = Journal(paths.journal)
    key = event_key(hook)
    if key and _read_text(paths.current_event) == key:
        # The same stop event, being judged right now: the hook is installed twice (plugin and hooks.json).
        journal.record("duplicate_event", session=hook.session_id)
        return None
    try:
        with FileLock(str(paths.lock), timeout=LOCK_WAIT_SEC):
            contract, note = settle(paths, journal)
            return with_note(_locked(paths, contract, journal, hook, key), note)
    except Timeout:
        journal.record("hook_busy", session=hook.session_id)
        return {
            "systemMessage": f"codex-self-iter: another hook run held {paths.lock} for {LOCK_WAIT_SEC:g}s; "
            "this stop is allowed"
        }


def with_note(output: dict[str, Any] | None, note: str) -> dict[str, Any] | None:
    """The answer with one line saying the workspace's contract was not obeyed (first in the reason or message)."""
    if not note:
        return output
    if output is None:
        return {"systemMessage": note}
    key = "reason" if "reason" in output else "systemMessage"
    return {**output, key: f"{note}\n\n{output[key]}"}


def _locked(
    paths: SessionPaths, contract: Contract, journal: Journal, hook: HookInput, key: str
) -> dict[str, Any] | None:
    state = load_state(paths, contract.id)
    if state.active and not state.bound_session:
        if not hook.identified:
            return None
        state.bound_session = contract.started_in_session or hook.session_id
        state.bound_by = "session start inside Codex" if contract.started_in_session else "first stop"
        save_state(paths, state)
        journal.record("bound", contract_id=contract.id, session=state.bound_session, by=state.bound_by)
    if state.bound_session != hook.session_id:
        return None
    if key and key == state.last_event_key:  # the second copy of the hook, after the first one finished
        journal.record("duplicate_event", contract_id=contract.id, session=hook.session_id)
        return None
    if key:
        atomic_write_text(paths.current_event, key)
    verdict = _verdict(paths, contract, journal, hook, state)
    verdict.state.last_event_key = key
    save_state(paths, verdict.state)
    if verdict.state.status in TERMINAL and state.active:
        archive(paths, contract, verdict.state)
    if verdict.state.status == "cancelled":
        with contextlib.suppress(OSError):
            paths.cancel_request.unlink()
    journal.record(
        verdict.event,
        contract_id=contract.id,
        session=hook.session_id,
        turn=hook.turn_id,
        stop_hook_active=hook.stop_hook_active,
        blocks=verdict.state.blocks,
        decision=type(verdict.decision).__name__.lower(),
        message=getattr(verdict.decision, "message", "") or getattr(verdict.decision, "note", ""),
        **verdict.fields,
    )
    return answer(verdict)


def _verdict(
    paths: SessionPaths, contract: Contract, journal: Journal, hook: HookInput, state: SessionState
) -> Verdict:
    def observe(**more: Any) -> Observation:
        return Observation(now=time.time(), stop_file=stop_request(contract), cancel=read_cancel(paths), **more)

    early = early_exit(contract, hook, state, observe())
    if early is not None:
        return early
    workspace = Path(contract.workspace)
    claimed = is_claim(hook.last_assistant_message, contract.completion_promise)
    report: CheckReport | None = None
    tampering: tuple[str, ...] = ()
    if claimed:
        report = _run_checks(paths, contract)
        tampering = _tampering(paths, contract, journal)
    fingerprint = take_fingerprint(workspace, contract.state_dir_in_workspace).digest
    obs = observe(claimed=claimed, report=report, tampering=tampering, fingerprint=fingerprint)
    return decide(contract, hook, obs, state)


def _run_checks(paths: SessionPaths, contract: Contract) -> CheckReport:
    """The contract's checks, all ending within check_budget_sec (and early on STOP or cancel)."""
    deadline = time.monotonic() + contract.check_budget_sec
    specs = [check.spec() for check in contract.checks]

    def cancel() -> bool:
        return time.monotonic() > deadline or bool(stop_request(contract)) or paths.cancel_request.exists()

    return run_checks(specs, Path(contract.workspace), paths.checks_dir, cancel=cancel)


def _tampering(paths: SessionPaths, contract: Contract, journal: Journal) -> tuple[str, ...]:
    """How the protected tests were weakened since `session start` (allow_test_changes: recorded only)."""
    snapshot = ProtectedSnapshot.load(paths.protected)
    if snapshot is None:
        found = [f"{paths.protected}: the protected-tests snapshot was deleted or damaged"]
    else:
        found = [str(item) for item in find_tampering(snapshot, Path(contract.workspace))]
    if found and contract.allow_test_changes:
        journal.record("tampering_allowed", contract_id=contract.id, changes=found)
        return ()
    if found:
        journal.record("tampering", contract_id=contract.id, changes=found)
    return tuple(found)


def event_key(hook: HookInput) -> str:
    """Identifies one stop event: the same payload with the transcript unchanged (Codex waits on its hooks)."""
    if not hook.transcript_path:
        return ""
    try:
        info = os.stat(hook.transcript_path)
    except OSError:
        return ""
    parts = [hook.session_id, hook.turn_id, str(hook.stop_hook_active), hook.last_assistant_message]
    parts += [str(info.st_size), str(info.st_mtime_ns)]
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def answer(verdict: Verdict) -> dict[str, Any] | None:
    """Only the keys Codex accepts for Stop."""
    decision = verdict.decision
    if isinstance(decision, Block):
        return {"decision": "block", "reason": decision.prompt}
    if isinstance(decision, Release):
        return {"systemMessage": decision.message}
    assert isinstance(decision, Allow)
    return None
