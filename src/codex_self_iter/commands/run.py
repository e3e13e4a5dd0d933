"""`run`: the loop itself (and the bare `python -m codex_self_iter --workspace .` form)."""

from __future__ import annotations

import argparse

from codex_self_iter.options import Options, prepare
from codex_self_iter.session import RunFlags, run_session


def options_from(args: argparse.Namespace) -> Options:
    """The loop options given on the command line."""
    return Options(
        workspace=args.workspace,
        task_file=args.task_file,
        plan_file=args.plan_file,
        state_dir=args.state_dir,
        agent_command_template=getattr(args, "agent_command_template", None),
        config=args.config,
        max_iterations=getattr(args, "max_iterations", None),
        quiet=getattr(args, "quiet", None),
    )


def cmd_run(args: argparse.Namespace) -> int:
    """Run the loop to its stop."""
    prepared = prepare(options_from(args))
    return run_session(prepared, RunFlags(clear_stop=args.clear_stop, fresh=args.fresh))
