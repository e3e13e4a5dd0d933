"""Asking the installed codex, once per run, which version it is and which flags it accepts."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from codex_self_iter.codex import TESTED_CODEX_VERSION
from codex_self_iter.errors import UserError
from codex_self_iter.proc.process import group_alive, kill_group
from codex_self_iter.text import first_line

_VERSION_RE = re.compile(r"(\d+\.\d+\.\d+(?:[-+.][0-9A-Za-z.-]+)?)")
# An option line of clap's help: "  -c, --config <key=value>" or "      --json".
_OPTION_LINE_RE = re.compile(r"^\s+(-[A-Za-z0-9](?=[,\s]|$))?(?:,\s*)?(--[A-Za-z0-9][A-Za-z0-9-]*)?")


@dataclass(frozen=True)
class CodexProbe:
    """What the installed codex is and what its `exec` / `exec resume` accept."""

    binary: str
    version: str | None
    exec_flags: frozenset[str]
    resume_flags: frozenset[str]  # empty when this codex has no `exec resume`

    @property
    def has_resume(self) -> bool:
        """True when `codex exec resume` exists."""
        return bool(self.resume_flags)

    @property
    def is_tested_version(self) -> bool:
        """True when this is exactly the version the end-to-end suite runs against."""
        return self.version == TESTED_CODEX_VERSION

    def supports(self, flag: str, *, resume: bool = False) -> bool:
        """True when `codex exec` (or `exec resume`) accepts the flag (`--name` or `-x`; `=value` ignored)."""
        name = flag.split("=", 1)[0]
        return name in (self.resume_flags if resume else self.exec_flags)

    def missing(self, flags: Iterable[str], *, resume: bool = False) -> list[str]:
        """The flags of `flags` this codex does not accept, in order."""
        return [flag for flag in flags if not self.supports(flag, resume=resume)]


def probe_codex(binary: str, *, env: Mapping[str, str] | None = None, timeout_sec: float = 30.0) -> CodexProbe:
    """Run `--version`, `exec --help` and `exec resume --help`; a UserError when codex cannot answer."""
    code, out, err = _capture([binary, "--version"], env, timeout_sec)
    if code != 0:
        raise UserError(f"`{binary} --version` failed (exit {code}): {first_line(err + out, 300)}; reinstall codex")
    version = parse_version(out)
    code, out, err = _capture([binary, "exec", "--help"], env, timeout_sec)
    if code != 0:
        raise UserError(
            f"`{binary} exec --help` failed (exit {code}): {first_line(err + out, 300)}; "
            f"codex-self-iter needs codex {TESTED_CODEX_VERSION} or a compatible version"
        )
    exec_flags = parse_flags(out)
    code, out, _ = _capture([binary, "exec", "resume", "--help"], env, timeout_sec)
    resume_flags = parse_flags(out) if code == 0 else frozenset()
    return CodexProbe(binary, version, exec_flags, resume_flags)


def parse_version(text: str) -> str | None:
    """The x.y.z version in `codex --version` output ("codex-cli 0.169.0")."""
    match = _VERSION_RE.search(text)
    return match.group(1) if match else None


def parse_flags(help_text: str) -> frozenset[str]:
    """Every short and long option named on an option line of clap's --help output."""
    flags: set[str] = set()
    for line in help_text.splitlines():
        match = _OPTION_LINE_RE.match(line)
        if match is None:
            continue
        flags.update(group for group in match.groups() if group)
    return frozenset(flags)


def _capture(argv: list[str], env: Mapping[str, str] | None, timeout_sec: float) -> tuple[int | None, str, str]:
    """Run argv with stdin closed; its own session, so a timeout can end the node launcher and its child."""
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env) if env is not None else None,
            start_new_session=True,
        )
    except OSError as exc:
        raise UserError(f"cannot run {argv[0]}: {exc.strerror or exc}; check CODEX_BIN / codex.binary") from exc
    try:
        out, err = proc.communicate(timeout=timeout_sec)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid, grace_sec=1.0)
        proc.communicate()
        raise UserError(
            f"`{' '.join(argv[1:])}` of {argv[0]} gave no answer within {timeout_sec:g}s; is codex installed correctly?"
        ) from None
    if group_alive(proc.pid):  # the launcher should not leave children behind; if it did, end them
        kill_group(proc.pid, grace_sec=0.5)
    return proc.returncode, out.decode("utf-8", errors="replace"), err.decode("utf-8", errors="replace")
