"""git for worktree runs, raising GitError: the hardened argv and environment of workspace/git.py, bounded time."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

from codex_self_iter.errors import UserError
from codex_self_iter.workspace.git import git_argv, git_env

GIT_TIMEOUT_SEC = 120.0
FALLBACK_IDENTITY = {
    "GIT_AUTHOR_NAME": "codex-self-iter",
    "GIT_AUTHOR_EMAIL": "codex-self-iter@localhost",
    "GIT_COMMITTER_NAME": "codex-self-iter",
    "GIT_COMMITTER_EMAIL": "codex-self-iter@localhost",
}


class GitError(UserError):
    """A git command failed; the message names the command and git's own words."""


def git(
    cwd: Path, *args: str, env: Mapping[str, str] | None = None, stdin: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run `git <args>` in cwd; with check, a failure raises GitError with git's first error line."""
    # Repository config must not run programs in the loop's git calls (the agent can write .git/config in a worktree).
    full_env = {**git_env(), **(env or {})}
    try:
        done = subprocess.run(
            git_argv(cwd, args),
            cwd=cwd,
            env=full_env,
            input=stdin,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=GIT_TIMEOUT_SEC,
            stdin=None if stdin is not None else subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH; install git to use worktree runs") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"`git {' '.join(args)}` in {cwd} took longer than {GIT_TIMEOUT_SEC:.0f}s") from None
    if check and done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit {done.returncode}"
        raise GitError(f"`git {' '.join(args)}` failed in {cwd}: {reason}")
    return done


def out(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    """git's stdout, stripped."""
    return git(cwd, *args, env=env).stdout.strip()


def ok(cwd: Path, *args: str) -> bool:
    """True when the git command exits 0."""
    return git(cwd, *args, check=False).returncode == 0


def identity_env(cwd: Path) -> dict[str, str]:
    """The user's own identity when git has one, else a neutral one, so a loop commit never fails on it."""
    return {} if ok(cwd, "var", "GIT_COMMITTER_IDENT") and ok(cwd, "var", "GIT_AUTHOR_IDENT") else FALLBACK_IDENTITY
