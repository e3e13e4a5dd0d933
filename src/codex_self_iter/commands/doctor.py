"""`doctor`: can a loop run here? One ok / warn / fail line per prerequisite, each problem with its fix."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from codex_self_iter.agent.runners import codex_cli, make_runner
from codex_self_iter.agent.types import FAIL, OK, WARN, Finding
from codex_self_iter.commands.diagnose import (
    checks_finding,
    git_finding,
    hook_finding,
    inputs_findings,
    plugin_finding,
    python_finding,
    state_dir_finding,
    tasks_findings,
)
from codex_self_iter.commands.loop_view import holder_pid, pid_alive
from codex_self_iter.commands.target import fallback_layout, options_from
from codex_self_iter.commands.worktree_view import worktree_findings
from codex_self_iter.config import Settings
from codex_self_iter.errors import UserError
from codex_self_iter.options import Prepared, configured_checks, prepare, resolve_workspace
from codex_self_iter.state.layout import Layout
from codex_self_iter.state.stop_request import read_stop_reason, stop_file_present

LABELS = {OK: "ok  ", WARN: "warn", FAIL: "FAIL"}


def cmd_doctor(args: argparse.Namespace) -> int:
    """Print every finding; exit 1 when any of them is a failure."""
    findings = diagnose(args)
    print_findings(findings, sys.stdout)
    return 1 if any(f.level == FAIL for f in findings) else 0


def diagnose(args: argparse.Namespace) -> list[Finding]:
    """Every finding, in the order a user would fix them."""
    options = options_from(args)
    workspace = resolve_workspace(options.workspace)
    findings = [python_finding()]
    prepared: Prepared | None = None
    try:
        prepared = prepare(options)
    except UserError as exc:
        findings.append(Finding(FAIL, f"config: {exc}", "fix it; every key is explained in config.example.toml"))
    settings = prepared.settings if prepared else Settings()
    layout = prepared.layout if prepared else fallback_layout(options, workspace)
    if prepared is not None:
        where = f"{prepared.config_path} is valid" if prepared.config_path else "no config file (defaults)"
        findings.append(Finding(OK, f"config: {where}", "" if prepared.config_path else "codex-self-iter init"))
    template = settings.agent_command_template
    codex = codex_cli(settings).checkup(runs_agent=not template)  # the plugin and the hook need codex either way
    findings += codex.findings[:1] + (_template_findings(prepared, settings, layout) if template else [])
    findings += codex.findings[1:]
    binary = codex.program
    findings.append(git_finding(workspace, codex_needs_it=not template and not settings.codex.skip_git_repo_check))
    findings += inputs_findings(layout)
    findings += tasks_findings(layout.workspace / settings.tasks_dir, layout.workspace)
    findings.append(state_dir_finding(layout.state_dir))
    try:
        checks, source = configured_checks(settings, workspace)
        findings.append(checks_finding(checks, source, workspace, settings.reviewer))
    except UserError as exc:
        findings.append(Finding(FAIL, f"checks: {exc}", "fix `checks` in the config"))
    findings.append(plugin_finding() if binary else Finding(WARN, "plugin: cannot tell without codex"))
    findings.append(
        hook_finding(binary, workspace) if binary else Finding(WARN, "in-session hook: cannot tell without codex")
    )
    findings += _state_findings(layout)
    findings += worktree_findings(workspace, settings.isolation)
    return findings


def print_findings(findings: list[Finding], out: TextIO) -> None:
    """One line per finding, the fix under each problem, then a count."""
    for finding in findings:
        print(f"{LABELS[finding.level]}  {finding.what}", file=out)
        if finding.fix and finding.level != OK:
            print(f"      fix: {finding.fix}", file=out)
    fails = sum(f.level == FAIL for f in findings)
    warns = sum(f.level == WARN for f in findings)
    verdict = "not ready" if fails else "ready"
    print(f"doctor: {verdict} ({fails} failure(s), {warns} warning(s))", file=out)


def _template_findings(prepared: Prepared | None, settings: Settings, layout: Layout) -> list[Finding]:
    config_dir = prepared.config_path.parent if prepared and prepared.config_path else None
    try:
        runner = make_runner(settings, layout, config_dir)
    except UserError as exc:
        return [Finding(FAIL, f"agent command: {exc}", "fix agent_command_template")]
    return runner.checkup().findings


def _state_findings(layout: Layout) -> list[Finding]:
    found: list[Finding] = []
    stop = stop_file_present((layout.stop_file, layout.global_stop_file))
    if stop is not None:
        found.append(Finding(WARN, f"{stop} is present ({read_stop_reason(stop)})", "remove it or `run --clear-stop`"))
    pid = holder_pid(layout)
    if layout.holder_file.exists() and pid_alive(pid):
        found.append(Finding(OK, f"a loop is running here (pid {pid}); `codex-self-iter status` shows it"))
    return found
