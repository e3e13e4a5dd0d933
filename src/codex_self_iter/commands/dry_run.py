"""`run --dry-run`: the next iteration's prompt and exact argv, rendered from the saved state; calls nothing."""

from __future__ import annotations

import shlex
import time
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError

from codex_self_iter.agent.kinds import Role
from codex_self_iter.commands.loop_view import holder_pid, pid_alive
from codex_self_iter.loop.context import Deps, LoopContext
from codex_self_iter.loop.launch import build_context
from codex_self_iter.loop.next_call import agent_request, next_call
from codex_self_iter.options import Prepared
from codex_self_iter.prompts.render import prompt_path
from codex_self_iter.prompts.roles import executor_prompt, planner_prompt
from codex_self_iter.state.fsio import read_json
from codex_self_iter.state.layout import Layout
from codex_self_iter.state.loop_lock import describe_holder
from codex_self_iter.state.runtime import RuntimeState
from codex_self_iter.state.stop_request import stop_file_present
from codex_self_iter.tasks.preview import next_in_queue
from codex_self_iter.workspace.inputs import read_inputs
from codex_self_iter.workspace.runs import WorktreeRun

CHARS_PER_TOKEN = 4  # a rough estimate, enough to see whether a prompt is growing


def dry_run(prepared: Prepared, out: TextIO) -> int:
    """Print what the next agent call would be; no state dir, lock, prompt file or runtime write."""
    user = prepared.planned_from  # a worktree run not created yet: its files are read in the user's tree
    reading = prepared if user is None else replace(prepared, layout=moved(prepared.layout, user.workspace))
    ctx = build_context(reading, Deps(), stream=out, dry_run=True)
    state, origin = peek_runtime(ctx.layout.runtime_file)
    queued = next_in_queue(ctx, state)
    if queued is not None and queued.ctx is None:
        print(
            f"codex-self-iter: dry run: nothing is called and nothing is written\n  task queue: {queued.line}", file=out
        )
        return 0
    if queued is not None and queued.ctx is not None:
        ctx = queued.ctx
    inputs = read_inputs(ctx.layout)
    if user is not None:  # from here on, paths as the run would see them: in its worktree
        ctx = replace(ctx, layout=moved(ctx.layout, prepared.layout.workspace, user.workspace))
    layout = ctx.layout
    iteration = state.iteration + 1
    upcoming = next_call(ctx.settings, state, inputs, iteration)
    role, reason = upcoming.role, upcoming.reason
    if upcoming.task_changed:
        state.goal = None
    state.replan_reason = upcoming.replan_reason
    prompt = planner_prompt(ctx, state, inputs, reason) if role is Role.PLANNER else executor_prompt(ctx, state, inputs)
    prompt_file = prompt_path(layout.prompts_dir, iteration, role.value)
    request = agent_request(layout, ctx.settings, role, iteration, role.value, prompt_file, prompt)
    argv = ctx.runner.describe(request)
    print("codex-self-iter: dry run: nothing is called and nothing is written", file=out)
    print(f"  state: {origin}", file=out)
    if prepared.worktree is not None:
        print(f"  worktree: {worktree_line(prepared.worktree, user is not None)}", file=out)
    print(f"  workspace: {layout.workspace} (the agent and the checks run here)", file=out)
    if queued is not None:
        print(f"  task: {queued.line}", file=out)
    print(f"  next: iteration {iteration} · {role.value} ({reason})", file=out)
    checks = "; ".join(spec.command for spec in ctx.checks)
    shown = f"{checks} ({ctx.checks_source})" if checks else ctx.checks_source
    print(f"  runner: {ctx.runner.name} · checks: {shown}", file=out)
    print(f"  prompt file: {request.prompt_file} (written when the loop runs)", file=out)
    print(f"  argv: {shlex.join(argv)}", file=out)
    if ctx.runner.prompt_on_stdin:
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
    return found + ctx.runner.preflight()


def moved(layout: Layout, workspace: Path, source: Path | None = None) -> Layout:
    """layout with its workspace files (workspace, task, plan, context file) under workspace instead of under
    source (default: layout.workspace); the state dir and the user's global STOP file stay where they are."""
    source = source or layout.workspace

    def move(path: Path) -> Path:
        return workspace / path.relative_to(source) if path == source or source in path.parents else path

    context = None if layout.context_file is None else move(layout.context_file)
    return replace(
        layout,
        workspace=move(layout.workspace),
        task_file=move(layout.task_file),
        plan_file=move(layout.plan_file),
        context_file=context,
    )


def worktree_line(run: WorktreeRun, planned: bool) -> str:
    """Which worktree run the call belongs to; for a planned one, what `run` would create."""
    start = f"{run.start_branch or 'HEAD'} ({run.start_commit[:12]})"
    carried = " with your uncommitted changes carried over" if run.carried_uncommitted else ""
    if planned:
        return (
            f"none yet: `run` would create branch {run.branch} from {start}{carried}, check it out in "
            f"{run.worktree} and keep its state in {run.state_dir}; nothing is created now"
        )
    return f"continuing run {run.id} on branch {run.branch} in {run.worktree} (state: {run.state_dir})"
