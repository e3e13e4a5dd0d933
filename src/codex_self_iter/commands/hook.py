"""`hook stop`: the Codex Stop hook command (reads the event on stdin, prints Codex's Stop answer)."""

from __future__ import annotations

import argparse

from codex_self_iter.session.hook import run_stop_hook


def cmd_hook(args: argparse.Namespace) -> int:
    """Run the named hook; it always exits 0 (a failure allows the stop, with a message)."""
    return run_stop_hook()
