"""From command-line options to a validated LoopContext: config, layout, runner, checks."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codex_self_iter.checks.detect import detect_checks
from codex_self_iter.checks.run import CheckSpec, parse_check
from codex_self_iter.config import Settings, build_settings, load_config
from codex_self_iter.errors import UserError
from codex_self_iter.state.layout import LAYOUT_KEYS, Layout
from codex_self_iter.workspace.runs import WorktreeRun

DEFAULT_CONFIG_NAME = "codex-self-iter.toml"
DEFAULT_STATE_DIR = Settings.model_fields["state_dir"].default


@dataclass
class Options:
    """What the command line says about a loop (None = not given)."""

    workspace: str = "."
    task_file: str | None = None
    plan_file: str | None = None
    state_dir: str | None = None
    agent_command_template: str | None = None
    config: str | None = None
    max_iterations: int | None = None
    quiet: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Prepared:
    """Validated settings and where things are."""

    settings: Settings
    layout: Layout
    config_path: Path | None
    config_digest: str
    worktree: WorktreeRun | None = None  # set for an isolated run: the layout then points into its worktree
    planned_from: Layout | None = None  # a dry run's worktree that does not exist yet: its files are read here


def resolve_workspace(raw: str) -> Path:
    """The workspace directory, or a clear error."""
    workspace = Path(raw).expanduser()
    if not workspace.exists():
        raise UserError(f"{workspace}: workspace does not exist; pass an existing directory with --workspace")
    if not workspace.is_dir():
        raise UserError(f"{workspace}: workspace is not a directory; pass a directory with --workspace")
    return workspace.resolve()


def discover_workspace(start: Path, state_dir: str | None = None) -> Path:
    """The nearest directory from start upwards that holds a loop (its state dir or config file), as git finds its
    repository; the walk ends at the top of the git work tree around start. start itself when none is found."""
    markers = (state_dir or DEFAULT_STATE_DIR, DEFAULT_CONFIG_NAME)
    start = start.resolve()
    for directory in (start, *start.parents):
        if any((directory / name).exists() for name in markers):
            return directory
        if (directory / ".git").exists():
            break
    return start


def find_config(options: Options, workspace: Path) -> Path | None:
    """--config if given (relative to the current dir), else <workspace>/codex-self-iter.toml when present."""
    if options.config:
        return Path(options.config).expanduser().resolve()
    default = workspace / DEFAULT_CONFIG_NAME
    return default if default.is_file() else None


def prepare(options: Options) -> Prepared:
    """Load and validate everything a loop needs before it takes the lock."""
    workspace = resolve_workspace(options.workspace)
    config_path = find_config(options, workspace)
    raw = load_config(config_path)
    overrides = {
        "task_file": options.task_file,
        "plan_file": options.plan_file,
        "state_dir": options.state_dir,
        "agent_command_template": options.agent_command_template,
        "max_iterations": options.max_iterations,
        "quiet": options.quiet,
        **options.extra,
    }
    settings = build_settings(raw, overrides, str(config_path) if config_path else "command line")
    layout = Layout.from_names(workspace, settings.model_dump(include=set(LAYOUT_KEYS)))
    # The config file's own content: flags like --max-iterations are this run's choice, not a configuration change.
    digest = hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return Prepared(settings, layout, config_path, digest)


ADD_CHECK_HINT = 'add one: checks = ["python3 -m pytest -q"] (your test command) in the config'


def configured_checks(settings: Settings, workspace: Path) -> tuple[list[CheckSpec], str]:
    """The checks to run and where they came from (config, detection, or none)."""
    if settings.checks is not None:
        specs = [parse_check(cmd, settings.checks_shell, settings.check_timeout_sec) for cmd in settings.checks]
        return specs, "config" if specs else "none (checks = [])"
    specs = detect_checks(workspace, settings.check_timeout_sec)
    if not specs:
        return [], "none detected"
    return specs, "detected: " + "; ".join(spec.source for spec in specs)


def watched_config(prepared: Prepared) -> Path:
    """The config file a run uses, or the one it would pick up next time (<workspace>/codex-self-iter.toml)."""
    return prepared.config_path or prepared.layout.workspace / DEFAULT_CONFIG_NAME
