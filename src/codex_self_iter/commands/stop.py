"""`stop [--now] [--reason TEXT]`: write the STOP sentinel; --now also ends the running loop and its agent."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

from codex_self_iter.commands.loop_view import LoopView, observe, pid_alive
from codex_self_iter.commands.status import status_report
from codex_self_iter.commands.target import locate, require_state
from codex_self_iter.errors import UserError
from codex_self_iter.outcome import EXIT_STILL_RUNNING
from codex_self_iter.state.fsio import atomic_write_json
from codex_self_iter.state.layout import Layout
from codex_self_iter.state.loop_lock import is_locked

POLL_SEC = 0.1


def cmd_stop(args: argparse.Namespace) -> int:
    """Write STOP (0); with --now signal the loop and wait for it (2 when it is still running after --wait)."""
    layout = locate(args)
    require_state(layout)
    reason = args.reason or "stopped by the user (codex-self-iter stop)"
    write_stop_file(layout, reason)
    print(f"codex-self-iter: wrote {layout.stop_file} ({reason})")
    try:
        view: LoopView | None = observe(layout)
    except UserError as exc:  # no readable status.json: no loop can be proven to run; the STOP file is what counts
        print(f"codex-self-iter: warning: {exc}", file=sys.stderr)
        view = None
    if view is None or not view.running:
        print(
            "codex-self-iter: no loop is running; the STOP file keeps the next `run` from starting "
            "until it is removed (or `run --clear-stop`)"
        )
        return 0
    if not args.now:
        print(f"codex-self-iter: the loop (pid {view.pid}) stops before its next agent call; `stop --now` ends it now")
        return 0
    return _stop_now(layout, view, args.wait)


def write_stop_file(layout: Layout, reason: str) -> None:
    """The STOP sentinel as JSON: the reason and when (sentinel.read_stop_reason reads it back)."""
    now = time.time()
    request = {
        "reason": reason,
        "requested_at": now,
        "requested_at_text": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(now)),
        "by_pid": os.getpid(),
    }
    atomic_write_json(layout.stop_file, request)
    atomic_write_json(layout.stop_latch, request)  # private: the agent deleting STOP does not cancel the request


def _stop_now(layout: Layout, view: LoopView, wait_sec: float) -> int:
    pid = view.pid
    if pid is None or pid == os.getpid() or not pid_alive(pid):
        raise UserError(f"{layout.status_file}: cannot tell which process runs the loop; it stops at its next step")
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        print("codex-self-iter: the loop ended by itself")
        return 0
    except PermissionError as exc:
        raise UserError(f"cannot signal the loop (pid {pid}): {exc.strerror}; it stops at its next step") from exc
    print(f"codex-self-iter: sent SIGTERM to the loop (pid {pid}); waiting up to {wait_sec:g}s for it to end")
    sent = time.monotonic()
    deadline = sent + wait_sec
    while time.monotonic() < deadline:
        if not pid_alive(pid) or not is_locked(layout.lock_file):
            break
        time.sleep(POLL_SEC)
    else:
        print(
            f"codex-self-iter: the loop (pid {pid}) is still running after {wait_sec:g}s; "
            "check `codex-self-iter status`",
            file=sys.stderr,
        )
        return EXIT_STILL_RUNNING
    print(f"codex-self-iter: the loop (pid {pid}) ended in {time.monotonic() - sent:.2f}s")
    try:
        print(f"codex-self-iter: {status_report(layout, observe(layout), time.time()).summary}")
    except UserError:
        print("codex-self-iter: the loop ended")
    return 0
