"""What a run of the checks produced: per-check results, a report, and bounded summaries for humans and prompts."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from codex_self_iter.state.fsio import read_end, read_json
from codex_self_iter.text import shorten

OUTPUT_TAIL_CHARS = 4000
EXCERPT_LINES = 12  # what a person sees of a failing check; the full output is in its log files
EXCERPT_LINE_CHARS = 200
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


class CheckStatus(StrEnum):
    """How one check ended; only FAILED and TIMED_OUT are the work's fault."""

    PASSED = "passed"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    ERROR = "error"  # could not start: the command or its interpreter is missing; a setup problem
    CANCELLED = "cancelled"  # the run was cancelled (STOP) before or while this check ran


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check."""

    name: str
    argv: list[str]
    status: CheckStatus
    exit_code: int | None
    duration_sec: float
    source: str = "config"
    timeout_sec: float | None = None
    error: str = ""
    output_tail: str = ""
    stdout_path: str = ""
    stderr_path: str = ""

    @property
    def passed(self) -> bool:
        """True when the check ran and exited 0 in time."""
        return self.status is CheckStatus.PASSED

    @property
    def timed_out(self) -> bool:
        """True when the check was killed for running past its timeout."""
        return self.status is CheckStatus.TIMED_OUT

    def describe(self) -> str:
        """A short phrase for this outcome, e.g. 'failed (exit 1)'."""
        if self.status is CheckStatus.FAILED:
            return f"failed (exit {self.exit_code})"
        if self.status is CheckStatus.TIMED_OUT:
            return f"timed out after {self.timeout_sec:g}s (its process group was killed)"
        if self.status is CheckStatus.ERROR:
            return f"could not run: {self.error}"
        return self.status.value

    def excerpt(self) -> dict[str, Any]:
        """What status and the terminal show of a check that did not pass: the last lines and where its logs are."""
        lines = [line for line in self.output_tail.splitlines() if line.strip()][-EXCERPT_LINES:]
        return {
            "outcome": self.describe(),
            "tail": [shorten(line, EXCERPT_LINE_CHARS) for line in lines],
            "logs": [path for path in (self.stdout_path, self.stderr_path) if path],
        }

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "name": self.name,
            "argv": self.argv,
            "status": self.status.value,
            "passed": self.passed,
            "timed_out": self.timed_out,
            "exit_code": self.exit_code,
            "duration_sec": round(self.duration_sec, 3),
            "source": self.source,
            "timeout_sec": self.timeout_sec,
            "error": self.error,
            "output_tail": self.output_tail,
            "stdout_path": self.stdout_path,
            "stderr_path": self.stderr_path,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        """The inverse of to_dict; raises KeyError/ValueError/TypeError on a malformed dict."""
        return cls(
            name=str(data["name"]),
            argv=[str(arg) for arg in data["argv"]],
            status=CheckStatus(data["status"]),
            exit_code=None if data.get("exit_code") is None else int(data["exit_code"]),
            duration_sec=float(data.get("duration_sec", 0.0)),
            source=str(data.get("source", "")),
            timeout_sec=None if data.get("timeout_sec") is None else float(data["timeout_sec"]),
            error=str(data.get("error", "")),
            output_tail=str(data.get("output_tail", "")),
            stdout_path=str(data.get("stdout_path", "")),
            stderr_path=str(data.get("stderr_path", "")),
        )


@dataclass(frozen=True)
class CheckReport:
    """All checks of one run, in configuration order."""

    results: list[CheckResult] = field(default_factory=list)
    digest: str = ""

    @property
    def all_passed(self) -> bool:
        """True when every check passed (vacuously true with no checks)."""
        return all(result.passed for result in self.results)

    @property
    def any_error(self) -> bool:
        """True when some check could not run at all: a setup problem, not the agent's fault."""
        return any(result.status is CheckStatus.ERROR for result in self.results)

    @property
    def cancelled(self) -> bool:
        """True when the run was cancelled before every check finished."""
        return any(result.status is CheckStatus.CANCELLED for result in self.results)

    @property
    def not_passed(self) -> list[CheckResult]:
        """The checks that did not pass, in order."""
        return [result for result in self.results if not result.passed]

    def summary(self) -> str:
        """One line, e.g. '2/3 checks passed (pytest failed)'."""
        if not self.results:
            return "no checks configured"
        passed = len(self.results) - len(self.not_passed)
        line = f"{passed}/{len(self.results)} checks passed"
        if self.not_passed:
            line += " (" + ", ".join(f"{r.name} {_short(r)}" for r in self.not_passed) + ")"
        return line

    def summary_for_prompt(self, max_chars: int = 6000) -> str:
        """The summary plus the output tails of checks that did not pass, at most max_chars long."""
        head = f"Checks: {self.summary()}."
        failing = self.not_passed
        if not failing:
            return shorten(head, max_chars)
        sections = [f"### {r.name}: {r.describe()}\n$ {_command_line(r.argv)}\n" for r in failing]
        budget = max_chars - len(head) - sum(len(s) + 2 for s in sections)
        share = max(0, budget // len(failing))
        parts = [head]
        for section, result in zip(sections, failing, strict=True):
            parts.append(section + _fenced(result.output_tail, share))
        return shorten("\n\n".join(parts), max_chars)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (this is what checks.json holds)."""
        return {
            "summary": self.summary(),
            "all_passed": self.all_passed,
            "any_error": self.any_error,
            "cancelled": self.cancelled,
            "digest": self.digest,
            "results": [result.to_dict() for result in self.results],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckReport:
        """The inverse of to_dict; raises KeyError/ValueError/TypeError on a malformed dict."""
        return cls([CheckResult.from_dict(item) for item in data["results"]], str(data.get("digest", "")))


def excerpt_lines(name: str, excerpt: dict[str, Any]) -> list[str]:
    """A failing check for people: its outcome, the last lines of its output, and the paths of its full logs."""
    lines = [f"{name}: {excerpt.get('outcome') or 'did not pass'}; the end of its output:"]
    tail = [str(line) for line in excerpt.get("tail") or []]
    lines += [f"  | {line}" for line in tail] or ["  | (no output)"]
    logs = [str(path) for path in excerpt.get("logs") or []]
    if logs:
        rest = ", ".join(Path(path).name for path in logs[1:])
        lines.append(f"  full log: {logs[0]}" + (f" (also {rest})" if rest else ""))
    return lines


def load_report(path: Path) -> CheckReport | None:
    """The report stored at path (a checks.json), or None when it is missing or unreadable."""
    data = read_json(path)
    if not isinstance(data, dict):
        return None
    try:
        return CheckReport.from_dict(data)
    except (KeyError, ValueError, TypeError):
        return None


def read_tail(path: Path, max_chars: int) -> str:
    """The last max_chars characters of a text file, read boundedly, with ANSI colours and \\r progress removed."""
    if max_chars <= 0:
        return ""
    return clean_output(read_end(path, max_chars * 4))[-max_chars:]


def clean_output(text: str) -> str:
    """Text without ANSI escapes, and with each \\r-rewritten line reduced to its last state."""
    text = _ANSI.sub("", text).replace("\r\n", "\n")
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def combined_tail(stdout: str, stderr: str, max_chars: int = OUTPUT_TAIL_CHARS) -> str:
    """The ends of both streams in at most max_chars, labelled when both have content."""
    stdout, stderr = stdout.strip("\n"), stderr.strip("\n")
    if not stderr or not stdout:
        return (stdout or stderr)[-max_chars:]
    labels = ("[stdout]\n", "\n[stderr]\n")
    room = max(0, max_chars - sum(map(len, labels)))
    err_room = max(room // 2, room - len(stdout))
    out_room = room - min(len(stderr), err_room)
    return f"{labels[0]}{stdout[-out_room:] if out_room else ''}{labels[1]}{stderr[-err_room:] if err_room else ''}"


def _short(result: CheckResult) -> str:
    return {
        CheckStatus.FAILED: "failed",
        CheckStatus.TIMED_OUT: "timed out",
        CheckStatus.ERROR: "could not run",
        CheckStatus.CANCELLED: "cancelled",
    }.get(result.status, result.status.value)


def _command_line(argv: list[str]) -> str:
    if len(argv) == 3 and argv[:2] == ["/bin/sh", "-c"]:
        return argv[2]
    return shlex.join(argv)


def _fenced(text: str, max_chars: int) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    room = max_chars - 2 * len(fence) - 2
    if room <= 0 or not text:
        return "(no output)" if not text else ""
    if len(text) > room:
        text = "…" + text[-(room - 1) :]
    return f"{fence}\n{text}\n{fence}"
