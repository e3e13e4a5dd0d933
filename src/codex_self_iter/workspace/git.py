"""The one way the loop runs git: bounded output, a timeout, and none of the repository's configured commands.

The agent can write `.git/config` and `.gitattributes`. Left alone, the loop's own `git status` would run the
agent's `core.fsmonitor` hook, and `git diff` its clean filters, external diff and textconv drivers, with the
loop's (unsandboxed) rights. Every invocation here switches them off on the command line, which overrides the
repository's config: fsmonitor and hooks off, no external diff or textconv, every filter driver the config names
emptied (git then runs none), and no transport but local files.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

GIT_OUTPUT_LIMIT = 16 << 20
GIT_TIMEOUT_SEC = 60.0
SAFE_CONFIG = (
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.quotepath=off",
    "core.pager=cat",
    "core.sshCommand=false",
    "diff.external=",
    "protocol.allow=never",
    "protocol.file.allow=always",
    "submodule.recurse=false",
    "commit.gpgSign=false",
    "tag.gpgSign=false",
)
_FILTER_KEY = re.compile(r"^filter\.(.+)\.(clean|smudge|process)$", re.IGNORECASE)


@dataclass(frozen=True)
class GitOutput:
    """What one git command said."""

    code: int | None
    stdout: bytes
    truncated: bool
    stderr: bytes = b""

    @property
    def ok(self) -> bool:
        """True when git exited 0 (or its output was cut at the limit, which ended it on purpose)."""
        return self.code == 0 or self.truncated

    def text(self) -> str:
        """stdout as text (undecodable bytes replaced)."""
        return self.stdout.decode("utf-8", errors="replace")

    def error(self) -> str:
        """The start of stderr, one line, for a message."""
        return " ".join(self.stderr.decode("utf-8", errors="replace").split())[:300]


def git_env() -> dict[str, str]:
    """The environment for git: no prompts, no pager, no optional index writes."""
    env = dict(os.environ)
    env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "GIT_OPTIONAL_LOCKS": "0", "GIT_ASKPASS": "true"})
    env.pop("GIT_EXTERNAL_DIFF", None)
    return env


def git_argv(workspace: Path, args: Sequence[str]) -> list[str]:
    """argv of a hardened git command in workspace (filter drivers the repository names are switched off)."""
    argv = ["git", "--no-pager"]
    for item in (*SAFE_CONFIG, *_filter_overrides(workspace)):
        argv += ["-c", item]
    return [*argv, *args]


def _filter_overrides(workspace: Path) -> list[str]:
    listed = _run(["git", *_flat_safe(), "config", "--null", "--get-regexp", r"^filter\."], workspace, 1 << 20, 10.0)
    found: list[str] = []
    for entry in listed.text().split("\0") if listed.code == 0 else []:
        key = entry.split("\n", 1)[0]
        if _FILTER_KEY.match(key):
            found.append(f"{key}=")
    return found


def _flat_safe() -> list[str]:
    return [part for item in SAFE_CONFIG for part in ("-c", item)]


def run_git(
    workspace: Path, args: Sequence[str], limit_bytes: int = GIT_OUTPUT_LIMIT, timeout: float = GIT_TIMEOUT_SEC
) -> GitOutput:
    """Run hardened git in workspace; at most limit_bytes of stdout are read (then git is ended)."""
    return _run(git_argv(workspace, args), workspace, limit_bytes, timeout)


def _run(argv: list[str], workspace: Path, limit_bytes: int, timeout: float) -> GitOutput:
    with tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen(
                argv, cwd=workspace, env=git_env(), stdout=subprocess.PIPE, stderr=errors, stdin=subprocess.DEVNULL
            )
        except OSError as exc:
            return GitOutput(None, b"", False, str(exc.strerror or exc).encode())
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            assert proc.stdout is not None
            with proc.stdout:
                data, truncated = _read_bounded(proc.stdout.fileno(), limit_bytes)
                if truncated:
                    proc.kill()
            code = proc.wait()
        finally:
            timer.cancel()
        errors.seek(0)
        return GitOutput(code, data, truncated, errors.read(4096))


def _read_bounded(fd: int, limit_bytes: int) -> tuple[bytes, bool]:
    """Up to limit_bytes from fd, read in chunks (so memory follows what arrives), and whether more was left."""
    chunks: list[bytes] = []
    size = 0
    while size < limit_bytes:
        chunk = os.read(fd, min(65536, limit_bytes - size))
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks), bool(os.read(fd, 1))
