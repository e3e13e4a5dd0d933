"""Repositories for fleet tests: each a real git repo whose committed config runs the scripted agent with its own
script, so every loop of a fleet plays its own part."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import tomli_w

from tests.support.loop_harness import FAKE_AGENT, control

CHECK = "python3 -c \"import pathlib,sys; sys.exit(not pathlib.Path('done.txt').exists())\""


def completing(sleep: float = 0.3) -> dict[str, Any]:
    """A script that plans, works (sleeping), claims completion with the check passing, and is approved."""
    return {
        "planner": [[{"control": {"next_goal": "write done.txt", "summary": "one file"}}]],
        "executor": [
            [{"sleep": sleep}, {"write": "done.txt", "content": "done\n"}, {"control": control("complete")}],
        ],
        "reviewer": [[{"control": {"verdict": "approve", "reasons": ["done.txt is there"]}}]],
    }


def failing() -> dict[str, Any]:
    """A script whose executor crashes every time: the loop stops with agent_failure (exit 3)."""
    return {
        "planner": [[{"control": {"next_goal": "write done.txt", "summary": "one file"}}]],
        "executor": [[{"stderr": "boom"}, {"exit": 1}]],
    }


def slow(seconds: float) -> dict[str, Any]:
    """A script whose executor works for a while, then finishes like `completing`."""
    return completing(sleep=seconds)


def make_repo(root: Path, name: str, script: dict[str, Any], **settings: Any) -> Path:
    """A git repository `root/name` with TASK.md, plan.md and a config that plays `script`."""
    repo = root / name
    repo.mkdir(parents=True)
    agents = root / "agents"
    agents.mkdir(exist_ok=True)
    script_path = agents / f"{name}.json"
    script_path.write_text(json.dumps(script))
    template = " ".join(shlex.quote(str(p)) for p in (sys.executable, FAKE_AGENT))
    config = {
        "agent_command_template": f"{template} {{prompt_file}} {{workspace}} {{role}} {shlex.quote(str(script_path))}",
        "checks": [CHECK],
        "max_iterations": 4,
        "max_agent_failures": 1,
        "backoff_base_sec": 0,
        "no_change_backoff_sec": 0,
        "heartbeat_sec": 1,
        **settings,
    }
    (repo / "TASK.md").write_text(f"# {name}\nWrite done.txt.\n")
    (repo / "plan.md").write_text("# Plan\n- [ ] write done.txt\n")
    (repo / "codex-self-iter.toml").write_text(tomli_w.dumps({k: v for k, v in config.items() if v is not None}))
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "init"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, timeout=30)
    return repo


def agent_calls(root: Path, name: str) -> list[dict[str, Any]]:
    """Every call the scripted agent of repository `name` got."""
    path = root / "agents" / f"{name}.json.calls.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def max_overlap(spans: list[list[float]]) -> int:
    """The most intervals [start, end] open at one moment."""
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans], key=lambda e: (e[0], e[1]))
    most = current = 0
    for _, step in events:
        current += step
        most = max(most, current)
    return most
