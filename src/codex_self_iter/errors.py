"""Errors a user can cause; each carries the exit code it maps to."""

from __future__ import annotations


class UserError(Exception):
    """Bad input or configuration: one clear line, exit 1."""

    exit_code = 1


class LockHeldError(UserError):
    """Another loop holds the state dir's lock."""

    exit_code = 4


class StateError(UserError):
    """The state dir cannot be read or written."""
