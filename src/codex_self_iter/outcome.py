"""Every way a loop ends: a named reason, and the one place that maps it to an exit code."""

from __future__ import annotations

from enum import StrEnum


class StopReason(StrEnum):
    """Why a loop stopped; stored in status.json and printed at the end."""

    COMPLETE = "complete"
    MAX_ITERATIONS = "max_iterations"
    WALL_CLOCK = "wall_clock"
    TOKEN_BUDGET = "token_budget"
    COST_BUDGET = "cost_budget"
    STAGNATION = "stagnation"
    NO_CHANGE = "no_change"
    FALSE_COMPLETION = "false_completion"
    AUDIT_REJECTED = "audit_rejected"
    USAGE_LIMIT = "usage_limit"
    AGENT_FAILURE = "agent_failure"
    INVALID_OUTPUT = "invalid_output"
    AGENT_BLOCKED = "agent_blocked"
    PLANNER_STOP = "planner_stop"
    AGENT_SETUP = "agent_setup"
    BAD_INPUT = "bad_input"
    STOP_FILE = "stop_file"
    SIGNAL = "signal"
    INTERRUPTED = "interrupted"


# THE EXIT-CODE TABLE: every code the program exits with, and what it means (README "Exit codes" says the same).
EXIT_OK = 0
EXIT_BAD_INPUT = 1
EXIT_GATE = 2
EXIT_AGENT = 3
EXIT_LOCKED = 4
EXIT_USER_STOP = 5
EXIT_BUG = 70  # an unexpected exception: a crash report is written (BSD's EX_SOFTWARE)
EXIT_INTERRUPTED = 130

EXIT_STILL_RUNNING = 2  # `stop --now` / `fleet stop --now` only: the loop outlived --wait

EXIT_MEANINGS: dict[int, str] = {
    EXIT_OK: "complete",
    EXIT_BAD_INPUT: "bad input",
    EXIT_GATE: "stopped by a gate or budget",
    EXIT_AGENT: "agent blocked or failing",
    EXIT_LOCKED: "another loop holds the lock",
    EXIT_USER_STOP: "stopped by the user",
    EXIT_BUG: "a bug (see the crash report it names)",
    EXIT_INTERRUPTED: "interrupted",
}


def exit_codes_text() -> str:
    """The table as one line, for --help."""
    return " · ".join(f"{code} {meaning}" for code, meaning in EXIT_MEANINGS.items())


_EXIT_CODES: dict[StopReason, int] = {
    StopReason.COMPLETE: EXIT_OK,
    StopReason.MAX_ITERATIONS: EXIT_GATE,
    StopReason.WALL_CLOCK: EXIT_GATE,
    StopReason.TOKEN_BUDGET: EXIT_GATE,
    StopReason.COST_BUDGET: EXIT_GATE,
    StopReason.STAGNATION: EXIT_GATE,
    StopReason.NO_CHANGE: EXIT_GATE,
    StopReason.FALSE_COMPLETION: EXIT_GATE,
    StopReason.AUDIT_REJECTED: EXIT_GATE,
    StopReason.USAGE_LIMIT: EXIT_GATE,
    StopReason.AGENT_FAILURE: EXIT_AGENT,
    StopReason.INVALID_OUTPUT: EXIT_AGENT,
    StopReason.AGENT_BLOCKED: EXIT_AGENT,
    StopReason.PLANNER_STOP: EXIT_AGENT,
    StopReason.AGENT_SETUP: EXIT_BAD_INPUT,
    StopReason.BAD_INPUT: EXIT_BAD_INPUT,
    StopReason.STOP_FILE: EXIT_USER_STOP,
    StopReason.SIGNAL: EXIT_USER_STOP,
    StopReason.INTERRUPTED: EXIT_INTERRUPTED,
}


def exit_code_for(reason: StopReason) -> int:
    """The process exit code for a stop reason (DESIGN §7)."""
    return _EXIT_CODES[reason]
