"""`fleet run SPEC... [--parallel N]`, `fleet status [--json]`, `fleet stop [--now]`: many loops, one per process."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from codex_self_iter.outcome import EXIT_STILL_RUNNING

Lazy = Callable[[str, str], Any]

DEFAULT_FLEET_DIR = ".codex-self-iter-fleet"
RUN_EXITS = (
    "0 every loop complete · 1 bad input · 2 the fleet budget is spent · 3 a loop did not complete · "
    "4 another fleet runner holds this fleet · 5 stopped (fleet stop, SIGTERM) · 130 interrupted"
)


def register_fleet(sub: Any, lazy: Lazy) -> None:
    """Add `fleet run|status|stop` to the subparsers."""
    fleet = sub.add_parser("fleet", help="run many loops at once, each on its own branch; watch and stop them")
    verbs = fleet.add_subparsers(dest="fleet_command", metavar="COMMAND", required=True)
    run = verbs.add_parser("run", help="run loops, at most --parallel at once", epilog=f"exit codes: {RUN_EXITS}")
    run.add_argument("specs", nargs="*", metavar="SPEC", help="REPO or REPO:TASK (a task file or task id in REPO)")
    run.add_argument("--parallel", "-j", type=int, help="loops at once (default 2; kept from the last run)")
    run.add_argument("--config", help="a config file for every loop (default: each repository's own)")
    run.add_argument("--agent-command-template", help="the agent command for every loop (default: codex)")
    run.add_argument("--max-iterations", type=int, help="iteration budget of each loop")
    run.add_argument("--max-total-tokens", type=int, help="fleet budget: tokens summed over every loop")
    run.add_argument("--max-cost-usd", type=float, help="fleet budget: dollars summed over loops that report cost")
    run.add_argument("--clear-stop", action="store_true", help="remove a fleet STOP left from before and run")
    status = verbs.add_parser("status", help="one row per loop", epilog="exit codes: 0 shown · 1 no fleet here")
    status.add_argument("--json", action="store_true", help="print the fleet as one JSON object")
    stop = verbs.add_parser(
        "stop",
        help="start no more loops; the running ones stop before their next agent call (--now: at once)",
        epilog="exit codes: 0 stop requested (--now: every loop ended) · 1 no fleet here · 2 --now: still running",
    )
    stop.add_argument("--now", action="store_true", help="also signal every loop: their agents are ended at once")
    stop.add_argument("--wait", type=float, default=30.0, help="with --now: seconds to wait for the loops to end")
    for parser in (run, status, stop):
        parser.add_argument(
            "--fleet-dir", default=DEFAULT_FLEET_DIR, help=f"the fleet's state dir (default {DEFAULT_FLEET_DIR})"
        )
    run.set_defaults(handler=lazy("codex_self_iter.commands.fleet", "cmd_fleet_run"))
    status.set_defaults(handler=lazy("codex_self_iter.commands.fleet", "cmd_fleet_status"))
    stop.set_defaults(handler=lazy("codex_self_iter.commands.fleet", "cmd_fleet_stop"))


def cmd_fleet_run(args: argparse.Namespace) -> int:
    """Start or resume the fleet in --fleet-dir and run it to its end."""
    from pathlib import Path

    from codex_self_iter.errors import LockHeldError
    from codex_self_iter.fleet.plan import fleet_for
    from codex_self_iter.fleet.pool import Pool
    from codex_self_iter.fleet.record import save_fleet
    from codex_self_iter.fleet.table import fleet_report, print_table
    from codex_self_iter.state.loop_lock import LoopLock

    fleet_dir = Path(args.fleet_dir).expanduser().resolve()
    fleet = fleet_for(fleet_dir, args)
    lock = LoopLock(fleet_dir / "fleet.lock", fleet_dir / "fleet-holder.json")
    try:
        lock.__enter__()
    except LockHeldError:
        raise LockHeldError(
            f"{fleet_dir}: another `fleet run` is running this fleet; watch it with `fleet status`"
        ) from None
    try:
        fleet.runner_pid, fleet.stop_reason = os.getpid(), None
        save_fleet(fleet_dir, fleet)
        code = Pool(fleet_dir, fleet, sys.stdout).run()
    finally:
        lock.__exit__(None, None, None)
    print_table(fleet_report(fleet_dir, fleet, runner_alive=False), sys.stdout)
    return code


def cmd_fleet_status(args: argparse.Namespace) -> int:
    """Print the fleet's table (or JSON)."""
    from codex_self_iter.fleet.plan import open_fleet
    from codex_self_iter.fleet.table import fleet_report, print_table

    fleet_dir, fleet, alive = open_fleet(args.fleet_dir)
    report = fleet_report(fleet_dir, fleet, alive)
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False))
    else:
        print_table(report, sys.stdout)
    return 0


def cmd_fleet_stop(args: argparse.Namespace) -> int:
    """Ask the fleet and every running loop to stop; --now signals them all and waits for them to end."""
    from codex_self_iter.fleet.observe import still_running
    from codex_self_iter.fleet.plan import open_fleet, request_stop

    fleet_dir, fleet, alive = open_fleet(args.fleet_dir)
    running = request_stop(fleet_dir, fleet, "stopped by the user (codex-self-iter fleet stop)")
    print(f"codex-self-iter fleet: wrote {fleet_dir / 'STOP'}; {len(running)} loop(s) running")
    if not args.now:
        print("codex-self-iter fleet: no more loops start; the running ones stop before their next agent call")
        return 0
    targets = [fleet.runner_pid] if alive and fleet.runner_pid else []
    targets += [loop.pid for loop in running if loop.pid is not None]
    for pid in targets:
        try:
            os.kill(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            continue
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        if not any(still_running(loop) for loop in running) and not (alive and _alive(fleet.runner_pid)):
            print(f"codex-self-iter fleet: every loop has ended ({len(running)} signalled)")
            return 0
        time.sleep(0.1)
    print(f"codex-self-iter fleet: loops still running after {args.wait:g}s; see `fleet status`", file=sys.stderr)
    return EXIT_STILL_RUNNING


def _alive(pid: int | None) -> bool:
    from codex_self_iter.commands.loop_view import pid_alive

    return pid_alive(pid)
