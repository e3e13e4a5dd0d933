"""The operating commands: each module one command, registered here."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

AddOptions = Callable[[argparse.ArgumentParser], None]
Lazy = Callable[[str, str], Any]


def _parser(sub: Any, name: str, about: str, exits: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=about, description=about, epilog=f"exit codes: {exits}")
    return parser


def register(sub: Any, add_loop_options: AddOptions, lazy: Lazy) -> None:
    """Add the commands other than `run` to the subparsers."""
    init = _parser(
        sub, "init", "write TASK.md, plan.md and a config; keep the state dir out of git", "0 done · 1 bad input"
    )
    add_loop_options(init)
    init.add_argument("--goal", help="the objective to write into TASK.md (offline)")
    init.add_argument(
        "--prompt",
        help="describe the job; Codex proposes TASK.md, plan.md, tasks/NNN-*.md and checks, written after you agree",
    )
    init.add_argument("--yes", "-y", action="store_true", help="with --prompt: write the proposal without asking")
    init.add_argument("--force", action="store_true", help="overwrite files that exist")
    init.set_defaults(handler=lazy("codex_self_iter.commands.init", "cmd_init"))

    status = _parser(
        sub,
        "status",
        "is the loop running, backing off, stopped or complete; iteration, goal, streaks, checks, tokens",
        "0 shown · 1 no loop state here, or an unreadable status.json",
    )
    add_loop_options(status)
    status.add_argument("--json", action="store_true", help="print the status as one JSON object")
    status.set_defaults(handler=lazy("codex_self_iter.commands.status", "cmd_status"))

    stop = _parser(
        sub,
        "stop",
        "write the STOP sentinel (the loop stops before its next agent call); --now also ends it and its agent",
        "0 STOP written (with --now: the loop has ended) · 1 no loop state here · 2 --now: still running after --wait",
    )
    add_loop_options(stop)
    stop.add_argument("--now", action="store_true", help="also send SIGTERM to the loop: its agent is ended at once")
    stop.add_argument("--reason", help="why (recorded in the STOP file and shown by status)")
    stop.add_argument("--wait", type=float, default=30.0, help="with --now: seconds to wait for the loop to end")
    stop.set_defaults(handler=lazy("codex_self_iter.commands.stop", "cmd_stop"))

    doctor = _parser(
        sub, "doctor", "check python, codex, login, git, inputs, config, checks and the plugin", "0 ready · 1 a failure"
    )
    add_loop_options(doctor)
    doctor.set_defaults(handler=lazy("codex_self_iter.commands.doctor", "cmd_doctor"))

    for name in ("history", "logs"):
        about = "the iterations so far, newest last" + (" (same as history)" if name == "logs" else "")
        history = _parser(sub, name, about, "0 shown · 1 no loop state here · 130 --follow interrupted")
        add_loop_options(history)
        history.add_argument("--follow", "-f", action="store_true", help="keep printing until the loop stops")
        history.add_argument("--json", action="store_true", help="print the raw journal records as JSON lines")
        history.add_argument("--limit", "-n", type=int, default=20, help="rows to show (default 20; 0 = all)")
        history.add_argument("--wide", action="store_true", help="each outcome on one line, however long (no wrapping)")
        history.set_defaults(handler=lazy("codex_self_iter.commands.history", "cmd_history"))

    plugin = _parser(
        sub, "install-plugin", "install the Codex plugin shipped in this package (or remove it)", "0 done · 1 failed"
    )
    plugin.add_argument("--codex-home", help="the CODEX_HOME to install into (default: $CODEX_HOME or ~/.codex)")
    plugin.add_argument("--uninstall", action="store_true", help="remove the plugin and its marketplace")
    plugin.set_defaults(handler=lazy("codex_self_iter.commands.plugin", "cmd_install_plugin"))

    from codex_self_iter.commands.fleet import register_fleet

    register_fleet(sub, lazy)

    from codex_self_iter.commands.session_parsers import register_session

    register_session(sub, lazy)
