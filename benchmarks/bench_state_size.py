#!/usr/bin/env python3
"""How big the state dir gets: the real loop runs 1,000 iterations (default) with an instant /bin/sh agent that
changes a file every turn, with `keep_runs` at its default, once in the workspace and once as a worktree run
(`run --worktree`, one checkpoint commit per iteration). Prints the state dir's size, what is in it, and for the
worktree run the growth of the repository's object store. Run from a clone:

    .venv/bin/python benchmarks/bench_state_size.py                 # 1,000 iterations each, a few minutes
    .venv/bin/python benchmarks/bench_state_size.py --iterations 200
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # a fresh clone works even before `pip install -e .`

from codex_self_iter.config import Settings  # noqa: E402
from codex_self_iter.state.retention import size_of  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_loop import AGENT_SH  # noqa: E402  (the same instant agent as the loop benchmark)

CONFIG = "checks = []\nmax_stagnation = 1000000\nno_change_gate = false\nheartbeat_sec = 3600\n"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def make_repo(root: Path, name: str) -> Path:
    work = root / name
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    (work / "TASK.md").write_text("# Grow work.txt\n")
    (work / "plan.md").write_text("# Plan\n- [ ] keep going\n")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "init")
    return work


def run(root: Path, name: str, iterations: int, worktree: bool) -> dict[str, float]:
    work = make_repo(root, name)
    agent = root / "agent.sh"
    config = root / "config.toml"
    objects_before = size_of(work / ".git" / "objects")
    argv = [sys.executable, "-m", "codex_self_iter", "run", "-q", "-w", str(work), "--config", str(config)]
    argv += ["--agent-command-template", f"{agent} {{prompt_file}} {{workspace}} {{role}} {{iteration}}"]
    argv += ["--max-iterations", str(iterations)] + (["--worktree"] if worktree else [])
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    took = time.monotonic() - started
    if done.returncode != 2:
        raise SystemExit(f"{name}: the loop ended with exit {done.returncode}: {done.stderr[-2000:]}")
    if worktree:
        [state] = list((work / ".git" / "codex-self-iter" / "state").iterdir())
    else:
        state = work / ".codex-self-iter"
    figures = {
        "seconds": took,
        "state_bytes": size_of(state),
        "runs": len(list((state / "runs").iterdir())),
        "prompts": len(list((state / "prompts").iterdir())),
        "journal_bytes": (state / "logs" / "iterations.jsonl").stat().st_size,
    }
    if worktree:
        figures["objects_bytes"] = size_of(work / ".git" / "objects") - objects_before
        figures["commits"] = int(git(work, "rev-list", "--count", "--branches=codex-self-iter/*", "^main"))
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=1000)
    args = parser.parse_args()
    keep = Settings().keep_runs
    with tempfile.TemporaryDirectory(prefix="csi-bench-size-") as scratch:
        root = Path(scratch)
        (root / "agent.sh").write_text(AGENT_SH)
        (root / "agent.sh").chmod(0o755)
        (root / "config.toml").write_text(CONFIG)
        print(f"state dir size after {args.iterations} iterations, keep_runs = {keep} (the default)")
        for name, worktree in (("plain", False), ("worktree", True)):
            f = run(root, name, args.iterations, worktree)
            line = (
                f"  {name:9} state dir {f['state_bytes'] / 1e6:6.2f} MB · runs/ {f['runs']} dirs · "
                f"prompts/ {f['prompts']} files · journal {f['journal_bytes'] / 1e6:.2f} MB · {f['seconds']:.0f}s"
            )
            if worktree:
                line += f" · {f['commits']} commits, +{f['objects_bytes'] / 1e6:.2f} MB in .git/objects"
            print(line, flush=True)
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
