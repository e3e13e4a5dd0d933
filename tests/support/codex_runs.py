"""Helpers for runner tests: agent requests laid out like the loop's, and a look at a process group's members."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from codex_self_iter.agent.kinds import Role, TokenUsage
from codex_self_iter.agent.types import AgentRequest
from codex_self_iter.proc.process import ProcessHandle

STATE_DIR_NAME = ".codex-self-iter"


def make_request(
    workspace: Path,
    role: Role = Role.EXECUTOR,
    *,
    iteration: int = 1,
    prompt: str = "Make hello.txt say hello.",
    timeout_sec: float = 60.0,
    run_name: str | None = None,
    cancel: Callable[[], bool] = lambda: False,
    on_start: Callable[[ProcessHandle], None] | None = None,
    on_tick: Callable[[float, TokenUsage | None], None] | None = None,
) -> AgentRequest:
    """An AgentRequest with the loop's state layout under <workspace>/.codex-self-iter."""
    state = workspace / STATE_DIR_NAME
    prompt_file = state / "prompts" / f"{iteration:04d}-{role.value}.md"
    prompt_file.parent.mkdir(parents=True, exist_ok=True)
    prompt_file.write_text(prompt, encoding="utf-8")
    return AgentRequest(
        role=role,
        iteration=iteration,
        prompt_file=prompt_file,
        prompt_text=prompt,
        workspace=workspace,
        state_dir=state,
        run_dir=state / "runs" / str(iteration) / (run_name or role.value),
        schema_file=state / "schemas" / f"{role.value}.json",
        timeout_sec=timeout_sec,
        cancel=cancel,
        on_start=on_start,
        on_tick=on_tick,
    )


def group_members(pgid: int) -> dict[int, str]:
    """pid -> state letter of every process in the process group or session `pgid` (Linux /proc)."""
    members: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as handle:
                stat = handle.read()
        except OSError:
            continue
        # Fields after the parenthesised command name: state ppid pgrp session ...
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) >= 4 and (int(fields[2]) == pgid or int(fields[3]) == pgid):
            members[int(entry)] = fields[0]
    return members


def live_members(pgid: int) -> dict[int, str]:
    """Members of the group that are still running (zombies waiting for init to reap them are dead)."""
    return {pid: state for pid, state in group_members(pgid).items() if state != "Z"}


def block(**fields: Any) -> dict[str, Any]:
    """An executor control block with sensible defaults."""
    return {"status": "continue", "summary": "did a step", "next_goal": "do the next step", "evidence": [], **fields}
