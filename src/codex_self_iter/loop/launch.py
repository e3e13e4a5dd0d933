"""One `run`: take the lock, resume or start an episode, record a baseline, run the loop, print the summary."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from codex_self_iter.agent.runners import make_runner
from codex_self_iter.agent.types import AgentRunner
from codex_self_iter.codex.pricing import find_price
from codex_self_iter.errors import OutputClosed, UserError
from codex_self_iter.loop.config_pin import pin_config
from codex_self_iter.loop.context import Deps, LoopContext
from codex_self_iter.loop.core import run_loop
from codex_self_iter.loop.ledger import recover
from codex_self_iter.loop.protect import record_snapshot
from codex_self_iter.loop.reporter import Reporter
from codex_self_iter.loop.success import run_project_checks
from codex_self_iter.loop.summary import print_summary
from codex_self_iter.options import ADD_CHECK_HINT, Prepared, configured_checks, watched_config
from codex_self_iter.proc.orphans import end_leftover_agent
from codex_self_iter.state.fsio import make_private_dir, remove_stale_temp_files
from codex_self_iter.state.journal import Journal
from codex_self_iter.state.loop_lock import loop_locks
from codex_self_iter.state.runtime import Baseline, RuntimeState, Streaks, load_runtime, save_runtime
from codex_self_iter.state.snapshot import Phase
from codex_self_iter.state.status import write_status
from codex_self_iter.state.stop_request import StopSignals, remove_sentinel, stop_file_present
from codex_self_iter.workspace.checkpoint import Checkpoints
from codex_self_iter.workspace.fingerprint import dirty_digests, take_fingerprint
from codex_self_iter.workspace.git_exclude import exclude_state_dir
from codex_self_iter.workspace.inputs import read_inputs

PREEXISTING_LIMIT = 500  # files changed before the run that are left out of its count and diff (runtime.json size)

# Names only the loop puts in a state dir: one of them present means the directory is (or was) a loop's.
LOOP_FILES = {"runtime.json", "status.json", "logs", "runs", "prompts", "STOP", "tasks.json", "protected.json"}
LOOP_FILES |= {"session", "worktree.json"}


@dataclass(frozen=True)
class RunFlags:
    """Switches of `run` that are not settings."""

    clear_stop: bool = False
    fresh: bool = False
    accept_config: bool = False


def build_context(prepared: Prepared, deps: Deps, stream: TextIO | None = None, dry_run: bool = False) -> LoopContext:
    """A LoopContext with the runner and checks resolved (errors here are the user's to fix)."""
    settings, layout = prepared.settings, prepared.layout
    read_inputs(layout)
    config_dir = prepared.config_path.parent if prepared.config_path else None
    runner: AgentRunner = make_runner(settings, layout, config_dir, deps.clock)
    if not dry_run:
        runner.prepare()
    checks, source = configured_checks(settings, layout.workspace)
    if settings.require_checks and not checks:
        where = prepared.config_path or "the config"
        raise UserError(f"{where}: require_checks = true but there are no checks ({source}); {ADD_CHECK_HINT}")
    model = runner.status_fields().get("model")
    model = model if isinstance(model, str) else None
    price, price_source = find_price(model, settings.prices) if model else (None, "")
    if settings.max_cost_usd and price is None:
        _refuse_unpriced_budget(prepared, model, runner)
    return LoopContext(
        settings=settings,
        layout=layout,
        runner=runner,
        checks=checks,
        checks_source=source,
        journal=Journal(layout.journal, deps.clock),
        reporter=Reporter(settings.quiet, settings.heartbeat_sec, stream),
        signals=StopSignals((layout.stop_file, layout.global_stop_file), layout.stop_latch),
        deps=deps,
        config_path=prepared.config_path,
        config_digest=prepared.config_digest,
        bypass=runner.unsandboxed,
        checkpoints=Checkpoints(prepared.worktree) if prepared.worktree and not dry_run else None,
        model=model,
        price=price,
        price_source=price_source,
    )


def run_session(prepared: Prepared, flags: RunFlags, deps: Deps | None = None, out: TextIO | None = None) -> int:
    """Run a loop to its stop and return the exit code."""
    deps = deps or Deps()
    with open_session(prepared, flags, deps) as (ctx, state):
        record_baseline(ctx, state)
        result = run_loop(ctx, state)
    return print_end(out or sys.stdout, result.exit_code, lambda stream: print_summary(ctx, state, result, stream))


def print_end(out: TextIO, exit_code: int, write: Callable[[TextIO], None]) -> int:
    """Print the end of a run and return its exit code; a reader that went away does not change that code."""
    try:
        write(out)
        out.flush()
    except BrokenPipeError:
        raise OutputClosed(exit_code) from None  # nobody reads the summary; the exit code still counts
    return exit_code


@contextmanager
def open_session(prepared: Prepared, flags: RunFlags, deps: Deps) -> Iterator[tuple[LoopContext, RuntimeState]]:
    """Hold the lock with the saved state resumed and the stop signals installed (a task queue runs inside one)."""
    layout = prepared.layout
    _check_stop_files(layout.stop_file, layout.global_stop_file, flags.clear_stop)
    ctx = build_context(prepared, deps)
    check_state_dir_is_ours(layout.state_dir)
    try:
        make_private_dir(layout.state_dir)
    except OSError as exc:
        raise UserError(f"{layout.state_dir}: cannot create the state dir ({exc.strerror}); check permissions") from exc
    with loop_locks(layout):
        pin_config(layout.config_record, watched_config(prepared), flags.accept_config)
        layout.stop_latch.unlink(missing_ok=True)  # a request no run saw is void once its STOP file is gone
        exclude_state_dir(layout.workspace, layout.state_dir)
        ended = end_leftover_agent(layout.agent_file)
        # Only the lock holder may clean up: nobody else is writing these directories now.
        remove_stale_temp_files(layout.state_dir)
        ctx.started_at = deps.clock()
        if ended:
            ctx.reporter.warn(f"ended agent process group {ended} left behind by a loop that was killed")
        state = _resume(ctx, flags.fresh)  # reads the killed run's journal tail: before this run's "start"
        ctx.journal.record("start", pid_group_ended=ended, runner=ctx.runner.name, checks=ctx.checks_source)
        _announce(ctx)
        ctx.signals.install()
        try:
            yield ctx, state
        finally:
            ctx.signals.restore()


def check_state_dir_is_ours(state_dir: Path) -> None:
    """Refuse a state dir that already holds files, none of them the loop's: it would mix its files with yours."""
    try:
        names = [name for name in os.listdir(state_dir) if not name.startswith(".")]
    except OSError:
        return  # missing (created next) or unreadable (creating it says why)
    if names and not any(name.split(".json", 1)[0] + ".json" in LOOP_FILES or name in LOOP_FILES for name in names):
        shown = ", ".join(sorted(names)[:3])
        raise UserError(
            f"state_dir {state_dir}: holds files the loop did not create ({shown}); give the loop a directory of "
            "its own (default .codex-self-iter)"
        )


def _check_stop_files(stop_file: Path, global_stop: Path, clear: bool) -> None:
    found = stop_file_present((stop_file, global_stop))
    if found is None:
        return
    if not clear:
        raise UserError(f"{found}: a STOP sentinel is present; remove it or run again with --clear-stop")
    for path in (stop_file, global_stop):
        remove_sentinel(path)


def _resume(ctx: LoopContext, fresh: bool) -> RuntimeState:
    path = ctx.layout.runtime_file
    if fresh and path.exists():
        path.replace(path.with_name(f"runtime.json.before-fresh-{int(ctx.deps.clock())}"))
    state = load_runtime(path)
    # Gone (deleted, or set aside as corrupt) while the private snapshot of an episode is still there.
    ctx.state_lost = not fresh and not path.exists() and ctx.layout.protected_file.exists()
    if state.completed:
        ctx.reporter.info("the previous run completed; starting a new episode (new baseline, new plan)")
        state.completed, state.goal, state.baseline = False, None, None
        state.streaks, state.last_claim_fingerprint, state.last_review = Streaks(), None, None
    elif state.clean_exit and state.stop_reason:
        # The user restarts after a gate stopped the loop: keep goal, counters and backoff, not the streaks.
        state.streaks = Streaks()
        state.replanned_for_stagnation = False
    elif not state.clean_exit:
        ctx.reporter.warn("the previous run did not exit cleanly; resuming with its goal, counters and backoff")
        recover(ctx, state)
    if state.config_digest and state.config_digest != ctx.config_digest:
        ctx.journal.record("config_changed", previous=state.config_digest, now=ctx.config_digest)
        ctx.reporter.info("the configuration changed since the last run; using the new one")
    state.config_digest = ctx.config_digest
    longest = max(ctx.settings.backoff_max_sec, ctx.settings.usage_limit_max_wait_sec)
    if state.backoff_until > ctx.deps.clock() + longest:
        # A saved backoff longer than any the settings allow (clock change, hand edit) must not wait forever.
        state.backoff_until = ctx.deps.clock() + longest
    if state.backoff_until > ctx.deps.clock():
        left = state.backoff_until - ctx.deps.clock()
        ctx.reporter.warn(f"resuming the previous run's backoff: {left:.0f}s more ({state.backoff_reason or '?'})")
    if state.clean_exit:
        # Budgets count from here; a run resumed after a crash keeps the crashed run's count.
        state.run_first_iteration, state.run_first_tokens = state.iteration, state.totals.tokens
        state.run_first_cost_usd = state.totals.cost_usd
    state.stop_reason, state.clean_exit = None, False
    save_runtime(path, state)
    write_status(ctx, state, Phase.STARTING)
    return state


def record_baseline(ctx: LoopContext, state: RuntimeState) -> None:
    """Record the checks and the workspace fingerprint before this episode's first iteration (once)."""
    record_snapshot(ctx, fresh_baseline=state.baseline is None)
    if state.baseline is not None:
        return
    fingerprint = take_fingerprint(ctx.layout.workspace, ctx.state_exclude)
    report = run_project_checks(ctx, state, state.iteration, "baseline")
    if report is not None and report.any_error:
        bad = next(r for r in report.results if r.status == "error")
        raise UserError(f"check {bad.name!r} cannot start ({bad.error}); fix `checks` in the config")
    state.baseline = Baseline(
        fingerprint=fingerprint.digest,
        head=fingerprint.head,
        checks_passed=None if report is None else report.all_passed,
        checks_summary="" if report is None else report.summary(),
        recorded_at=ctx.deps.clock(),
        preexisting=dirty_digests(ctx.layout.workspace, ctx.state_exclude, PREEXISTING_LIMIT),
    )
    ctx.journal.record("baseline", **state.baseline.model_dump())
    save_runtime(ctx.layout.runtime_file, state)


def _announce(ctx: LoopContext) -> None:
    s = ctx.settings
    if s.max_iterations == 0 and not s.max_wall_clock_sec and not s.max_total_tokens and not s.max_cost_usd:
        ctx.reporter.warn("max_iterations = 0 and no wall-clock, token or cost budget: the loop is unbounded")
    _announce_cost(ctx)
    if ctx.bypass:
        ctx.reporter.warn("sandbox BYPASS is on: the agent runs without a sandbox or approvals")
    ctx.reporter.info(f"workspace {ctx.layout.workspace} · runner {ctx.runner.name} · checks: {ctx.checks_source}")
    if not ctx.checks:
        ctx.reporter.warn(
            f"NO CHECKS ({ctx.checks_source}): only the reviewer stands between a claim and exit 0; {ADD_CHECK_HINT}"
        )
    if ctx.checkpoints is not None:
        run = ctx.checkpoints.run
        start = run.start_branch or run.start_commit[:12]
        carried = " + your uncommitted changes" if run.carried_uncommitted else ""
        ctx.reporter.info(f"worktree run {run.id}: branch {run.branch} from {start}{carried}; your tree is untouched")


def _refuse_unpriced_budget(prepared: Prepared, model: str | None, runner: AgentRunner) -> None:
    """max_cost_usd with no price to count it by could never stop the run: refuse it instead of ignoring it."""
    where = prepared.config_path or "the command line"
    budget = f"max_cost_usd = {prepared.settings.max_cost_usd:g}"
    if model is None:
        raise UserError(
            f"{where}: {budget} cannot be enforced: the {runner.name} runner reports no model or token usage; "
            "unset max_cost_usd (max_iterations or max_wall_clock_sec bound such a run)"
        )
    source = runner.status_fields().get("model_source")
    named = f"model {model!r}" + (f" (from {source})" if isinstance(source, str) else "")
    raise UserError(
        f'{where}: {budget} cannot be enforced: {named} has no price; add [prices."{model}"] with input, '
        "cached_input and output (US$ per 1M tokens) to the config, or unset max_cost_usd"
    )


def _announce_cost(ctx: LoopContext) -> None:
    """Which price the cost comes from; one warning when there is none, so no cost is ever a silent $0."""
    if ctx.price is not None:
        ctx.reporter.info(f"cost: {ctx.model} at {ctx.price.describe()} ({ctx.price_source})")
    elif ctx.model is not None:
        ctx.reporter.warn(
            f"no price for model {ctx.model!r}: its cost is not counted; add "
            f'[prices."{ctx.model}"] with input, cached_input and output (US$ per 1M tokens) to the config'
        )
