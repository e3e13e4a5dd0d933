"""`run --dry-run`: the next iteration's prompt and exact argv, rendered from the saved state; calls nothing."""

from __future__ import annotations

import shlex
import time
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError

from codex_self_iter.agent.types import AgentRequest, Role
from codex_self_iter.codex.binary import find_codex
from codex_self_iter.commands.loop_view import holder_pid, pid_alive
from codex_self_iter.errors import UserError
from codex_self_iter.loop.context import Deps, LoopContext
from codex_self_iter.loop.launch import build_context
from codex_self_iter.options import Prepared
from codex_self_iter.prompts.roles import executor_prompt, planner_prompt
from codex_self_iter.state.fsio import read_json
from codex_self_iter.state.loop_lock import describe_holder
from codex_self_iter.state.runtime import RuntimeState
from codex_self_iter.state.stop_request import stop_file_present
from codex_self_iter.workspace.inputs import Inputs, read_inputs

CHARS_PER_TOKEN = 4  # a rough estimate, enough to see whether a prompt is growing


def dry_run(prepared: Prepared, out: TextIO) -> int:
    """Print what the next agent call would be; no state dir, lock, prompt file or runtime write."""
    ctx = build_context(prepared, Deps(), stream=out, dry_run=True)
    layout = ctx.layout
    state, origin = peek_runtime(layout.runtime_file)
    inputs = read_inputs(layout)
    iteration = state.iteration + 1
    role, reason = next_role(ctx, state, inputs, iteration)
    prompt = planner_prompt(ctx, state, inputs, reason) if role is Role.PLANNER else executor_prompt(ctx, state, inputs)
    run_dir = layout.run_dir(iteration, role.value)
    request = AgentRequest(
        role=role,
        iteration=iteration,
        prompt_file=layout.prompts_dir / f"{iteration:05d}-{role.value}.md",
        prompt_text=prompt,
        workspace=layout.workspace,
        state_dir=layout.state_dir,
        run_dir=run_dir,
        schema_file=run_dir / "schema.json",
        timeout_sec=ctx.settings.command_timeout_sec,
    )
    argv = ctx.runner.describe(request)
    print("codex-self-iter: dry run: nothing is called and nothing is written", file=out)
    print(f"  state: {origin}", file=out)
    print(f"  next: iteration {iteration} · {role.value} ({reason})", file=out)
    checks = "; ".join(spec.command for spec in ctx.checks)
    shown = f"{checks} ({ctx.checks_source})" if checks else ctx.checks_source
    print(f"  runner: {ctx.runner.name} · checks: {shown}", file=out)
    print(f"  prompt file: {request.prompt_file} (written when the loop runs)", file=out)
    print(f"  argv: {shlex.join(argv)}", file=out)
    if ctx.runner.name == "codex":
        print("  stdin: the prompt below", file=out)
    print(f"  prompt: {len(prompt):,} characters, ~{len(prompt) // CHARS_PER_TOKEN:,} tokens", file=out)
    for note in notes(ctx, state):
        print(f"  note: {note}", file=out)
    print(f"----- {role.value} prompt -----\n{prompt.rstrip()}\n----- end of prompt -----", file=out)
    return 0


def peek_runtime(path: Path) -> tuple[RuntimeState, str]:
    """The saved state and where it came from, read without side effects (run sets a corrupt file aside)."""
    if not path.exists():
        return RuntimeState(), "no saved state: the loop would start fresh"
    try:
        state = RuntimeState.model_validate(read_json(path))
    except ValidationError:
        return RuntimeState(), f"{path} is unreadable: `run` would set it aside and start fresh"
    if state.completed:
        state.goal, state.replan_reason = None, None
        return state, f"{path}: the last episode completed; `run` starts a new one"
    return state, f"resuming from {path} (iteration {state.iteration} done)"


def next_role(ctx: LoopContext, state: RuntimeState, inputs: Inputs, iteration: int) -> tuple[Role, str]:
    """The role the loop would call first, and why (mirrors the loop's own choice)."""
    if state.task_hash is not None and state.task_hash != inputs.task_hash:
        return Role.PLANNER, f"{ctx.settings.task_file} changed; plan for the new task"
    every = ctx.settings.plan_every
    if every and state.goal and iteration > 1 and (iteration - 1) % every == 0 and not state.replan_reason:
        return Role.PLANNER, f"periodic re-plan (plan_every={every})"
    if state.goal is None or state.replan_reason:
        return Role.PLANNER, state.replan_reason or "there is no current goal yet (first iteration)"
    return Role.EXECUTOR, f"goal: {' '.join(state.goal.split())[:120]}"


def notes(ctx: LoopContext, state: RuntimeState) -> list[str]:
    """What would happen before that call, or stop it from happening."""
    layout, found = ctx.layout, []
    stop = stop_file_present((layout.stop_file, layout.global_stop_file))
    if stop is not None:
        found.append(f"{stop} is present: `run` refuses to start until it is removed (or --clear-stop)")
    if pid_alive(holder_pid(layout)):
        found.append(f"a loop is running ({describe_holder(layout.holder_file)}); `run` would exit 4")
    if state.backoff_until > time.time():
        when = time.strftime("%H:%M:%S", time.localtime(state.backoff_until))
        found.append(f"the loop would first back off until {when} ({state.backoff_reason})")
    if state.baseline is None and ctx.checks:
        found.append("the checks would run once first, to record the baseline")
    if ctx.runner.name == "codex":
        try:
            find_codex(ctx.settings.codex.binary)
        except UserError as exc:
            found.append(str(exc))
    return found
