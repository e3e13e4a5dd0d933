"""One `codex exec` process: run it with the prompt on stdin, stream its events, collect the facts."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from codex_self_iter.agent.kinds import TokenUsage
from codex_self_iter.agent.types import AgentRequest
from codex_self_iter.codex.events import CodexEvents, usage_delta
from codex_self_iter.codex.failures import CallFacts
from codex_self_iter.proc.process import ProcessResult, run_process
from codex_self_iter.state.fsio import make_private_dir, read_end

EVENTS_FILE = "events.jsonl"
STDERR_FILE = "stderr.log"
LAST_MESSAGE_FILE = "last_message.txt"
STDERR_TAIL_BYTES = 16 * 1024
TURN_FINISHED = "turn_finished"
STALLED = "stalled"


class TurnWatch:
    """Ends a call early: a finished turn whose process lingers past the grace, or a stream silent too long."""

    def __init__(
        self, events: CodexEvents, last_message: Path, grace_sec: float, stall_sec: float, clock: Callable[[], float]
    ) -> None:
        self.events, self.last_message = events, last_message
        self.grace_sec, self.stall_sec, self.clock = grace_sec, stall_sec, clock
        self.finished_at: float | None = None

    def __call__(self) -> str | None:
        now = self.clock()
        done = self.events.turn_completed and not self.events.turn_failed
        if self.finished_at is None and done and _written(self.last_message):
            self.finished_at = now
        if self.finished_at is not None:
            return TURN_FINISHED if now - self.finished_at >= self.grace_sec else None
        if self.stall_sec and now - self.events.last_event_at >= self.stall_sec:
            return STALLED
        return None


@dataclass(frozen=True)
class Attempt:
    """A finished codex process: its argv, process result, parsed events and failure facts."""

    argv: list[str]
    process: ProcessResult
    events: CodexEvents
    facts: CallFacts
    last_message: Path

    @property
    def final_message(self) -> str:
        """The -o file's text, else the last agent_message of the event stream."""
        try:
            text = self.last_message.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        return text if text.strip() else self.events.last_message


def run_attempt(
    argv: list[str],
    request: AgentRequest,
    *,
    env: Mapping[str, str] | None,
    previous: TokenUsage | None,
    timeout_sec: float,
    elapsed_offset: float = 0.0,
    grace_sec: float = 5.0,
    stall_sec: float = 0.0,
) -> Attempt:
    """Run codex once in the workspace, writing events.jsonl, stderr.log and last_message.txt to the run dir."""
    run_dir = request.run_dir
    make_private_dir(run_dir)
    last_message = run_dir / LAST_MESSAGE_FILE
    with contextlib.suppress(FileNotFoundError):
        last_message.unlink()  # a stale answer from an earlier attempt must never pass for this one
    events = CodexEvents(request.on_note)
    watch = TurnWatch(events, last_message, grace_sec, stall_sec, time.monotonic)

    def tick(elapsed: float) -> None:
        if request.on_tick is not None:
            live = usage_delta(events.usage, previous) if events.usage is not None else None
            request.on_tick(elapsed_offset + elapsed, live)

    process = run_process(
        argv,
        cwd=request.workspace,
        stdout_path=run_dir / EVENTS_FILE,
        stderr_path=run_dir / STDERR_FILE,
        timeout_sec=timeout_sec,
        stdin_text=request.prompt_text,
        env=env,
        cancel=request.cancel,
        on_start=request.on_start,
        on_tick=tick,
        on_stdout_line=events.feed,
        watch=watch,
    )
    facts = CallFacts(
        exit_code=process.exit_code,
        timed_out=process.timed_out,
        cancelled=process.cancelled,
        start_error=process.start_error,
        turn_completed=events.turn_completed and not events.turn_failed,
        errors=tuple(events.errors),
        failure_messages=tuple(events.failure_messages),
        stderr=read_end(process.stderr_path, STDERR_TAIL_BYTES),
        timeout_sec=timeout_sec,
        ended_by=process.ended_by,
        last_said=events.last_said,
        stall_sec=stall_sec,
    )
    return Attempt(argv, process, events, facts, last_message)


def set_aside(run_dir: Path, prefix: str) -> None:
    """Rename an attempt's captured output with a prefix, so a second attempt in the same run dir keeps it."""
    for name in (EVENTS_FILE, STDERR_FILE):
        source = run_dir / name
        if source.exists():
            source.replace(run_dir / f"{prefix}{name}")


def _written(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False
