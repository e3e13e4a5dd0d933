"""Settings: defaults, then the TOML config file, then the command line; validated with pydantic."""

from __future__ import annotations

import difflib
import errno
import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from codex_self_iter.codex.pricing import ModelPrice
from codex_self_iter.codex.settings import CodexSettings
from codex_self_iter.errors import UserError

DEFAULT_TEMPLATE = "scripts/invoke-codex-agent.sh {prompt_file} {workspace}"
# Upper bounds: a value past them is a typo or an attack, never a plan (2**63-1 iterations is not a budget).
COUNT_MAX = 1_000_000
SECONDS_MAX = 30 * 86400
YEAR_SEC = 366 * 86400
TOKENS_MAX = 10**13
CONFIG_MAX_BYTES = 4 << 20


class HookSettings(BaseModel):
    """Commands run at points of a loop's life, e.g. to send a notification; argv lists, no shell."""

    model_config = ConfigDict(extra="forbid")

    on_iteration: list[str] = Field(default_factory=list, description="Run after every iteration.")
    on_complete: list[str] = Field(default_factory=list, description="Run when the work is complete (verified).")
    on_stop: list[str] = Field(default_factory=list, description="Run when a run ends, for any reason.")
    timeout_sec: float = Field(default=30, gt=0, description="Wall-clock limit per hook; then its group is ended.")

    @field_validator("on_iteration", "on_complete", "on_stop")
    @classmethod
    def _program_first(cls, argv: list[str]) -> list[str]:
        if argv and not argv[0].strip():
            raise ValueError("the first item must name the program to run (or leave the list empty)")
        return argv


class Settings(BaseModel):
    """Every setting of a loop; the flat keys of the original tool keep their names and meanings."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # The original tool's keys.
    agent_command_template: str | None = Field(
        default=None, description="Agent command; must contain {prompt_file}. Unset = the built-in codex runner."
    )
    max_iterations: int = Field(default=0, ge=0, le=COUNT_MAX, description="Iteration budget; 0 = unbounded (warned).")
    max_stagnation: int = Field(
        default=4, ge=1, le=COUNT_MAX, description="Near-identical goals in a row before a re-plan/stop."
    )
    command_timeout_sec: float = Field(
        default=1200, gt=0, le=SECONDS_MAX, description="Wall-clock limit per agent call."
    )
    stop_file_name: str = Field(default="STOP", min_length=1, description="STOP sentinel under the state dir.")
    global_stop_file_name: str = Field(default=".codex-stop", min_length=1, description="Sentinel in the workspace.")
    history_tail: int = Field(default=8, ge=0, le=200, description="Recent iterations shown to the agent.")
    no_change_gate: bool = Field(default=True, description="Back off, then stop, when turns change nothing.")
    backoff_base_sec: float = Field(
        default=5, ge=0, le=SECONDS_MAX, description="Base of the exponential backoff after failures."
    )
    backoff_max_sec: float = Field(default=300, ge=0, le=SECONDS_MAX, description="Cap of every backoff.")
    no_change_backoff_sec: float = Field(
        default=60, ge=0, le=SECONDS_MAX, description="Base backoff for the no-change streak."
    )
    continue_false_backoff_sec: float = Field(
        default=300, ge=0, le=SECONDS_MAX, description="Base backoff when the agent is blocked."
    )
    planner_stop_backoff_sec: float = Field(
        default=600, ge=0, le=SECONDS_MAX, description="Backoff when the planner says stop."
    )
    planner_model_hint: str = Field(default="balanced", description="Style hint rendered into the planner prompt.")
    reviewer_model_hint: str = Field(default="strict", description="Style hint rendered into the reviewer prompt.")
    lock_file_name: str = Field(default="loop.lock", min_length=1, description="Lock file name (private state).")
    completion_promise: str = Field(
        default="DONE", description="Honoured only as a trailing <promise>DONE</promise> tag, as a claim."
    )

    # Workspace inputs (also command-line flags).
    task_file: str = Field(default="TASK.md", description="The objective, relative to the workspace (optional).")
    plan_file: str = Field(default="plan.md", description="The living plan, relative to the workspace (required).")
    state_dir: str = Field(default=".codex-self-iter", description="State dir, relative to the workspace.")
    isolation: Literal["none", "worktree"] = Field(
        default="none", description='"worktree": run on a new branch in a git worktree (same as `run --worktree`).'
    )
    keep_runs: int = Field(
        default=50, ge=0, description="Iterations whose runs/ and prompts/ files are kept (0 = keep all)."
    )

    # Gates and budgets.
    max_no_change: int = Field(
        default=3, ge=1, le=COUNT_MAX, description="No-change executor turns in a row before stopping."
    )
    max_agent_failures: int = Field(
        default=5, ge=1, le=COUNT_MAX, description="Failed agent calls in a row before stopping."
    )
    max_invalid_outputs: int = Field(
        default=2, ge=1, le=COUNT_MAX, description="Answers still without a valid control block after repair, in a row."
    )
    max_blocked: int = Field(default=2, ge=1, le=COUNT_MAX, description="'blocked' reports in a row before stopping.")
    max_planner_stops: int = Field(
        default=2, ge=1, le=COUNT_MAX, description="Planner 'stop' answers in a row before stopping."
    )
    max_false_completions: int = Field(
        default=3, ge=1, le=COUNT_MAX, description="Rejected completion claims in a row."
    )
    max_wall_clock_sec: float = Field(default=0, ge=0, le=YEAR_SEC, description="Wall-clock budget of a run; 0 = none.")
    max_total_tokens: int = Field(default=0, ge=0, le=TOKENS_MAX, description="Token budget (Codex usage); 0 = none.")
    max_cost_usd: float = Field(default=0, ge=0, description="Dollar budget of a run, from Codex usage; 0 = none.")
    backoff_jitter: float = Field(default=0.1, ge=0, le=1, description="Random +/- fraction added to each backoff.")
    usage_limit_max_wait_sec: float = Field(
        default=6 * 3600, ge=0, le=SECONDS_MAX, description="Longest wait for a usage limit."
    )

    # Roles.
    reviewer: bool = Field(default=True, description="Require the reviewer's approval for success.")
    review_every: int = Field(
        default=0, ge=0, le=COUNT_MAX, description="Also review every N iterations; 0 = only on claims."
    )
    plan_every: int = Field(
        default=0, ge=0, le=COUNT_MAX, description="Also re-plan every N iterations; 0 = only when needed."
    )
    max_goal_chars: int = Field(default=2000, ge=20, le=100_000, description="Longest accepted next_goal.")
    goal_similarity: float = Field(default=0.9, gt=0, le=1, description="Similarity at which goals count as same.")
    history_max_chars: int = Field(
        default=6000, ge=200, le=1_000_000, description="Size cap of the history shown to the agent."
    )

    # Checks (quality gates).
    checks: list[str] | None = Field(default=None, description="Check commands; unset = detect, [] = none.")
    checks_shell: bool = Field(default=False, description="Run checks through /bin/sh -c (opt-in).")
    check_timeout_sec: float = Field(default=900, gt=0, le=SECONDS_MAX, description="Wall-clock limit per check.")
    checks_every_iteration: bool = Field(default=False, description="Run checks after every executor turn.")
    require_checks: bool = Field(default=False, description="Refuse to start when no check is configured or detected.")
    protected_paths: list[str] = Field(
        default_factory=list, description="Extra files no claim may change (globs; `*` also crosses `/`)."
    )
    allow_test_changes: bool = Field(
        default=False, description="Accept claims that weaken tests or narrow the checks (loudly warned, recorded)."
    )

    # Task queue (tasks/NNN-<slug>.md).
    tasks_dir: str = Field(default="tasks", description="Task files, relative to the workspace; run them in order.")
    max_iterations_per_task: int = Field(
        default=0, ge=0, le=COUNT_MAX, description="Iteration budget of each task; 0 = none."
    )
    continue_on_blocked: bool = Field(default=False, description="A blocked task is skipped instead of stopping.")
    max_followups: int = Field(
        default=2, ge=0, le=COUNT_MAX, description="Rounds of follow-up tasks the final audit may add."
    )

    # Output.
    quiet: bool = Field(default=False, description="Only the final summary line.")
    heartbeat_sec: float = Field(
        default=30, gt=0, le=SECONDS_MAX, description="Seconds between progress lines on a non-TTY."
    )

    codex: CodexSettings = Field(default_factory=CodexSettings, description="The built-in codex runner.")
    hooks: HookSettings = Field(default_factory=HookSettings, description="Commands run on loop events.")
    prices: dict[str, ModelPrice] = Field(
        default_factory=dict, description="USD per 1M tokens by model, over the bundled estimates (codex/prices.toml)."
    )

    @field_validator("agent_command_template")
    @classmethod
    def _template_not_empty(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("is empty; remove the key to use the built-in codex runner, or give a command")
        return value


def load_config(path: Path | None) -> dict[str, Any]:
    """The raw table of a TOML config file, or {} when there is none."""
    if path is None:
        return {}
    try:
        text = _read_regular(path)
    except FileNotFoundError:
        raise UserError(f"{path}: config file not found; pass an existing --config or create one with `init`") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(
            f"{path}: cannot read config ({getattr(exc, 'strerror', None) or exc}); check the file and its permissions"
        ) from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(_syntax_error(path, text, str(exc))) from exc
    except RecursionError:
        raise UserError(f"{path}: nested too deeply to be a config (arrays or tables within each other)") from None


def _read_regular(path: Path) -> str:
    """The config's text; a FIFO, device or directory is refused instead of blocking (a user's link is followed)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a FIFO, device or directory?)")
        data = handle.read(CONFIG_MAX_BYTES + 1)
    if len(data) > CONFIG_MAX_BYTES:
        raise OSError(errno.EFBIG, f"larger than {CONFIG_MAX_BYTES >> 20} MiB")
    return data.decode("utf-8")


def _syntax_error(path: Path, text: str, message: str) -> str:
    """'FILE, line N: invalid TOML (what): `the line`; …' — tomllib names the line only inside its message."""
    found = re.search(r"\(at line (\d+), column (\d+)\)", message)
    lines = text.splitlines()
    number = int(found.group(1)) if found else max(len(lines), 1)  # "at end of document": the last line
    what = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", message)
    shown = lines[number - 1].strip()[:120] if 0 < number <= len(lines) else ""
    quoted = f": `{shown}`" if shown else ""
    return f"{path}, line {number}: invalid TOML ({what}){quoted}; fix the syntax on that line"


def build_settings(raw: dict[str, Any], overrides: dict[str, Any], source: str) -> Settings:
    """Validate the config table with command-line overrides on top; errors name the file and key."""
    merged = dict(raw)
    merged.update({key: value for key, value in overrides.items() if value is not None})
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        raise UserError(_first_error(exc, source)) from exc


def _first_error(exc: ValidationError, source: str) -> str:
    error = exc.errors()[0]
    loc = [str(part) for part in error["loc"]]
    key = ".".join(loc) or "(top level)"
    kind: Literal["extra_forbidden"] | str = error["type"]
    if kind == "extra_forbidden":
        hint = "unknown key; " + _unknown_key_hint(loc)
    else:
        hint = f"{error['msg']}; see config.example.toml"
    more = f" (+{len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"{source}: {key}: {hint}{more}"


def _unknown_key_hint(loc: list[str]) -> str:
    """Where the key belongs, or the nearest known key, or where to look them up."""
    name, here = loc[-1], ".".join(loc[:-1])
    tables: dict[str, type[BaseModel]] = {"": Settings, "codex": CodexSettings, "hooks": HookSettings}
    if here not in tables:
        return "remove it or check its spelling against config.example.toml"
    ordered = [here] + [table for table in tables if table != here]  # this table's own keys first
    for exact in (True, False):
        for table in ordered:
            fields = list(tables[table].model_fields)
            match = name if exact and name in fields else None
            if not exact:
                match = next(iter(difflib.get_close_matches(name, fields, n=1, cutoff=0.75)), None)
            if match is None or (exact and table == here):
                continue
            guess = "" if exact else f"did you mean `{match}`? "
            if table == here:
                return guess.rstrip()
            if table == "":  # TOML puts every key after a [table] header into that table
                return f"{guess}it is a top-level key: move it above the [{here}] table"
            return f"{guess}it belongs in the [{table}] table: move it under a [{table}] header"
    return "remove it or check its spelling against config.example.toml"
