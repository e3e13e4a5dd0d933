#!/usr/bin/env python3
"""What running many loops at once buys and costs: wall time of 12 scripted-agent loops with `fleet run
--parallel 1` vs `--parallel 4`, and the fleet's own overhead per loop. Run from a clone:

    .venv/bin/python benchmarks/bench_fleet.py            # 1-3 minutes; --loops 6 --agent-sleep 0.5 for a quick look

Each loop is a real git repository whose loop plans, works (the scripted agent sleeps --agent-sleep seconds, like
a model call that waits on the network), passes its check and is approved: three agent calls, two check runs.
Everything happens in a temporary directory, removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support: the scripted agent and the repositories it plays in

from tests.support.fleet_repos import completing, make_repo, max_overlap  # noqa: E402

NOTES = """how measured:
  wall = the `fleet run` process from start to exit (12 loops, each a `run --worktree` process);
  loop time = each loop process's life as the fleet recorded it (spawn to reap, fleet.json spans);
  the loop's own time = its status.json started_at to updated_at (lock taken to final status written);
  fleet overhead per loop, --parallel 1 = (wall - the sum of loop times) / loops: spawn, polling latency,
  finding the loop's worktree run and fleet.json writes between one loop's end and the next one's start;
  start-up per loop = loop time - the loop's own time: interpreter start, imports, config, the loop creating
  its worktree and branch, agent probe."""


def run_fleet(root: Path, name: str, repos: list[Path], parallel: int) -> dict[str, Any]:
    """Run one fleet over the repos and return its timings."""
    work = root / name
    work.mkdir()
    argv = [sys.executable, "-m", "codex_self_iter", "fleet", "run", *map(str, repos), "--parallel", str(parallel)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    began = time.perf_counter()
    done = subprocess.run(argv, cwd=work, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"fleet {name} exited {done.returncode}:\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
    fleet = json.loads((work / ".codex-self-iter-fleet" / "fleet.json").read_text())
    spans = [span for loop in fleet["loops"] for span in loop["spans"]]
    own = []
    for loop in fleet["loops"]:
        status = json.loads((Path(loop["state_dir"]) / "status.json").read_text())
        own.append(status["updated_at"] - status["started_at"])
    return {"wall": wall, "spans": spans, "own": own, "overlap": max_overlap(spans)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loops", type=int, default=12, help="loops per fleet (default 12)")
    parser.add_argument("--parallel", type=int, default=4, help="the parallel run's --parallel (default 4)")
    parser.add_argument("--agent-sleep", type=float, default=1.0, help="seconds each executor call takes (default 1)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="csi-bench-fleet-"))
    git = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    print(
        f"codex-self-iter fleet benchmark · Python {platform.python_version()} · {platform.system()} "
        f"{platform.release()} · {os.cpu_count()} CPUs · {git} · {args.loops} loops, agent sleep {args.agent_sleep}s",
        flush=True,
    )
    try:
        repos = [make_repo(root / "repos", f"repo{n:02d}", completing(args.agent_sleep)) for n in range(args.loops)]
        serial = run_fleet(root, "serial", repos, 1)
        parallel = run_fleet(root, "parallel", repos, args.parallel)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    loop_times = [end - start for start, end in serial["spans"]]
    gap = (serial["wall"] - sum(loop_times)) / args.loops
    startup = statistics.median(t - own for t, own in zip(loop_times, serial["own"], strict=True))
    rows = [
        ("wall time, --parallel 1", f"{serial['wall']:.1f} s", f"most at once: {serial['overlap']}"),
        (f"wall time, --parallel {args.parallel}", f"{parallel['wall']:.1f} s", f"most at once: {parallel['overlap']}"),
        ("speed-up", f"{serial['wall'] / parallel['wall']:.2f}×", f"ideal {min(args.parallel, args.loops)}×"),
        ("loop time, median (--parallel 1)", f"{statistics.median(loop_times):.2f} s", "one loop process"),
        ("loop time, median (--parallel N)", f"{statistics.median(e - s for s, e in parallel['spans']):.2f} s", ""),
        ("fleet overhead per loop (--parallel 1)", f"{gap * 1000:.0f} ms", "between one loop's end and the next"),
        ("loop start-up, median", f"{startup * 1000:.0f} ms", "interpreter, setup and worktree, before the lock"),
    ]
    width = max(len(row[0]) for row in rows)
    for label, value, note in rows:
        print(f"  {label.ljust(width)}  {value:>9}  {note}")
    print(NOTES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
