"""`codex-self-iter hook stop`: the Stop hook command's outer shell.

It runs on every turn of every Codex session, so the path for "no active contract here, or not this session's"
imports only the standard library and exits 0 with no output. Anything that goes wrong inside allows the stop
with a systemMessage and a journal line: the hook never traps the user. It prints only keys Codex accepts for
Stop (`decision`/`reason`, `systemMessage`).
"""

from __future__ import annotations

import contextlib
import os
import sys

from codex_self_iter.session.hook_input import MAX_INPUT_BYTES, HookInput, names_cwd, parse_hook_input
from codex_self_iter.session.paths import find_session, peek_state

TYPE_CHECKING = False  # typing itself is not imported on this path: it costs milliseconds per Codex turn
if TYPE_CHECKING:
    from typing import IO, Any

ERROR_TRACE_CHARS = 4000


def run_stop_hook(stdin: IO[bytes] | None = None, stdout: IO[str] | None = None) -> int:
    """Read the Stop payload, decide, print the answer; always exit 0."""
    found: tuple[str, str] | None = None
    try:
        data = (stdin or sys.stdin.buffer).read(MAX_INPUT_BYTES)
        here = os.getcwd()
        if find_session(here) is None and names_cwd(data, here):
            return 0  # the common case, every turn of every session: decided before json is even imported
        hook = parse_hook_input(data)
        found = find_session(hook.cwd or here)
        if found is None or not concerns(peek_state(found), hook):
            return 0
        from codex_self_iter.session.stop import decide_stop

        output = decide_stop(found, hook)
    except BaseException as exc:
        output = internal_error(exc, found)
    if output:
        import json

        with contextlib.suppress(OSError, ValueError):
            print(json.dumps(output), file=stdout or sys.stdout, flush=True)
    return 0


def concerns(state: dict[str, Any] | None, hook: HookInput) -> bool:
    """Whether this stop may be this contract's business (decided without validation, on raw state.json)."""
    if state is None:
        return hook.identified  # no readable state (or a new contract): the slow path binds or finds it is not ours
    if not hook.identified:
        return False  # no session id: it cannot be proven to be the bound session, so it is never blocked
    bound = state.get("bound_session")
    if state.get("status") == "active":
        return not bound or bound == hook.session_id
    return bound == hook.session_id and state.get("notified") is False


def internal_error(exc: BaseException, found: tuple[str, str] | None) -> dict[str, str]:
    """The answer after an internal failure: allow the stop, say so, journal the traceback when possible."""
    what = f"{type(exc).__name__}: {exc}"[:300]
    where = ""
    if found is not None:
        try:
            import traceback
            from pathlib import Path

            from codex_self_iter.session.layout import SessionPaths
            from codex_self_iter.state.journal import Journal

            trace = "".join(traceback.format_exception(exc))[-ERROR_TRACE_CHARS:]
            journal = SessionPaths(Path(found[0]), Path(found[1])).journal
            Journal(journal).record("hook_error", error=what, traceback=trace)
            where = f"; details in {journal}"
        except Exception:
            where = ""
    return {"systemMessage": f"codex-self-iter: the Stop hook failed ({what}); the stop is allowed{where}"}
