"""The small types every part of the loop shares: roles, failure kinds, token usage. Imports nothing heavier."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """The prompts the loop hands to the agent."""

    PLANNER = "planner"
    EXECUTOR = "executor"
    REVIEWER = "reviewer"
    AUDITOR = "auditor"  # the reviewer's final audit of a task queue against the whole TASK.md


class FailureKind(StrEnum):
    """How an agent call went wrong, which decides what the loop does next."""

    NONE = "none"
    TRANSIENT = "transient"  # timeout, 5xx, disconnect, non-zero exit: back off and retry
    USAGE_LIMIT = "usage_limit"  # quota / rate limit: wait until the stated time, within a cap
    FATAL = "fatal"  # not logged in, unknown model, bad flag: retrying cannot help


@dataclass(frozen=True)
class TokenUsage:
    """Tokens spent by one agent call (deltas, not Codex's cumulative thread totals)."""

    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_output_tokens: int = 0

    @property
    def total(self) -> int:
        """Tokens that count against a budget: input plus output."""
        return self.input_tokens + self.output_tokens

    def plus(self, other: TokenUsage) -> TokenUsage:
        """The sum of two usages."""
        return TokenUsage(
            self.input_tokens + other.input_tokens,
            self.cached_input_tokens + other.cached_input_tokens,
            self.output_tokens + other.output_tokens,
            self.reasoning_output_tokens + other.reasoning_output_tokens,
        )
