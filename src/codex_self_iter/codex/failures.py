"""What went wrong with a `codex exec` call: usage limit, transient trouble, or a fatal setup problem."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from codex_self_iter.agent.kinds import FailureKind
from codex_self_iter.codex import TESTED_CODEX_VERSION
from codex_self_iter.codex.retry_time import parse_retry_at

MAX_MESSAGE_CHARS = 400


@dataclass(frozen=True)
class CallFacts:
    """The observable facts of one finished codex call."""

    exit_code: int | None
    timed_out: bool = False
    cancelled: bool = False
    start_error: str | None = None
    turn_completed: bool = False
    errors: Sequence[str] = ()  # `error` events and turn.failed messages, in order
    failure_messages: Sequence[str] = ()  # turn.failed messages only
    stderr: str = ""  # the tail of codex's stderr
    timeout_sec: float | None = None
    ended_by: str | None = None  # "turn_finished" or "stalled" when the loop ended the process early
    last_said: str = ""  # what codex last told us (a stall's failure line quotes it)
    stall_sec: float = 0.0


@dataclass(frozen=True)
class Failure:
    """The verdict on a call: its kind, one actionable line, and when to retry for usage limits."""

    kind: FailureKind
    message: str = ""
    retry_at: float | None = None
    thread_full: bool = False  # the thread no longer fits the context window: continue in a fresh one
    stall_cause: str | None = None  # set for a stall: what codex last said, digits dropped (compared call to call)


_USAGE_RE = re.compile(
    r"usage.limit|rate.limit|too many requests|\b429\b|quota|you.ve hit your|usage_not_included", re.IGNORECASE
)
_CONTEXT_RE = re.compile(r"context.length.exceeded|context window|maximum context length", re.IGNORECASE)
_FATAL_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), hint)
    for pattern, hint in (
        (
            r"not inside a trusted directory",
            "codex refuses to run outside a git repository: `git init` the workspace "
            "or set codex.skip_git_repo_check = true",
        ),
        (
            r"\b401\b|unauthori[sz]ed|not logged in|invalid.api.key|incorrect api key|missing environment variable"
            r"|codex login",
            "codex is not authenticated: run `codex login` (or set CODEX_API_KEY), then start again",
        ),
        (
            r"\b403\b|forbidden",
            "the model provider refused access (403): check the account and codex's provider config",
        ),
        (
            r"output.schema|invalid.json.schema|invalid schema",
            "codex rejected the output schema: set codex.output_schema = false or fix the schema file",
        ),
        (
            r"model.not.found|unknown model|invalid model|unsupported model|model\b.{0,80}\b(does not exist|not found"
            r"|is not supported|not supported)",
            "the model was rejected: check codex.model (or `model` in the codex config); "
            "`codex debug models` lists the known ones",
        ),
        (
            r"last message file|output-last-message",
            "codex cannot write its last-message file: check that the state dir is writable",
        ),
        (
            r"unexpected argument|unrecognized subcommand|invalid value .* for|the argument .* cannot be used"
            r"|usage: codex",
            "codex rejected its command line: check codex.extra_args and codex.config_overrides "
            f"(codex-self-iter is tested with codex {TESTED_CODEX_VERSION})",
        ),
        (
            r"no longer supported|error loading config|unknown (configuration|config) (field|key)|unknown variant"
            r"|invalid configuration|failed to (load|parse) config",
            "codex rejected its configuration: check codex.config_overrides and $CODEX_HOME/config.toml",
        ),
        (r"\b400\b|bad request|invalid_request_error", "the model provider rejected the request (400)"),
    )
)
_TRANSIENT_RE = re.compile(
    r"\b5\d\d\b|internal server error|bad gateway|service unavailable|gateway timeout|high demand|overloaded"
    r"|stream disconnected|connection|error sending request|timed? ?out|reconnecting|network|temporar"
    r"|server_error|broken pipe|reset by peer|unexpected eof",
    re.IGNORECASE,
)
_NOISE_RE = re.compile(
    r"^(WARNING: proceeding|warning: Codex could not find bubblewrap|Stack backtrace:|\s*\d+: |\s*at |Reading "
    r"(additional )?(input|prompt) from stdin)"
)


def classify(facts: CallFacts, now: datetime) -> Failure:
    """Decide what kind of failure a call was (FailureKind.NONE when it succeeded); `now` must be aware."""
    if facts.start_error:
        return Failure(FailureKind.FATAL, _one_line(f"codex could not be started: {facts.start_error}"))
    if facts.cancelled:
        return Failure(FailureKind.TRANSIENT, "cancelled by the loop (stop requested)")
    if facts.ended_by == "turn_finished" and facts.turn_completed:
        return Failure(FailureKind.NONE)  # codex finished its turn but did not exit: its answer stands
    if facts.ended_by == "stalled":
        return _stalled(facts, now)
    if facts.timed_out:
        limit = f" after {facts.timeout_sec:g}s" if facts.timeout_sec else ""
        return Failure(FailureKind.TRANSIENT, f"codex timed out{limit} and was killed")
    if facts.exit_code == 0 and facts.turn_completed:
        return Failure(FailureKind.NONE)
    said = primary_message(facts)
    everything = "\n".join([*facts.errors, _meaningful_stderr(facts.stderr)])
    for text in (said, everything):
        found = _by_text(text, facts, said, now)
        if found is not None:
            return found
    if facts.exit_code == 0:
        return Failure(FailureKind.TRANSIENT, "codex exited without completing its turn")
    if facts.exit_code == 2:
        return Failure(FailureKind.FATAL, _one_line(f"codex rejected its command line (exit 2): {said}"))
    return Failure(FailureKind.TRANSIENT, _one_line(f"codex failed (exit {facts.exit_code}): {said or 'no message'}"))


def _stalled(facts: CallFacts, now: datetime) -> Failure:
    said = primary_message(facts)
    found = _by_text(said, facts, said, now) if said else None
    if found is not None and found.kind in (FailureKind.FATAL, FailureKind.USAGE_LIMIT):
        return found  # e.g. not logged in: say so now, not after five full timeouts
    message = f"codex stalled: no event for {facts.stall_sec:g}s and was ended; codex last said: {facts.last_said}"
    cause = re.sub(r"\d+", "#", said or facts.last_said)
    return Failure(FailureKind.TRANSIENT, _one_line(message), stall_cause=cause)


def _by_text(text: str, facts: CallFacts, said: str, now: datetime) -> Failure | None:
    if not text.strip():
        return None
    if _USAGE_RE.search(text):
        stated = (parse_retry_at(message, now) for message in (said, *reversed(facts.errors)))
        retry_at = next((when for when in stated if when is not None), None)
        return Failure(FailureKind.USAGE_LIMIT, _one_line(f"usage limit: {said or text}"), retry_at)
    if _CONTEXT_RE.search(text):
        return Failure(FailureKind.TRANSIENT, _one_line(f"the context window is full: {said or text}"), None, True)
    for pattern, hint in _FATAL_RULES:
        if pattern.search(text):
            return Failure(FailureKind.FATAL, _one_line(f"{hint} (codex said: {said or text})"))
    if _TRANSIENT_RE.search(text):
        return Failure(FailureKind.TRANSIENT, _one_line(f"transient codex failure: {said or text}"))
    return None


_THREAD_MISSING_RE = re.compile(
    r"no rollout found|thread/resume failed|(thread|session|conversation)\b.{0,60}\bnot found", re.IGNORECASE
)


def thread_missing(facts: CallFacts) -> bool:
    """True when `codex exec resume` failed because codex no longer knows the thread id."""
    if facts.exit_code in (0, None) or facts.turn_completed:
        return False
    return bool(_THREAD_MISSING_RE.search("\n".join([*facts.errors, facts.stderr])))


def primary_message(facts: CallFacts) -> str:
    """The single most telling message: the turn's failure, else the last error event, else codex's stderr."""
    if facts.failure_messages:
        return facts.failure_messages[-1].strip()
    if facts.errors:
        return facts.errors[-1].strip()
    stderr = _meaningful_stderr(facts.stderr)
    lines = stderr.splitlines()
    errors = [line for line in lines if line.lower().startswith(("error", "fatal"))]
    return (errors or lines or [""])[0].strip()


def _meaningful_stderr(stderr: str) -> str:
    return "\n".join(line for line in stderr.splitlines() if line.strip() and not _NOISE_RE.match(line))


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_MESSAGE_CHARS else flat[: MAX_MESSAGE_CHARS - 1] + "…"
