"""Requests from outside the hook: the loop's STOP sentinels and `session cancel`."""

from __future__ import annotations

import os
import time
from pathlib import Path

from codex_self_iter.session.contract import Contract
from codex_self_iter.session.layout import SessionPaths
from codex_self_iter.state.fsio import atomic_write_json, read_json
from codex_self_iter.state.stop_request import read_stop_reason, stop_file_present


def stop_request(contract: Contract) -> str:
    """'<path>: <reason>' when one of the contract's STOP sentinels exists, else ''."""
    found = stop_file_present(tuple(Path(name) for name in contract.stop_files))
    return f"{found}: {read_stop_reason(found)}" if found is not None else ""


def read_cancel(paths: SessionPaths) -> str:
    """The reason of a pending `session cancel`, or ''."""
    if not paths.cancel_request.exists():
        return ""
    data = read_json(paths.cancel_request)
    reason = data.get("reason") if isinstance(data, dict) else None
    return str(reason) if reason else "session cancel"


def write_cancel(paths: SessionPaths, reason: str) -> str:
    """Record a cancel request (a running check run notices it and ends); returns who asked."""
    codex_session = os.environ.get("CODEX_THREAD_ID") or os.environ.get("CODEX_SESSION_ID") or ""
    who = f"from inside Codex session {codex_session}" if codex_session else "from a shell"
    atomic_write_json(
        paths.cancel_request, {"reason": f"{reason}, {who}", "requested_at": time.time(), "by_pid": os.getpid()}
    )
    return who
