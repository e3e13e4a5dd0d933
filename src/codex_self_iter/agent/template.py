"""Run the agent through a user's command template: split into argv first, then fill placeholders."""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from codex_self_iter.agent.kinds import FailureKind, TokenUsage
from codex_self_iter.agent.types import OK, AgentRequest, AgentResult, Checkup, Finding
from codex_self_iter.errors import UserError
from codex_self_iter.proc.process import run_process
from codex_self_iter.state.fsio import read_end

PLACEHOLDERS = ("prompt_file", "workspace", "role", "iteration", "state_dir", "run_dir", "schema_file")
_PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_]+)\}")
REPO_ROOT = Path(__file__).resolve().parents[3]
FINAL_MESSAGE_MAX_CHARS = 200_000


def split_template(template: str, source: str = "agent_command_template") -> list[str]:
    """The template's tokens, checked: {prompt_file} present, every placeholder known."""
    try:
        tokens = shlex.split(template)
    except ValueError as exc:
        raise UserError(f"{source}: cannot split the command template ({exc}); check its quotes") from exc
    if not tokens:
        raise UserError(f"{source}: the command template is empty; set it or remove it to use the codex runner")
    names = [name for token in tokens for name in _PLACEHOLDER_RE.findall(token)]
    unknown = sorted(set(names) - set(PLACEHOLDERS))
    if unknown:
        known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
        raise UserError(f"{source}: unknown placeholder {{{unknown[0]}}}; the known ones are {known}")
    if "prompt_file" not in names:
        raise UserError(f"{source}: the command template must contain {{prompt_file}}")
    return tokens


def resolve_executable(token: str, search_dirs: list[Path], source: str) -> str:
    """An absolute path for the template's program: PATH names stay, relative paths are searched."""
    if "/" not in token and shutil.which(token):
        return token
    path = Path(token).expanduser()
    candidates = [path] if path.is_absolute() else [base / path for base in [*search_dirs, REPO_ROOT]]
    for candidate in candidates:
        if candidate.is_file():
            if not os.access(candidate, os.X_OK):
                raise UserError(f"{source}: agent executable {candidate} is not executable; chmod +x it")
            return str(candidate.resolve())
    tried = ", ".join(["PATH"] * ("/" not in token) + [str(c.parent) for c in candidates])
    hint = "install it or give its path"
    if path.name == "invoke-codex-agent.sh":
        hint = "give the wrapper's absolute path, or drop agent_command_template to use the built-in codex runner"
    raise UserError(f"{source}: agent executable {token!r} not found (looked in {tried}); {hint}")


class TemplateRunner:
    """An AgentRunner that runs a command template; the agent's stdout is its final message."""

    name = "template"

    def __init__(self, template: str, search_dirs: list[Path], source: str = "agent_command_template") -> None:
        self.template = template
        self.tokens = split_template(template, source)
        self.executable = resolve_executable(self.tokens[0], search_dirs, source)

    @property
    def unsandboxed(self) -> bool:
        """A template's own wrapper decides about sandboxing; the loop cannot tell."""
        return False

    def prepare(self) -> object:
        """The executable was already resolved when the runner was built."""
        return self.executable

    @property
    def prompt_on_stdin(self) -> bool:
        """A template gets the prompt file's path, not the prompt on stdin."""
        return False

    def preflight(self) -> list[str]:
        """Nothing left to check: a missing executable already failed when the runner was built."""
        return []

    def checkup(self, runs_agent: bool = True) -> Checkup:
        """The template and the program it runs (found when the runner was built, or building it failed)."""
        return Checkup([Finding(OK, f"agent command: {self.template} (program: {self.executable})")], self.executable)

    def status_fields(self) -> dict[str, Any]:
        """The template and its resolved program."""
        return {"agent": self.name, "template": shlex.join(self.tokens), "executable": self.executable}

    def describe(self, request: AgentRequest) -> list[str]:
        """The exact argv for this request: each token filled separately, so values never split or inject."""
        values = {
            "prompt_file": str(request.prompt_file),
            "workspace": str(request.workspace),
            "role": request.role.value,
            "iteration": str(request.iteration),
            "state_dir": str(request.state_dir),
            "run_dir": str(request.run_dir),
            "schema_file": str(request.schema_file),
        }
        argv = [_PLACEHOLDER_RE.sub(lambda m: values[m.group(1)], token) for token in self.tokens]
        argv[0] = self.executable if self.tokens[0] == argv[0] else argv[0]
        return argv

    def run(self, request: AgentRequest) -> AgentResult:
        """Run the template once; stdin is closed, output is streamed to run_dir."""
        argv = self.describe(request)
        result = run_process(
            argv,
            cwd=request.workspace,
            stdout_path=request.run_dir / "stdout.log",
            stderr_path=request.run_dir / "stderr.log",
            timeout_sec=request.timeout_sec,
            cancel=request.cancel,
            on_start=request.on_start,
            on_tick=_without_usage(request.on_tick),
        )
        message = _tail_text(result.stdout_path, FINAL_MESSAGE_MAX_CHARS)
        failure, why = FailureKind.NONE, ""
        if result.start_error:
            failure, why = FailureKind.FATAL, f"cannot start {argv[0]}: {result.start_error}"
        elif result.timed_out:
            failure, why = (
                FailureKind.TRANSIENT,
                f"timed out after {request.timeout_sec:g}s; the process group was killed",
            )
        elif result.exit_code != 0 and not result.cancelled:
            failure, why = FailureKind.TRANSIENT, f"exit code {result.exit_code}: {_tail_text(result.stderr_path, 300)}"
        return AgentResult(
            final_message=message,
            exit_code=result.exit_code,
            duration_sec=result.duration_sec,
            timed_out=result.timed_out,
            cancelled=result.cancelled,
            failure=failure,
            failure_message=why.strip(),
            argv=argv,
        )


def _tail_text(path: Path, max_chars: int) -> str:
    return read_end(path, max_chars * 4)[-max_chars:]


def _without_usage(tick: Callable[[float, TokenUsage | None], None] | None) -> Callable[[float], None] | None:
    if tick is None:
        return None
    return lambda elapsed: tick(elapsed, None)
