"""`run`: the loop itself (and the bare `python -m codex_self_iter --workspace .` form); or its preview or detach."""

from __future__ import annotations

import argparse
import sys

from codex_self_iter.commands.target import options_from
from codex_self_iter.errors import UserError
from codex_self_iter.loop.launch import RunFlags
from codex_self_iter.options import prepare

__all__ = ["cmd_run", "options_from"]


def cmd_run(args: argparse.Namespace) -> int:
    """Run the loop to its stop; --dry-run previews the next call, --detach starts it in the background."""
    if args.dry_run and args.detach:
        raise UserError("--dry-run and --detach exclude each other; preview first, then detach")
    options = options_from(args)
    if args.worktree:
        options.extra["isolation"] = "worktree"
    prepared = prepare(options)
    argv = list(args.argv)
    if prepared.settings.isolation == "worktree" or args.run:
        from codex_self_iter.workspace.isolation import IsolationRequest, isolate

        request = IsolationRequest(args.include_uncommitted, args.fresh, args.run)
        prepared = isolate(prepared, request, create=not args.dry_run)  # a dry run only plans a new one
        if prepared.worktree is not None and not args.run:
            argv += ["--run", prepared.worktree.id]  # a detached child continues this run
    elif args.include_uncommitted:
        raise UserError("--include-uncommitted only applies to worktree runs; add --worktree")
    if args.dry_run:
        from codex_self_iter.commands.dry_run import dry_run

        return dry_run(prepared, sys.stdout)
    if args.detach:
        from codex_self_iter.commands.detach import detach

        return detach(prepared, argv, args.clear_stop, sys.stdout)
    from codex_self_iter.tasks.driver import run

    return run(prepared, RunFlags(clear_stop=args.clear_stop, fresh=args.fresh, accept_config=args.accept_config))
