"""`init [--goal TEXT] [--force]`: TASK.md, a plan.md checklist and a config, with the state dir kept out of git."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import Any

import tomli_w

from codex_self_iter.checks.detect import detect_checks
from codex_self_iter.config import Settings
from codex_self_iter.errors import UserError
from codex_self_iter.options import DEFAULT_CONFIG_NAME, resolve_workspace
from codex_self_iter.state.fsio import atomic_write_text
from codex_self_iter.state.layout import Layout
from codex_self_iter.workspace.git_exclude import exclude_state_dir

INIT_MAX_ITERATIONS = 30
TASK_PLACEHOLDER = "Describe the outcome you want: what should be true when the work is done."
PLAN_TEXT = """# Plan

The loop's planner keeps this checklist current; edit it whenever you like.

- [ ] Understand the task in {task} and the code it touches
- [ ] Make the change in small steps, each covered by a test
- [ ] Make every check pass and tidy up
"""
CONFIG_HEADER = "# codex-self-iter settings, written by `codex-self-iter init`; every key: config.example.toml\n"
NO_CHECKS = '# checks = ["make test"]  # none detected: list the commands that prove the work is done\n'


def cmd_init(args: argparse.Namespace) -> int:
    """Write the missing inputs and config (all of them with --force) and print the next steps."""
    workspace = resolve_workspace(args.workspace or ".")  # init makes a loop here, it does not look for one
    defaults = Settings()
    names = {
        "task_file": args.task_file or defaults.task_file,
        "plan_file": args.plan_file or defaults.plan_file,
        "state_dir": args.state_dir or defaults.state_dir,
    }
    layout = Layout.create(workspace, names["task_file"], names["plan_file"], names["state_dir"])
    config = Path(args.config).expanduser().resolve() if args.config else workspace / DEFAULT_CONFIG_NAME
    if args.goal is not None and args.prompt is not None:
        raise UserError("--goal and --prompt exclude each other: --goal writes TASK.md as given, --prompt asks Codex")
    layout_keys = {k: v for k, v in names.items() if v != getattr(defaults, k)}
    if args.prompt is not None:
        from codex_self_iter.commands.init_prompt import proposed_files

        files, checks = proposed_files(args.prompt, layout, config, args.force, args.yes)
        files[config] = config_text(workspace, layout_keys, checks)
        _write(workspace, layout, config, files, force=True, goal=True)
        return 0
    if args.goal is not None and not args.goal.strip():
        raise UserError("--goal is empty; say what the loop should achieve, e.g. --goal 'make the tests pass'")
    if args.goal and layout.task_file.exists() and not args.force:
        raise UserError(f"{layout.task_file} exists; pass --force to replace it with --goal (nothing was written)")
    files = {
        layout.task_file: task_text(args.goal),
        layout.plan_file: PLAN_TEXT.format(task=names["task_file"]),
        config: config_text(workspace, layout_keys),
    }
    _write(workspace, layout, config, files, args.force, bool(args.goal))
    return 0


def _write(workspace: Path, layout: Layout, config: Path, files: dict[Path, str], force: bool, goal: bool) -> None:
    written, kept = [], []
    for path, text in files.items():
        if path.exists() and not force:
            kept.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)  # tasks/ is the user's, not private state
        atomic_write_text(path, text, mode=0o644)
        written.append(path)
    excluded = exclude_state_dir(workspace, layout.state_dir)
    _report(workspace, layout, config, written, kept, excluded, goal)


def task_text(goal: str | None) -> str:
    """TASK.md: the goal, or a placeholder to replace."""
    body = " ".join(goal.split()) if goal else TASK_PLACEHOLDER
    return f"# Task\n\n{body}\n\n## Done when\n\n- the project's checks pass and the change is covered by tests\n"


def config_text(workspace: Path, layout_keys: dict[str, str], checks: list[str] | None = None) -> str:
    """The config file: a bounded budget, the checks (given, else detected), and any non-default file names."""
    if checks is None:
        checks = [spec.command for spec in detect_checks(workspace)]
    data: dict[str, Any] = {**layout_keys, "max_iterations": INIT_MAX_ITERATIONS}
    if checks:
        data["checks"] = checks
    return CONFIG_HEADER + tomli_w.dumps(data) + ("" if checks else NO_CHECKS)


def _report(
    workspace: Path, layout: Layout, config: Path, written: list[Path], kept: list[Path], excluded: bool, goal: bool
) -> None:
    def shown(path: Path) -> str:
        """The path relative to the workspace when it lies inside."""
        try:
            return str(path.relative_to(workspace))
        except ValueError:
            return str(path)

    print(f"codex-self-iter: {'initialised' if written else 'nothing to write in'} {workspace}")
    if written:
        print(f"  wrote {', '.join(shown(p) for p in written)}")
    if kept:
        print(f"  kept {', '.join(shown(p) for p in kept)} (they exist; --force overwrites them)")
    state = shown(layout.state_dir)
    where = "excluded from git (.git/info/exclude)" if excluded else "not git-excluded (not in a git work tree)"
    print(f"  {state}/ is {where}")
    flags = "" if workspace == Path.cwd().resolve() else f" --workspace {shlex.quote(str(workspace))}"
    if config != workspace / DEFAULT_CONFIG_NAME:
        flags += f" --config {shlex.quote(str(config))}"
    print("Next steps:")
    task = "check the goal in" if goal else "describe the outcome in"
    steps = [f"{task} {shown(layout.task_file)} and sketch the steps in {shown(layout.plan_file)}"]
    inside = [shown(p) for p in written if not Path(shown(p)).is_absolute()]
    if excluded and inside:
        # Committed, they are part of the baseline: the run's diff and "files changed" show only the agent's work.
        git = "git" if workspace == Path.cwd().resolve() else f"git -C {shlex.quote(str(workspace))}"
        steps.append(f"{git} add {shlex.join(inside)} && {git} commit -m 'Task for codex-self-iter'")
    steps += [
        f"codex-self-iter doctor{flags}          # codex, login, git, config, checks, plugin",
        f"codex-self-iter run --dry-run{flags}   # the first prompt and the exact codex command",
        f"codex-self-iter run{flags}             # or run --detach; then status, history --follow, stop",
    ]
    for number, step in enumerate(steps, start=1):
        print(f"  {number}. {step}")
