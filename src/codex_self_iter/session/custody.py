"""Who holds the contract: private state decides, the workspace only shows it (or hands over a sandboxed start's).

record(paths, contract, state, snapshot)  # `session start`: private files + a copy in the workspace; False when the
                                          # private dir is not writable (Codex's sandbox): the workspace holds it
contract, note = settle(paths, journal)   # the hook, under the session lock: the contract it obeys, and one line
                                          # when the workspace copy was changed or deleted (restored, not obeyed)
contract, state, pending = current(paths) # `session status|cancel|start`: the contract in force (None: none)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from codex_self_iter.errors import StateError
from codex_self_iter.session.contract import Contract, SessionState, load_contract, load_state, parse_contract
from codex_self_iter.session.layout import SessionPaths
from codex_self_iter.state.fsio import atomic_write_text, make_private_dir, read_json, read_text
from codex_self_iter.state.journal import Journal


def record(paths: SessionPaths, contract: Contract, state: SessionState, snapshot: dict[str, Any]) -> bool:
    """Write a new contract with its state and snapshot; True when they went to private state."""
    files = {paths.contract: _dump(contract.model_dump(mode="json")), paths.state: _dump(state.model_dump(mode="json"))}
    files[paths.protected] = _dump(snapshot)
    try:
        make_private_dir(paths.private)
        for path in (paths.protected, paths.state, paths.contract):  # the contract last: it makes the others count
            atomic_write_text(path, files[path], durable=True)
        private = True
    except (OSError, StateError):  # e.g. Codex's workspace-write sandbox: only the workspace and /tmp are writable
        private = False
    for path in (paths.protected, paths.state):
        target = paths.in_workspace(path)
        if private:
            target.unlink(missing_ok=True)
        else:
            atomic_write_text(target, files[path], durable=True)
    atomic_write_text(paths.in_workspace(paths.contract), files[paths.contract], durable=True)
    return private


def settle(paths: SessionPaths, journal: Journal) -> tuple[Contract, str]:
    """The contract the hook obeys: the private one, or a workspace contract it takes over when none is in force."""
    copy = paths.in_workspace(paths.contract)
    text = _read_text(copy)
    if not paths.contract.exists():
        return _take_over(paths, journal, text), ""
    contract = load_contract(paths)
    if text == _dump(contract.model_dump(mode="json")):
        return contract, ""
    pending = parse_contract(text)
    if pending is not None and pending.id != contract.id and not load_state(paths, contract.id).active:
        return _take_over(paths, journal, text), ""  # a new `session start` after the last contract ended
    how = "changed" if copy.exists() or copy.is_symlink() else "deleted"
    journal.record("contract_not_obeyed", contract_id=contract.id, copy=str(copy), how=how)
    atomic_write_text(copy, _dump(contract.model_dump(mode="json")))
    note = (
        f"codex-self-iter: {copy} was {how} in the workspace; not obeyed: the hook follows the contract "
        f"`session start` recorded in {paths.contract} (the copy is restored)"
    )
    return contract, note


def current(paths: SessionPaths) -> tuple[Contract, SessionState, bool] | None:
    """The contract in force, its state, and whether it still waits in the workspace for the hook to take it over."""
    pending = parse_contract(_read_text(paths.in_workspace(paths.contract)))
    if paths.contract.exists():
        contract = load_contract(paths)
        state = load_state(paths, contract.id)
        if pending is None or pending.id == contract.id or state.active:
            return contract, state, False
    if pending is None:
        return None
    return pending, pending_state(paths, pending.id), True


def pending_state(paths: SessionPaths, contract_id: str) -> SessionState:
    """The state a sandboxed `session start` left in the workspace with its contract (fresh when there is none)."""
    data = read_json(paths.in_workspace(paths.state))
    try:
        state = SessionState.model_validate(data) if isinstance(data, dict) else None
    except ValueError:
        state = None
    return state if state is not None and state.contract_id == contract_id else SessionState(contract_id=contract_id)


def _take_over(paths: SessionPaths, journal: Journal, text: str | None) -> Contract:
    contract = parse_contract(text)
    if contract is None:
        raise StateError(f"{paths.in_workspace(paths.contract)}: unusable contract; start again with `session start`")
    state = pending_state(paths, contract.id)
    make_private_dir(paths.private)
    snapshot = _read_text(paths.in_workspace(paths.protected))
    if snapshot is not None:
        atomic_write_text(paths.protected, snapshot, durable=True)
    else:
        paths.protected.unlink(missing_ok=True)  # never judge a new contract by an old snapshot
    atomic_write_text(paths.state, _dump(state.model_dump(mode="json")), durable=True)
    atomic_write_text(paths.contract, _dump(contract.model_dump(mode="json")), durable=True)
    for path in (paths.protected, paths.state):
        paths.in_workspace(path).unlink(missing_ok=True)
    journal.record("contract_taken_over", contract_id=contract.id, private=str(paths.contract))
    return contract


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _read_text(path: Path) -> str | None:
    """A workspace file the agent may have replaced (by a link or a FIFO too): None unless it is a readable file."""
    try:
        return read_text(path)
    except (OSError, StateError):
        return None
