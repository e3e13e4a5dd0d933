"""Drive the real loop in-process against the scripted fake agent, with injected time."""

from __future__ import annotations

import io
import json
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codex_self_iter.loop.context import Deps
from codex_self_iter.loop.launch import RunFlags
from codex_self_iter.options import Options, prepare
from codex_self_iter.tasks.driver import run as run_any
from codex_self_iter.workspace.isolation import IsolationRequest, isolate
from codex_self_iter.workspace.runs import WorktreeRun

FAKE_AGENT = Path(__file__).with_name("fake_agent.py")


def fake_template() -> str:
    """A command template that runs the fake agent with this interpreter."""
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(FAKE_AGENT))} {{prompt_file}} {{workspace}} {{role}}"


def control(status: str = "continue", goal: str = "", summary: str = "did work", **extra: Any) -> dict[str, Any]:
    """An executor control block."""
    return {"status": status, "summary": summary, "next_goal": goal, "evidence": [], **extra}


@dataclass
class FakeTime:
    """A clock that only moves when the loop sleeps; records every sleep."""

    now: float = 1_800_000_000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def deps(self) -> Deps:
        return Deps(clock=self.clock, sleep=self.sleep, random=lambda: 0.5)


@dataclass
class Run:
    """The outcome of one in-process run."""

    exit_code: int
    output: str
    state_dir: Path
    worktree: WorktreeRun | None = None

    @property
    def status(self) -> dict[str, Any]:
        return json.loads((self.state_dir / "status.json").read_text())

    @property
    def runtime(self) -> dict[str, Any]:
        return json.loads((self.state_dir / "runtime.json").read_text())

    def journal(self) -> list[dict[str, Any]]:
        path = self.state_dir / "logs" / "iterations.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class Agent:
    """A scripted fake agent for one test."""

    def __init__(self, directory: Path, monkeypatch: Any) -> None:
        self.script_path = directory / "agent-script.json"
        monkeypatch.setenv("FAKE_AGENT_SCRIPT", str(self.script_path))
        self.script: dict[str, list[list[dict[str, Any]]]] = {}

    def on(self, role: str, *calls: list[dict[str, Any]]) -> Agent:
        self.script[role] = [list(call) for call in calls]
        self.script_path.write_text(json.dumps(self.script))
        return self

    def calls(self, role: str | None = None) -> list[dict[str, Any]]:
        path = self.script_path.with_name(self.script_path.name + ".calls.jsonl")
        if not path.exists():
            return []
        records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        return [r for r in records if role is None or r["role"] == role]


def run_loop_in_process(
    workspace: Path,
    config: dict[str, Any] | None = None,
    time_source: FakeTime | None = None,
    flags: RunFlags | None = None,
    template: str | None = None,
    worktree: IsolationRequest | None = None,
    **options: Any,
) -> Run:
    """Run the real loop in-process with the fake agent; config keys go through a real TOML file."""
    import tomli_w

    config = {
        "checks": [],
        "backoff_base_sec": 1,
        "no_change_backoff_sec": 1,
        "continue_false_backoff_sec": 1,
        "planner_stop_backoff_sec": 1,
        **(config or {}),
    }
    if config.get("checks") == "detect":
        del config["checks"]
    config_path = workspace.parent / "loop-config.toml"
    config_path.write_text(tomli_w.dumps(config))
    opts = Options(
        workspace=str(workspace), config=str(config_path), agent_command_template=template or fake_template(), **options
    )
    out = io.StringIO()
    time_source = time_source or FakeTime()
    prepared = prepare(opts)
    if worktree is not None:
        isolated = isolate(prepared, worktree)
        assert isolated is not None
        prepared = isolated
    code = run_any(prepared, flags or RunFlags(), time_source.deps(), out)  # the task queue when tasks/ exists
    return Run(code, out.getvalue(), prepared.layout.state_dir, prepared.worktree)


def private_state(workspace: Path, state_dir: str = ".codex-self-iter") -> Path:
    """The loop-private state of a workspace's state dir (lock, lock holder, agent.json), outside the workspace."""
    from codex_self_iter.state.layout import Layout

    return Layout.create(workspace, "TASK.md", "plan.md", state_dir).private_dir


def private_file(state_dir: Path, name: str) -> Path:
    """A file of the loop-private state of state_dir (its directory created, as a loop would)."""
    directory = private_state(state_dir.parent, state_dir.name)
    directory.mkdir(parents=True, exist_ok=True)
    return directory / name
