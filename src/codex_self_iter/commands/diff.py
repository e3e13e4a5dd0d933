"""`diff [N]`: what a worktree run changed, all of it (base..branch) or one checkpoint's."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from codex_self_iter.commands.target import options_from, worktree_target
from codex_self_iter.errors import UserError
from codex_self_iter.options import prepare
from codex_self_iter.workspace.checkpoint import list_checkpoints
from codex_self_iter.workspace.git_cmd import git


def cmd_diff(args: argparse.Namespace) -> int:
    """Print `git diff base..branch` (or checkpoint N's own diff) of the run."""
    target = worktree_target(prepare(options_from(args)), args.run, required=True)
    assert target is not None and target.worktree is not None
    run = target.worktree
    rev_range = f"{run.base}..{run.branch}"
    if args.iteration is not None:
        found = [cp for cp in list_checkpoints(run) if cp.iteration == args.iteration]
        if not found:
            known = ", ".join(str(cp.iteration) for cp in list_checkpoints(run)) or "none yet"
            raise UserError(f"{run.branch}: no checkpoint for iteration {args.iteration} (checkpoints: {known})")
        rev_range = f"{found[0].commit}^..{found[0].commit}"
    flags = ["--stat"] if args.stat else []
    done = git(Path(run.repo), "diff", "--no-color", "--no-ext-diff", *flags, rev_range)
    sys.stdout.write(done.stdout)
    return 0
