"""`session start|status|cancel|history`: in-session mode, where a Stop hook keeps a Codex session working."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from codex_self_iter.errors import UserError
from codex_self_iter.session.manage import cancel_session, load_current, session_paths, status_lines, status_view
from codex_self_iter.session.start import StartRequest, start_session
from codex_self_iter.state.fsio import iter_jsonl

MESSAGE_CHARS = 100


def cmd_session(args: argparse.Namespace) -> int:
    """Dispatch the session sub-command."""
    handlers = {"start": _start, "status": _status, "cancel": _cancel, "history": _history}
    if args.session_command not in handlers:
        raise UserError("say what to do: codex-self-iter session start|status|cancel|history (see --help)")
    return handlers[args.session_command](args)


def _start(args: argparse.Namespace) -> int:
    request = StartRequest(
        workspace=args.workspace,
        objective=args.objective,
        max_iterations=args.max_iterations,
        completion_promise=args.completion_promise,
        checks=tuple(args.check or ()),
    )
    started = start_session(request)
    contract, state, paths = started.contract, started.state, started.paths
    bound = state.bound_session or "the first Codex session that stops in this workspace"
    print(f"codex-self-iter: in-session mode started (contract {contract.id})")
    print(f"  objective: {contract.objective}")
    print(f"  checks ({contract.checks_source}): " + "; ".join(c.spec().command for c in contract.checks))
    print(f"  baseline: {contract.baseline.checks_summary}")
    guard = "recorded, not blocked (allow_test_changes)" if contract.allow_test_changes else "block a claim"
    print(f"  protected: {contract.protected_files} file(s); deleted, skipped or weakened tests {guard}")
    print(f"  bound to: {bound}")
    print(f"  caps: max_iterations={contract.max_iterations} continuations, max_no_change={contract.max_no_change}")
    print(
        f"To finish, end the final message with <promise>{contract.completion_promise}</promise>: the Stop hook "
        "then runs the checks and lets the session stop only when they pass."
    )
    if not started.private:
        print(
            f"  recorded in {paths.root} only ({paths.private} is not writable from here, e.g. in Codex's sandbox): "
            "the Stop hook takes it over at the first stop, after which edits in the workspace are not obeyed"
        )
    print(f"Watch: codex-self-iter session status · end: codex-self-iter session cancel · state: {paths.root}")
    return 0


def _status(args: argparse.Namespace) -> int:
    paths = session_paths(args.workspace)
    view = status_view(paths, *load_current(paths))
    if args.json:
        print(json.dumps(view, indent=2, sort_keys=True, default=str))
    else:
        print("\n".join(status_lines(view)))
    return 0


def _cancel(args: argparse.Namespace) -> int:
    paths = session_paths(args.workspace)
    print(f"codex-self-iter: {cancel_session(paths, args.reason or 'cancelled by the user')}")
    return 0


def _history(args: argparse.Namespace) -> int:
    if args.limit < 0:
        raise UserError(f"--limit {args.limit}: give a number of rows, or 0 for the whole history")
    paths = session_paths(args.workspace)
    records = list(iter_jsonl(paths.journal))
    if args.limit:
        records = records[-args.limit :]
    if args.json:
        for record in records:
            print(json.dumps(record, sort_keys=True, default=str))
    elif not records:
        print(f"codex-self-iter: nothing recorded yet in {paths.journal}")
    else:
        print("\n".join(_row(record) for record in records))
    return 0


def _row(record: dict[str, Any]) -> str:
    ts = record.get("ts")
    when = time.strftime("%H:%M:%S", time.localtime(ts)) if isinstance(ts, (int, float)) else "--:--:--"
    detail = record.get("message") or record.get("why") or record.get("objective") or record.get("reason") or ""
    detail = " ".join(str(detail).split())
    if len(detail) > MESSAGE_CHARS:
        detail = detail[: MESSAGE_CHARS - 1] + "…"
    blocks = record.get("blocks")
    count = f"#{blocks}" if isinstance(blocks, int) else ""
    return f"{when}  {record.get('event', '?')!s:<20} {count:>4}  {detail}".rstrip()
