"""Checks: commands the loop itself runs to verify the work, never taken from the agent's output."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from codex_self_iter.checks.report import (
    OUTPUT_TAIL_CHARS,
    CheckReport,
    CheckResult,
    CheckStatus,
    combined_tail,
    load_report,
    read_tail,
)
from codex_self_iter.config import Settings
from codex_self_iter.errors import UserError
from codex_self_iter.proc.process import ProcessHandle, ProcessResult, run_process
from codex_self_iter.state.fsio import atomic_write_json, make_private_dir

__all__ = [
    "DEFAULT_TIMEOUT_SEC",
    "CheckReport",
    "CheckResult",
    "CheckSpec",
    "CheckStatus",
    "checks_digest",
    "load_report",
    "parse_check",
    "run_checks",
]

DEFAULT_TIMEOUT_SEC: float = Settings.model_fields["check_timeout_sec"].default  # one default: the setting's
CHECK_OUTPUT_BYTES = 2 * 1024 * 1024
REPORT_FILE = "checks.json"
SHELL = "/bin/sh"


@dataclass(frozen=True)
class CheckSpec:
    """One check: an argv run in the workspace, and why it is a check."""

    name: str
    argv: list[str]
    shell: bool = False
    source: str = "config"
    timeout_sec: float = DEFAULT_TIMEOUT_SEC

    @property
    def command(self) -> str:
        """The command as a user would type it."""
        return self.argv[2] if self.shell else shlex.join(self.argv)


def parse_check(
    command: str,
    shell: bool = False,
    timeout: float | None = None,
    *,
    name: str | None = None,
    source: str = "config",
) -> CheckSpec:
    """A CheckSpec from a configured command string; shell=True runs it via /bin/sh -c (config opt-in only)."""
    label = name or command.strip() or "(empty)"
    timeout_sec = DEFAULT_TIMEOUT_SEC if timeout is None else float(timeout)
    if not timeout_sec > 0:
        raise UserError(f"check {label!r}: timeout must be a positive number of seconds, got {timeout!r}")
    if not command.strip():
        raise UserError("check command is empty; remove it from the config or give the command to run")
    if shell:
        argv = [SHELL, "-c", command]
    else:
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise UserError(
                f"check {label!r}: cannot split the command into arguments ({exc}); fix its quoting"
                " or set shell = true for this check"
            ) from None
    return CheckSpec(name or _default_name(command), argv, shell, source, timeout_sec)


def checks_digest(specs: Sequence[CheckSpec]) -> str:
    """A sha256 of the checks' argv lists, so a change of checks during a run can be noticed."""
    payload = json.dumps([spec.argv for spec in specs], separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def run_checks(
    specs: Sequence[CheckSpec],
    workspace: Path,
    out_dir: Path,
    cancel: Callable[[], bool] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    on_check: Callable[[int, CheckSpec], None] | None = None,
    on_process_start: Callable[[ProcessHandle], None] | None = None,
    max_output_bytes: int = CHECK_OUTPUT_BYTES,
) -> CheckReport:
    """Run every check in order in workspace, write out_dir/checks.json, and return the report."""
    make_private_dir(out_dir)
    results: list[CheckResult] = []
    for index, spec in enumerate(specs, start=1):
        if cancel is not None and cancel():
            results.append(_result(spec, CheckStatus.CANCELLED, None, 0.0))
            continue
        if on_check is not None:
            on_check(index, spec)
        results.append(_run_one(index, spec, workspace, out_dir, cancel, env, on_process_start, max_output_bytes))
    report = CheckReport(results, checks_digest(specs))
    atomic_write_json(out_dir / REPORT_FILE, report.to_dict())
    return report


def _run_one(
    index: int,
    spec: CheckSpec,
    workspace: Path,
    out_dir: Path,
    cancel: Callable[[], bool] | None,
    env: Mapping[str, str] | None,
    on_process_start: Callable[[ProcessHandle], None] | None,
    max_output_bytes: int,
) -> CheckResult:
    stdout_path, stderr_path = out_dir / f"check-{index}-stdout.log", out_dir / f"check-{index}-stderr.log"
    logs = (stdout_path, stderr_path)
    missing = _missing_executable(spec.argv[0], workspace, env)
    if missing:
        return _result(spec, CheckStatus.ERROR, None, 0.0, error=missing)
    done = run_process(
        spec.argv,
        cwd=workspace,
        stdout_path=stdout_path,
        stderr_path=stderr_path,
        timeout_sec=spec.timeout_sec,
        env=env,
        cancel=cancel,
        on_start=on_process_start,
        max_output_bytes=max_output_bytes,
    )
    stderr = read_tail(stderr_path, OUTPUT_TAIL_CHARS)
    tail = combined_tail(read_tail(stdout_path, OUTPUT_TAIL_CHARS), stderr)
    if done.start_error is not None:
        error = f"could not start {spec.argv[0]!r}: {done.start_error}"
        return _result(spec, CheckStatus.ERROR, None, done.duration_sec, error=error, logs=logs)
    status, error = _classify(spec, done, stderr)
    return _result(spec, status, done.exit_code, done.duration_sec, error=error, output_tail=tail, logs=logs)


def _classify(spec: CheckSpec, done: ProcessResult, stderr: str) -> tuple[CheckStatus, str]:
    if done.timed_out:
        return CheckStatus.TIMED_OUT, ""
    if done.cancelled:
        return CheckStatus.CANCELLED, ""
    if done.exit_code == 0:
        return CheckStatus.PASSED, ""
    # Our own /bin/sh wrapper reporting a missing or non-executable command is a setup problem.
    if spec.shell and done.exit_code in (126, 127):
        what = "found" if done.exit_code == 127 else "executable"
        return CheckStatus.ERROR, f"the shell exited {done.exit_code}: a command was not {what} (see its output)"
    module = _python_module(spec.argv)
    if module and done.exit_code == 1 and f"No module named {module}" in stderr:
        return CheckStatus.ERROR, (
            f"{spec.argv[0]} has no module {module!r}; install it in the project's environment or configure the check"
        )
    return CheckStatus.FAILED, ""


def _missing_executable(program: str, workspace: Path, env: Mapping[str, str] | None) -> str:
    """Why program cannot be executed, or '' when it looks runnable."""
    if "/" not in program:
        search_path = (env if env is not None else os.environ).get("PATH", os.defpath)
        if shutil.which(program, path=search_path) is None:
            return f"command not found: {program!r} is not on PATH; install it or change the check in the config"
        return ""
    target = workspace / program
    if not target.is_file():
        return f"{program!r} does not exist (relative paths are taken from the workspace)"
    if not os.access(target, os.X_OK):
        return f"{program!r} is not executable; chmod +x it or run it through its interpreter"
    return ""


def _python_module(argv: list[str]) -> str:
    if len(argv) >= 3 and Path(argv[0]).name.startswith("python") and argv[1] == "-m":
        return argv[2]
    return ""


def _default_name(command: str) -> str:
    text = " ".join(command.split())
    return text if len(text) <= 60 else text[:59] + "…"


def _result(
    spec: CheckSpec,
    status: CheckStatus,
    exit_code: int | None,
    duration: float,
    *,
    error: str = "",
    output_tail: str = "",
    logs: tuple[Path, Path] | None = None,
) -> CheckResult:
    return CheckResult(
        name=spec.name,
        argv=list(spec.argv),
        status=status,
        exit_code=exit_code,
        duration_sec=duration,
        source=spec.source,
        timeout_sec=spec.timeout_sec,
        error=error,
        output_tail=output_tail,
        stdout_path=str(logs[0]) if logs else "",
        stderr_path=str(logs[1]) if logs else "",
    )
