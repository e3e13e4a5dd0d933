"""`merge`: a worktree run's branch into the branch it started from."""

from __future__ import annotations

import argparse

from codex_self_iter.commands.target import options_from, worktree_target
from codex_self_iter.options import prepare
from codex_self_iter.workspace.merging import merge_run
from codex_self_iter.workspace.runs import open_repo


def cmd_merge(args: argparse.Namespace) -> int:
    """Merge when the tree is clean and nothing conflicts; otherwise one line on how to finish by hand."""
    prepared = prepare(options_from(args))
    target = worktree_target(prepared, args.run, required=True)
    assert target is not None and target.worktree is not None
    run = target.worktree
    repo = open_repo(prepared.layout.workspace)
    exclude = prepared.layout.relative_state_dir()
    commit = merge_run(run, repo, exclude)
    into = run.start_branch or "HEAD"
    print(f"codex-self-iter: merged {run.branch} into {into} ({commit[:12]})")
    print("  next: codex-self-iter cleanup --apply   (removes the run's worktree and its merged branch)")
    return 0
