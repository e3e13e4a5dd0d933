"""What `doctor` says about the built-in runner: codex found and its version, the sandbox, the login."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from codex_self_iter.agent.types import FAIL, OK, WARN, Checkup, Finding
from codex_self_iter.codex import TESTED_CODEX_VERSION
from codex_self_iter.codex.binary import INSTALL_HINT, find_codex
from codex_self_iter.codex.probe import probe_codex
from codex_self_iter.codex.settings import CodexSettings
from codex_self_iter.errors import UserError
from codex_self_iter.proc.process import run_process
from codex_self_iter.text import first_line

PROBE_TIMEOUT_SEC = 20.0


def codex_checkup(settings: CodexSettings, env: Mapping[str, str] | None, runs_agent: bool) -> Checkup:
    """codex's lines for doctor; when a command template runs the agent, codex only serves the plugin and the
    in-session hook, so its problems are warnings and its sandbox is not shown."""
    codex, binary = codex_finding(settings.binary, env, needed=runs_agent)
    findings = [codex, *([sandbox_finding(settings)] if runs_agent else [])]
    return Checkup(findings + ([login_finding(binary)] if binary else []), binary)


def codex_finding(configured: str | None, env: Mapping[str, str] | None, needed: bool) -> tuple[Finding, str | None]:
    """Whether codex is found and which version it is; missing is a warning when a template runs the agent."""
    try:
        binary = find_codex(configured, env)
    except UserError as exc:
        if not needed:
            return Finding(WARN, "codex not found (the agent_command_template does not need it)", INSTALL_HINT), None
        return Finding(FAIL, "codex not found", f"{INSTALL_HINT}, or set CODEX_BIN ({exc})"), None
    try:
        probe = probe_codex(binary, env=env, timeout_sec=PROBE_TIMEOUT_SEC)
    except UserError as exc:
        return Finding(FAIL if needed else WARN, f"codex at {binary} does not answer: {exc}", INSTALL_HINT), binary
    if probe.is_tested_version:
        return Finding(OK, f"codex {probe.version} at {binary}"), binary
    version = probe.version or "(unknown version)"
    return Finding(WARN, f"codex {version} at {binary}; tested with {TESTED_CODEX_VERSION}", INSTALL_HINT), binary


def login_finding(binary: str) -> Finding:
    """`codex login status` (a hint: an API key in CODEX_API_KEY works without a login)."""
    with tempfile.TemporaryDirectory(prefix="codex-self-iter-doctor-") as tmp:
        out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
        done = run_process(
            [binary, "login", "status"], cwd=Path(tmp), stdout_path=out, stderr_path=err, timeout_sec=PROBE_TIMEOUT_SEC
        )
        said = first_line(out.read_text(errors="replace") + "\n" + err.read_text(errors="replace"), 200)
    if done.start_error or done.timed_out:
        why = done.start_error or f"no answer within {PROBE_TIMEOUT_SEC:g}s"
        return Finding(WARN, f"codex login status failed ({why})", "run `codex login status` yourself")
    if done.exit_code == 0:
        return Finding(OK, f"codex login: {said}")
    if os.environ.get("CODEX_API_KEY"):
        return Finding(OK, "codex login: CODEX_API_KEY is set")
    return Finding(WARN, f"codex login: {said}", "run `codex login` (or set CODEX_API_KEY) before `run`")


def sandbox_finding(codex: CodexSettings) -> Finding:
    """The sandbox the built-in runner will use; anything without one is a warning."""
    warning = codex.safety_warning()
    if warning:
        return Finding(
            WARN, f"sandbox: {warning}", 'use sandbox = "workspace-write" unless an outer sandbox contains it'
        )
    note = " (the workspace's .git is read-only: add it to writable_roots if the agent must commit)"
    return Finding(OK, f"sandbox: {codex.sandbox}" + (note if codex.sandbox == "workspace-write" else ""))
