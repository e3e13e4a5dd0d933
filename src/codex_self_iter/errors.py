"""Errors a user can cause; each carries the exit code it maps to."""

from __future__ import annotations

from codex_self_iter.outcome import EXIT_BAD_INPUT, EXIT_LOCKED


class UserError(Exception):
    """Bad input or configuration: one clear line, exit 1."""

    exit_code = EXIT_BAD_INPUT


class LockHeldError(UserError):
    """Another loop holds the state dir's lock."""

    exit_code = EXIT_LOCKED


class StateError(UserError):
    """The state dir cannot be read or written."""


class OutputClosed(Exception):
    """The reader of stdout went away (`| head -1`); carries the exit code the command had already reached."""

    def __init__(self, exit_code: int) -> None:
        super().__init__(f"stdout closed (exit {exit_code})")
        self.exit_code = exit_code
