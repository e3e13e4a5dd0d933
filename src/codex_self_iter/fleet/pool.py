"""The fleet runner: a bounded pool of loop processes — start up to N, reap, account, stop on request or budget."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TextIO

from codex_self_iter.errors import UserError
from codex_self_iter.fleet.launch import ask_to_stop, find_run, start
from codex_self_iter.fleet.observe import outcome_state, read_status, still_running
from codex_self_iter.fleet.record import FleetRecord, LoopRecord, save_fleet
from codex_self_iter.outcome import EXIT_AGENT, EXIT_GATE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USER_STOP
from codex_self_iter.proc.procinfo import start_ticks

POLL_SEC = 0.1
KILL_AFTER_SEC = 30.0  # a loop told to stop now that is still alive then is killed (its next run ends its agent)


def recorded_exit(loop: LoopRecord) -> int | None:
    """The exit code a loop that is gone wrote into its status.json; None when it died without writing one."""
    find_run(loop)
    status = read_status(loop)
    return status.exit_code if status.state not in ("running", "starting", "backing_off") else None


class Pool:
    """One `fleet run`: the fleet's record, the processes it started, and why it stops starting more."""

    def __init__(self, fleet_dir: Path, fleet: FleetRecord, out: TextIO, clock: Callable[[], float] = time.time):
        self.fleet_dir, self.fleet, self.out, self.clock = fleet_dir, fleet, out, clock
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.halt: str | None = None  # why no more loops start: fleet_budget | stop_file | signal | interrupted
        self.asked_to_stop: set[str] = set()
        self.terminated_at: float | None = None

    def run(self) -> int:
        """Run the fleet's unfinished loops to their ends; the fleet's exit code."""
        self._adopt_or_requeue()
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            while True:
                self._reap()
                self._account()
                self._check_stop_file()
                if self.halt:
                    self._stop_running()
                else:
                    self._start_queued()
                if not self._running() and (self.halt or not self._queued()):
                    break
                time.sleep(POLL_SEC)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        for loop in self._queued():
            loop.state, loop.note = "skipped", f"not started: {self.halt}"
        self.fleet.stop_reason = self.halt
        self._save()
        return self._exit_code()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.halt = "interrupted" if signum == signal.SIGINT else "signal"

    def _adopt_or_requeue(self) -> None:
        """After a crash of the fleet: loops still running are watched to their end; the unfinished run again."""
        for loop in self._running():
            if still_running(loop):
                self._say(f"{loop.id} is still running from before (pid {loop.pid}); watching it")
            else:
                self._finish(loop, recorded_exit(loop))
        for loop in self.fleet.loops:
            if loop.state in ("interrupted", "skipped"):
                loop.state, loop.note = "queued", ""
        self._save()

    def _running(self) -> list[LoopRecord]:
        return [loop for loop in self.fleet.loops if loop.state == "running"]

    def _queued(self) -> list[LoopRecord]:
        return [loop for loop in self.fleet.loops if loop.state == "queued"]

    def _start_queued(self) -> None:
        while len(self._running()) < self.fleet.parallel and self._queued():
            loop = self._queued()[0]
            try:
                proc = start(self.fleet_dir, self.fleet, loop)
            except UserError as exc:
                loop.state, loop.note, loop.ended_at = "failed", str(exc), self.clock()
                self._say(f"{loop.id} failed to start: {exc}")
                self._save()
                continue
            now = self.clock()
            self.procs[loop.id] = proc
            loop.state, loop.pid, loop.pid_start, loop.note = "running", proc.pid, start_ticks(proc.pid), ""
            loop.starts += 1
            loop.started_at = loop.started_at or now
            loop.spans.append([now, 0.0])
            loop.exit_code = loop.stop_reason = None
            self._save()
            waiting = len(self._queued())
            self._say(f"{loop.id} started (pid {proc.pid}) · {len(self._running())} running, {waiting} queued")

    def _reap(self) -> None:
        for loop in self._running():
            proc = self.procs.get(loop.id)
            if proc is not None:
                code = proc.poll()
                if code is not None:
                    del self.procs[loop.id]
                    self._finish(loop, code)
            elif not still_running(loop):  # adopted from a crashed fleet: its exit code is in its status.json
                self._finish(loop, recorded_exit(loop))

    def _finish(self, loop: LoopRecord, code: int | None) -> None:
        now = self.clock()
        find_run(loop)
        status = read_status(loop)
        loop.state, loop.exit_code, loop.pid, loop.pid_start = outcome_state(code), code, None, None
        loop.stop_reason = status.stop_reason if status.exit_code == code else None
        loop.iteration, loop.tokens, loop.cost_usd = status.iteration, status.tokens, status.cost_usd
        loop.ended_at = now
        if loop.spans and not loop.spans[-1][1]:
            loop.spans[-1][1] = now
        took = now - loop.spans[-1][0] if loop.spans else 0.0
        self._say(f"{loop.id} {loop.state}: {loop.stop_reason or '?'} (exit {code}) after {took:.1f}s")
        self._save()

    def _account(self) -> None:
        """Refresh the running loops' totals; once the fleet's budget is spent, start no more and stop the rest."""
        for loop in self._running():
            known = bool(loop.run_id)
            if not find_run(loop):
                continue
            if not known:
                self._save()  # a fleet killed from now on still knows which run to continue
            status = read_status(loop)
            loop.iteration, loop.tokens, loop.cost_usd = status.iteration, status.tokens, status.cost_usd
        budget = self.fleet.budget
        tokens = sum(loop.tokens for loop in self.fleet.loops)
        cost = sum(loop.cost_usd or 0.0 for loop in self.fleet.loops)
        spent = (budget.max_total_tokens and tokens >= budget.max_total_tokens) or (
            budget.max_cost_usd and cost >= budget.max_cost_usd
        )
        if spent and not self.halt:
            self.halt = "fleet_budget"
            self._say(f"fleet budget spent ({tokens:,} tokens, ${cost:.2f}): no new loops; asking the running to stop")

    def _check_stop_file(self) -> None:
        if not self.halt and (self.fleet_dir / "STOP").exists():
            self.halt = "stop_file"
            self._say("STOP requested: no new loops; the running ones stop before their next agent call")

    def _stop_running(self) -> None:
        now = self.clock()
        for loop in self._running():
            if loop.id not in self.asked_to_stop and ask_to_stop(loop, f"the fleet stops ({self.halt})"):
                self.asked_to_stop.add(loop.id)
            if self.halt in ("signal", "interrupted") and self.terminated_at is None:
                self._signal(loop, signal.SIGTERM)
        if self.halt in ("signal", "interrupted") and self.terminated_at is None:
            self.terminated_at = now
        elif self.terminated_at is not None and now - self.terminated_at > KILL_AFTER_SEC:
            for loop in self._running():
                self._signal(loop, signal.SIGKILL)

    def _signal(self, loop: LoopRecord, sig: signal.Signals) -> None:
        if loop.pid is not None and still_running(loop):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(loop.pid, sig)

    def _exit_code(self) -> int:
        if self.halt == "interrupted":
            return EXIT_INTERRUPTED
        if self.halt in ("signal", "stop_file"):
            return EXIT_USER_STOP
        if self.halt == "fleet_budget":
            return EXIT_GATE
        return EXIT_OK if all(loop.state == "complete" for loop in self.fleet.loops) else EXIT_AGENT

    def _save(self) -> None:
        save_fleet(self.fleet_dir, self.fleet)

    def _say(self, text: str) -> None:
        print(f"codex-self-iter fleet: {text}", file=self.out, flush=True)
