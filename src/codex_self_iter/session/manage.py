"""`session status` and `session cancel`: find this workspace's contract, show it, end it."""

from __future__ import annotations

import argparse
import time
from typing import Any

from filelock import FileLock, Timeout

from codex_self_iter.commands.target import locate
from codex_self_iter.errors import StateError, UserError
from codex_self_iter.session.contract import Contract, SessionState, archive, save_state
from codex_self_iter.session.custody import current
from codex_self_iter.session.layout import SessionPaths
from codex_self_iter.session.requests import read_cancel, stop_request, write_cancel
from codex_self_iter.state.journal import Journal
from codex_self_iter.state.records import ChecksRecord

CANCEL_LOCK_WAIT_SEC = 15.0


def session_paths(workspace: str) -> SessionPaths:
    """The session dir of the workspace (its config's state_dir, else the default)."""
    args = argparse.Namespace(workspace=workspace, task_file=None, plan_file=None, state_dir=None, config=None)
    return SessionPaths.of(locate(args))


def load_current(paths: SessionPaths) -> tuple[Contract, SessionState, bool]:
    """The contract, its state and whether it waits in the workspace for the hook; a UserError when there is none."""
    found = current(paths)
    if found is None:
        raise UserError(
            f"{paths.root}: no in-session contract here; start one with "
            "`codex-self-iter session start --objective TEXT` (or pass --workspace)"
        )
    return found


def status_view(paths: SessionPaths, contract: Contract, state: SessionState, waiting: bool) -> dict[str, Any]:
    """Everything `session status --json` prints (waiting: the contract is still in the workspace, for the hook)."""
    pending = read_cancel(paths) if state.active else ""
    stop = stop_request(contract) if state.active else ""
    return {
        "state": state.status,
        "reason": state.reason or None,
        "message": state.message or None,
        "cancel_requested": pending or None,
        "stop_requested": stop or None,
        "contract_id": contract.id,
        "objective": contract.objective,
        "workspace": contract.workspace,
        "bound_session": state.bound_session or None,
        "bound_by": state.bound_by or None,
        "iteration": state.blocks,
        "max_iterations": contract.max_iterations,
        "max_no_change": contract.max_no_change,
        "same_failures": state.same_failures,
        "stops": state.stops,
        "claims": state.claims,
        "completion_promise": contract.completion_promise,
        "checks": [check.spec().command for check in contract.checks],
        "checks_source": contract.checks_source,
        "baseline": contract.baseline.model_dump(mode="json"),
        "protected_files": contract.protected_files,
        "allow_test_changes": contract.allow_test_changes,
        "last_checks": _public_checks(state.last_checks),
        "created_at": contract.created_at,
        "updated_at": state.updated_at or None,
        "ended_at": state.ended_at,
        "journal": str(paths.journal),
        "contract_file": str(paths.in_workspace(paths.contract) if waiting else paths.contract),
    }


def status_lines(view: dict[str, Any]) -> list[str]:
    """The human form of status_view."""
    bound = view["bound_session"] or "not yet (the first Codex session that stops in this workspace)"
    lines = [
        f"in-session mode: {view['state']}"
        + (f" ({view['reason']})" if view["reason"] not in (None, view["state"]) else ""),
        f"  objective: {view['objective']}",
        f"  codex session: {bound}",
        f"  continuations: {view['iteration']} of {view['max_iterations']}; stops seen: {view['stops']}; "
        f"claims: {view['claims']}",
        f"  checks ({view['checks_source']}): " + "; ".join(view["checks"]),
        f"  baseline: {view['baseline']['checks_summary']}",
    ]
    if view["last_checks"]:
        lines.append(f"  last checks: {view['last_checks']['summary']}")
    for key in ("message", "cancel_requested", "stop_requested"):
        if view[key]:
            lines.append(f"  {key.replace('_', ' ')}: {view[key]}")
    return lines


def cancel_session(paths: SessionPaths, reason: str) -> str:
    """End the active contract (or, while the hook holds it, leave a request it honours); returns what happened."""
    contract, state, _ = load_current(paths)
    if not state.active:
        return f"nothing to cancel: the contract already ended ({state.status})"
    who = write_cancel(paths, reason)  # seen at once by a check run in progress
    try:
        with FileLock(str(paths.lock), timeout=CANCEL_LOCK_WAIT_SEC):
            contract, state, pending = load_current(paths)
            if not state.active:
                paths.cancel_request.unlink(missing_ok=True)
                return f"the contract ended meanwhile ({state.status})"
            full = read_cancel(paths) or reason
            state.status, state.reason, state.ended_at = "cancelled", "cancelled", time.time()
            state.message = f"codex-self-iter: in-session mode cancelled: {full}; releasing this session"
            state.notified = not state.bound_session  # the bound session is told at its next stop
            save_state(paths, state, path=paths.in_workspace(paths.state) if pending else None)
            archive(paths, contract, state)
            paths.cancel_request.unlink(missing_ok=True)
    except Timeout:
        Journal(paths.journal).record("cancel_requested", contract_id=contract.id, reason=reason, by=who)
        return "cancel requested: the Stop hook is running the checks; it releases the session when they end"
    except StateError:  # private state is not writable from here (Codex's sandbox): the hook honours the request
        Journal(paths.journal).record("cancel_requested", contract_id=contract.id, reason=reason, by=who)
        return "cancel requested: the Stop hook releases the session at its next stop"
    Journal(paths.journal).record("cancelled", contract_id=contract.id, reason=reason, by=who)
    if state.bound_session:
        return f"cancelled; Codex session {state.bound_session} is released at its next stop"
    return "cancelled"


def _public_checks(record: ChecksRecord | None) -> dict[str, Any] | None:
    return record.model_dump(mode="json", exclude={"prompt_text"}) if record is not None else None
