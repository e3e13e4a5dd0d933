"""Which loop a command looks at: the workspace and state dir named by the flags and the config."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from codex_self_iter.config import Settings, load_config
from codex_self_iter.errors import UserError
from codex_self_iter.options import Options, discover_workspace, find_config, prepare, resolve_workspace
from codex_self_iter.state.layout import Layout

LAYOUT_KEYS = ("state_dir", "stop_file_name", "global_stop_file_name", "lock_file_name", "task_file", "plan_file")


def options_from(args: argparse.Namespace) -> Options:
    """The loop options given on the command line (commands without run's flags leave those unset)."""
    workspace = args.workspace if args.workspace is not None else str(discover_workspace(Path.cwd(), args.state_dir))
    return Options(
        workspace=workspace,
        task_file=args.task_file,
        plan_file=args.plan_file,
        state_dir=args.state_dir,
        agent_command_template=getattr(args, "agent_command_template", None),
        config=args.config,
        max_iterations=getattr(args, "max_iterations", None),
        quiet=getattr(args, "quiet", None),
        extra={"continue_on_blocked": True} if getattr(args, "continue_on_blocked", None) else {},
    )


def locate(args: argparse.Namespace) -> Layout:
    """The loop's paths; a broken config falls back to its layout keys (or the defaults) with a warning."""
    options = options_from(args)
    try:
        return prepare(options).layout
    except UserError as exc:
        workspace = resolve_workspace(options.workspace)  # a bad workspace is an error here too
        layout = fallback_layout(options, workspace)
        print(f"codex-self-iter: warning: {exc}; looking at {layout.state_dir}", file=sys.stderr)
        return layout


def fallback_layout(options: Options, workspace: Path) -> Layout:
    """The layout from whatever layout keys a (possibly invalid) config has, else the defaults."""
    defaults = Settings()
    try:
        raw = load_config(find_config(options, workspace))
    except UserError:
        raw = {}
    given = {"state_dir": options.state_dir, "task_file": options.task_file, "plan_file": options.plan_file}
    values: dict[str, str] = {}
    for key in LAYOUT_KEYS:
        value = given.get(key) or raw.get(key)
        values[key] = value if isinstance(value, str) and value else str(getattr(defaults, key))
    return Layout.create(
        workspace,
        values["task_file"],
        values["plan_file"],
        values["state_dir"],
        values["stop_file_name"],
        values["global_stop_file_name"],
        values["lock_file_name"],
    )


def require_state(layout: Layout) -> None:
    """A UserError when no loop has ever run with this state dir."""
    if not layout.state_dir.is_dir():
        raise UserError(
            f"{layout.state_dir}: no loop state here; start a loop with `codex-self-iter run` "
            "(or pass the loop's --workspace / --state-dir)"
        )
