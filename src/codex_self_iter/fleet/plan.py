"""Which fleet a command means: a new one from SPECs, the recorded one resumed, or the one to show or stop."""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from codex_self_iter.commands.loop_view import pid_alive
from codex_self_iter.errors import UserError
from codex_self_iter.fleet.launch import ask_to_stop
from codex_self_iter.fleet.observe import still_running
from codex_self_iter.fleet.record import FleetRecord, LoopOptions, LoopRecord, load_fleet
from codex_self_iter.fleet.spec import LoopSpec, parse_specs
from codex_self_iter.state.fsio import atomic_write_json, make_private_dir
from codex_self_iter.state.loop_lock import is_locked
from codex_self_iter.state.stop_request import stop_file_present

STOP_NAME = "STOP"


def fleet_for(fleet_dir: Path, args: argparse.Namespace) -> FleetRecord:
    """The fleet `fleet run` runs: the recorded one (same SPECs or none given) or a new one from the SPECs."""
    stop = stop_file_present((fleet_dir / STOP_NAME,))
    if stop is not None:
        if not args.clear_stop:
            raise UserError(f"{stop}: a fleet STOP is present; remove it or run again with --clear-stop")
        stop.unlink(missing_ok=True)
    if args.parallel is not None and args.parallel < 1:
        raise UserError(f"--parallel {args.parallel}: run at least 1 loop at once")
    specs = parse_specs(list(args.specs))
    fleet = load_fleet(fleet_dir)
    if fleet is None:
        if not specs:
            raise UserError(f"{fleet_dir}: no fleet here; name its loops: `fleet run REPO[:TASK] ...`")
        fleet = new_fleet(specs, args)
    elif specs and {spec.key for spec in specs} != {loop.key for loop in fleet.loops}:
        raise UserError(
            f"{fleet_dir}: holds a fleet of other loops; `fleet run` with no SPEC continues it, "
            "or pass another --fleet-dir for a new fleet"
        )
    if args.parallel is not None:
        fleet.parallel = args.parallel
    for value in (args.max_total_tokens, args.max_cost_usd):
        if value is not None and value < 0:
            raise UserError("a fleet budget must not be negative (0 = none)")
    if args.max_total_tokens is not None:
        fleet.budget.max_total_tokens = args.max_total_tokens
    if args.max_cost_usd is not None:
        fleet.budget.max_cost_usd = args.max_cost_usd
    make_private_dir(fleet_dir)
    return fleet


def new_fleet(specs: list[LoopSpec], args: argparse.Namespace) -> FleetRecord:
    """A fleet record for the SPECs, every loop queued, with ids like 03-myrepo or 03-myrepo-002-add-login."""
    config = str(Path(args.config).expanduser().resolve()) if args.config else None
    if config and not Path(config).is_file():
        raise UserError(f"{args.config}: config file not found; pass an existing --config")
    loops = [
        LoopRecord(id=_loop_id(number, spec), repo=str(spec.repo), task=spec.task)
        for number, spec in enumerate(specs, 1)
    ]
    return FleetRecord(
        created_at=time.time(),
        parallel=args.parallel or 2,
        options=LoopOptions(
            config=config, agent_command_template=args.agent_command_template, max_iterations=args.max_iterations
        ),
        loops=loops,
    )


def _loop_id(number: int, spec: LoopSpec) -> str:
    task = f"-{Path(spec.task).stem}" if spec.task else ""
    return f"{number:02d}-" + re.sub(r"[^A-Za-z0-9._-]+", "-", f"{spec.repo.name}{task}")[:60]


def open_fleet(raw: str) -> tuple[Path, FleetRecord, bool]:
    """The fleet in the directory, and whether its runner is alive; a clear error when there is none."""
    fleet_dir = Path(raw).expanduser().resolve()
    fleet = load_fleet(fleet_dir)
    if fleet is None:
        raise UserError(f"{fleet_dir}: no fleet here; start one with `codex-self-iter fleet run REPO ...`")
    alive = is_locked(fleet_dir / "fleet.lock") and pid_alive(fleet.runner_pid)
    return fleet_dir, fleet, alive


def request_stop(fleet_dir: Path, fleet: FleetRecord, reason: str) -> list[LoopRecord]:
    """Write the fleet's STOP and every running loop's own (so they stop even with no fleet runner left)."""
    atomic_write_json(fleet_dir / STOP_NAME, {"reason": reason, "requested_at": time.time()})
    running = [loop for loop in fleet.loops if loop.state == "running" and still_running(loop)]
    for loop in running:
        ask_to_stop(loop, reason)
    return running
