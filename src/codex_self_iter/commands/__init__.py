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

    diff = _parser(sub, "diff", "what a worktree run changed: base..branch, or checkpoint N's own diff", "0 · 1 no run")
    add_loop_options(diff)
    diff.add_argument("iteration", nargs="?", type=int, help="only the checkpoint of this iteration")
    diff.add_argument("--stat", action="store_true", help="only the diffstat")
    diff.set_defaults(handler=lazy("codex_self_iter.commands.diff", "cmd_diff"))

    rollback = _parser(
        sub,
        "rollback",
        "put a worktree run's branch, worktree and loop state back to checkpoint N",
        "0 done · 1 no such run or checkpoint · 4 its loop is running",
    )
    add_loop_options(rollback)
    rollback.add_argument("--to", type=int, required=True, metavar="N", help="the iteration to go back to")
    rollback.set_defaults(handler=lazy("codex_self_iter.commands.rollback", "cmd_rollback"))

    merge = _parser(
        sub,
        "merge",
        "merge a finished worktree run's branch into the branch it started from",
        "0 merged · 1 refused (dirty tree, other branch checked out, loop running) · 2 conflict (nothing changed)",
    )
    add_loop_options(merge)
    merge.set_defaults(handler=lazy("codex_self_iter.commands.merge", "cmd_merge"))

    cleanup = _parser(
        sub,
        "cleanup",
        "remove finished worktree runs (never an unmerged branch unless asked) and prune runs/ and prompts/",
        "0 listed or done · 1 bad input",
    )
    add_loop_options(cleanup)
    cleanup.add_argument("--apply", action="store_true", help="do it (default: only list what would go)")
    cleanup.add_argument("--keep", type=int, default=0, metavar="N", help="leave the newest N finished runs alone")
    cleanup.add_argument("--older-than", type=float, default=0.0, metavar="DAYS", help="only runs older than this")
    cleanup.add_argument("--delete-unmerged", action="store_true", help="also delete branches that are not merged")
    cleanup.add_argument("--keep-runs", type=int, metavar="N", help="iterations of runs/ and prompts/ to keep")
    cleanup.set_defaults(handler=lazy("codex_self_iter.commands.cleanup", "cmd_cleanup"))

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
