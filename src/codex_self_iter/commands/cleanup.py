"""`cleanup [--apply]`: remove finished worktree runs and old iteration files; a dry run unless --apply."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from codex_self_iter.commands.target import options_from
from codex_self_iter.options import prepare
from codex_self_iter.workspace.cleanup import CleanupRequest, plan_cleanup
from codex_self_iter.workspace.isolation import worktree_prepared
from codex_self_iter.workspace.runs import list_runs, open_repo


def cmd_cleanup(args: argparse.Namespace) -> int:
    """List (or with --apply, do) what can go."""
    prepared = prepare(options_from(args))
    repo = open_repo(prepared.layout.workspace)
    keep_runs = args.keep_runs if args.keep_runs is not None else prepared.settings.keep_runs
    request = CleanupRequest(args.keep, args.older_than, args.delete_unmerged, keep_runs)
    layouts = [prepared.layout] if prepared.layout.state_dir.is_dir() else []
    layouts += [
        worktree_prepared(prepared, run, repo).layout for run in list_runs(repo) if Path(run.state_dir).is_dir()
    ]
    plan = plan_cleanup(repo, request, layouts, time.time())
    verb = "removing" if args.apply else "would remove"
    for action in plan.actions:
        print(f"codex-self-iter: {verb}: {action.text}")
        if args.apply:
            action.do()
    for note in plan.kept:
        print(f"  {note}")
    if not plan.actions:
        print("codex-self-iter: nothing to clean up")
    elif not args.apply:
        print("codex-self-iter: dry run: nothing was removed; run again with --apply to do it")
    return 0
