"""`rollback --to N`: a worktree run's branch and loop state back to checkpoint N."""

from __future__ import annotations

import argparse

from codex_self_iter.commands.target import options_from, worktree_target
from codex_self_iter.options import prepare
from codex_self_iter.workspace.rollback import rollback


def cmd_rollback(args: argparse.Namespace) -> int:
    """Reset the run to checkpoint N; `run --worktree` then continues from there."""
    target = worktree_target(prepare(options_from(args)), args.run, required=True)
    assert target is not None and target.worktree is not None
    run = target.worktree
    checkpoint, old_tip = rollback(run, target.layout, args.to)
    print(
        f"codex-self-iter: {run.branch} is back at checkpoint {args.to}: {checkpoint.commit[:12]} {checkpoint.subject}"
    )
    print(f"  the loop continues from iteration {args.to} with its goal then: codex-self-iter run --run {run.id}")
    print(f"  the previous tip was {old_tip[:12]}; to keep it: git branch <name> {old_tip[:12]}")
    return 0
