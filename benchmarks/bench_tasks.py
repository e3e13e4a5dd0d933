#!/usr/bin/env python3
"""What the task queue itself costs per task: the real loop runs a queue of task files (100 by default) as a
separate process with an instant /bin/sh agent (planner, executor claiming complete, reviewer approving, auditor
approving), and the loop's own journal says where the time went. Run from a clone:

    .venv/bin/python benchmarks/bench_tasks.py           # 100 tasks, ~1 minute; --tasks 30 for a quick look

Prints, per task: the wall time, the agent's share, and the queue's overhead between two tasks (from the journal's
`task_done` of one task to the start of the next task's first agent call: re-reading and validating every task file,
reconciling and durably writing tasks.json, the runtime reset, the new episode's baseline); and that overhead for
the first and the last tenth of the queue, since every step re-reads every task file.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# <prompt_file> <workspace> <role> <iteration>: every call answers at once; the executor changes a file and claims.
AGENT_SH = r"""#!/bin/sh
case "$3" in
  planner) printf '{"next_goal": "finish the task of iteration %06d", "summary": "plan"}\n' "$4" ;;
  executor) printf '%s\n' "$4" > "$2/out-$4.txt"
     printf '{"status": "complete", "summary": "done %06d", "next_goal": "", "evidence": []}\n' "$4" ;;
  reviewer) printf '{"verdict": "approve", "reasons": ["ok"], "next_goal": ""}\n' ;;
  auditor) printf '{"verdict": "approve", "reasons": ["all done"], "gaps": []}\n' ;;
esac
"""

CONFIG = "checks = []\nheartbeat_sec = 3600\nmax_iterations = 0\n"


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def make_queue(root: Path, tasks: int) -> Path:
    work = root / "work"
    (work / "tasks").mkdir(parents=True)
    git(work, "init", "-q", "-b", "main")
    (work / "TASK.md").write_text(f"# Job\nDo {tasks} small things.\n\n## Done when\n- each task is done\n")
    (work / "plan.md").write_text("# Plan\n- [ ] work through tasks/\n")
    for number in range(1, tasks + 1):
        text = f"# Step {number}\n\nPart {number} of the job.\n\n## Done when\n\n- out file {number} exists\n"
        (work / "tasks" / f"{number:03d}-step-{number}.md").write_text(text)
    git(work, "add", "-A")
    git(work, "-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "commit", "-q", "-m", "tasks")
    return work


def gaps_between_tasks(records: list[dict[str, object]]) -> list[float]:
    """Seconds from each task_done to the start of the next task's first agent call."""
    gaps, done_at = [], None
    for record in records:
        if record["event"] == "task_done":
            done_at = float(str(record["ts"]))
        elif record["event"] == "agent_call" and done_at is not None and record.get("role") == "planner":
            started = float(str(record["ts"])) - float(str(record["duration_sec"]))
            gaps.append(started - done_at)
            done_at = None
    return gaps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="csi-bench-tasks-") as scratch:
        root = Path(scratch)
        agent, config = root / "agent.sh", root / "config.toml"
        agent.write_text(AGENT_SH)
        agent.chmod(0o755)
        config.write_text(CONFIG)
        work = make_queue(root, args.tasks)
        argv = [sys.executable, "-m", "codex_self_iter", "run", "-q", "-w", str(work), "--config", str(config)]
        argv += ["--agent-command-template", f"{agent} {{prompt_file}} {{workspace}} {{role}} {{iteration}}"]
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HOME": str(root)}
        started = time.monotonic()
        done = subprocess.run(argv, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
        took = time.monotonic() - started
        if done.returncode != 0:
            raise SystemExit(f"the queue ended with exit {done.returncode}: {done.stderr[-2000:]}")
        lines = (work / ".codex-self-iter" / "logs" / "iterations.jsonl").read_text().splitlines()
        records = [json.loads(line) for line in lines if line.strip()]
    calls = [r for r in records if r["event"] == "agent_call"]
    finished = sum(r["event"] == "task_done" for r in records)
    assert finished == args.tasks, f"{finished} of {args.tasks} tasks done"
    agent_sec = sum(float(r["duration_sec"]) for r in calls)
    gaps = [gap * 1000 for gap in gaps_between_tasks(records)]
    tenth = max(1, len(gaps) // 10)
    print(f"task queue: {args.tasks} tasks, one iteration each (3 agent calls), then the final audit; {took:.1f}s")
    print(f"  wall time per task            {took / args.tasks * 1000:7.1f} ms")
    print(f"  agent calls per task          {agent_sec / args.tasks * 1000:7.1f} ms ({len(calls)} calls)")
    print(f"  queue overhead between tasks  {statistics.median(gaps):7.1f} ms median (p95 {_p95(gaps):.1f} ms)")
    first, last = statistics.median(gaps[:tenth]), statistics.median(gaps[-tenth:])
    print(f"    first / last tenth          {first:7.1f} / {last:.1f} ms ({last / first:.2f}x)")
    return 0


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


if __name__ == "__main__":
    sys.exit(main())
