"""Which loop a command looks at: the workspace and state dir named by the flags and the config."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from codex_self_iter.config import Settings, load_config
from codex_self_iter.errors import UserError
from codex_self_iter.options import Options, Prepared, discover_workspace, find_config, prepare, resolve_workspace
from codex_self_iter.state.layout import LAYOUT_KEYS, Layout


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
    """The loop's paths; a broken config falls back to its layout keys (or the defaults) with a warning.

    A worktree run's when --run names one, when the command runs inside one's checkout, or when the config says
    isolation = "worktree" (or there is no plain loop here) and worktree runs exist: then the newest."""
    options = options_from(args)
    try:
        prepared = prepare(options)
        isolated = worktree_target(prepared, getattr(args, "run", None))
        return (isolated or prepared).layout
    except UserError as exc:
        if getattr(args, "run", None):
            raise
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
    return Layout.from_names(workspace, values)


def require_state(layout: Layout) -> None:
    """A UserError when no loop has ever run with this state dir."""
    if not layout.state_dir.is_dir():
        raise UserError(
            f"{layout.state_dir}: no loop state here; start a loop with `codex-self-iter run` "
            "(or pass the loop's --workspace / --state-dir)"
        )


def worktree_target(prepared: Prepared, name: str | None, required: bool = False) -> Prepared | None:
    """The Prepared of the worktree run a command means (see locate), or None (an error when required)."""
    from codex_self_iter.workspace.isolation import worktree_prepared
    from codex_self_iter.workspace.runs import find_run, list_runs, open_repo, run_for_path

    try:
        repo = open_repo(prepared.layout.workspace)
    except UserError:
        if required or name:
            raise
        return None
    run = find_run(repo, name) if name else run_for_path(repo, prepared.layout.workspace)
    if run is None:
        runs = list_runs(repo)
        wanted = required or prepared.settings.isolation == "worktree" or not prepared.layout.state_dir.is_dir()
        if runs and wanted:
            run = runs[-1]
    if run is None:
        if required:
            raise UserError(f"{repo.toplevel}: no worktree runs here; start one with `codex-self-iter run --worktree`")
        return None
    return worktree_prepared(prepared, run, repo)
