"""`session start`: freeze a contract (objective, checks, baseline, caps) and bind it to one Codex session."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from filelock import FileLock, Timeout

from codex_self_iter.checks.protected import ProtectedSnapshot
from codex_self_iter.checks.run import CheckSpec, parse_check, run_checks
from codex_self_iter.config import Settings
from codex_self_iter.errors import UserError
from codex_self_iter.options import Options, configured_checks, prepare, resolve_workspace
from codex_self_iter.session.contract import Contract, ContractCheck, SessionState
from codex_self_iter.session.custody import current, record
from codex_self_iter.session.layout import SessionPaths
from codex_self_iter.state.fsio import make_private_dir
from codex_self_iter.state.journal import Journal
from codex_self_iter.state.runtime import Baseline
from codex_self_iter.state.stop_request import stop_file_present
from codex_self_iter.workspace.fingerprint import take_fingerprint
from codex_self_iter.workspace.git_exclude import exclude_state_dir

CHECK_BUDGET_SEC = 480.0  # all checks of one stop end well inside the hook's own 600 s timeout (hookspec)
DEFAULT_MAX_ITERATIONS = 10
LOCK_WAIT_SEC = 10.0


@dataclass(frozen=True)
class Started:
    """What `session start` recorded, and whether it went to private state (else the hook takes it over)."""

    contract: Contract
    state: SessionState
    paths: SessionPaths
    private: bool


@dataclass(frozen=True)
class StartRequest:
    """What `session start` was asked for."""

    workspace: str
    objective: str
    max_iterations: int = DEFAULT_MAX_ITERATIONS
    completion_promise: str | None = None
    checks: tuple[str, ...] = ()


def start_session(request: StartRequest, clock: Callable[[], float] = time.time) -> Started:
    """Validate, run the baseline checks, write the contract and a fresh state; UserError on bad input."""
    if not request.objective.strip():
        raise UserError("--objective is empty; say what must be true when the session may stop")
    if request.max_iterations < 1:
        raise UserError(
            f"--max-iterations {request.max_iterations}: give at least 1 (in-session mode is always capped)"
        )
    workspace = resolve_workspace(request.workspace)
    prepared = prepare(Options(workspace=str(workspace)))
    settings, layout = prepared.settings, prepared.layout
    promise = request.completion_promise if request.completion_promise is not None else settings.completion_promise
    if not promise.strip():
        raise UserError("--completion-promise is empty; give the word the model ends with, e.g. DONE")
    stop_files = (layout.stop_file, layout.global_stop_file)
    found = stop_file_present(stop_files)
    if found is not None:
        raise UserError(f"{found}: a STOP sentinel is present; remove it, then start the session again")
    specs = _checks(request.checks, workspace, settings)
    paths = SessionPaths.of(layout)
    try:
        make_private_dir(paths.root)
    except OSError as exc:
        raise UserError(f"{paths.root}: cannot create the session dir ({exc.strerror}); check permissions") from exc
    exclude_state_dir(layout.workspace, layout.state_dir)
    now = clock()
    try:
        with FileLock(str(paths.lock), timeout=LOCK_WAIT_SEC):
            _refuse_active(paths)
            baseline_report = run_checks(specs, workspace, paths.root / "baseline")
            excluded = layout.relative_state_dir()
            fingerprint = take_fingerprint(workspace, excluded)
            snapshot = ProtectedSnapshot.take(workspace, specs, settings.protected_paths, excluded)
            contract = Contract(
                id=time.strftime("%Y%m%dT%H%M%S", time.localtime(now)) + f"-{os.getpid()}",
                objective=request.objective.strip(),
                workspace=str(workspace),
                checks=[ContractCheck.of(spec) for spec in specs],
                checks_source="command line" if request.checks else _source(specs),
                completion_promise=promise,
                max_iterations=request.max_iterations,
                max_no_change=settings.max_no_change,
                check_budget_sec=CHECK_BUDGET_SEC,
                stop_files=[str(path) for path in stop_files],
                protected_files=len(snapshot.files),
                allow_test_changes=settings.allow_test_changes,
                state_dir_in_workspace=excluded,
                baseline=Baseline(
                    fingerprint=fingerprint.digest,
                    head=fingerprint.head,
                    checks_passed=baseline_report.all_passed,
                    checks_summary=baseline_report.summary(),
                    recorded_at=now,
                ),
                started_in_session=os.environ.get("CODEX_THREAD_ID") or os.environ.get("CODEX_SESSION_ID") or "",
                created_at=now,
            )
            paths.cancel_request.unlink(missing_ok=True)
            state = SessionState(contract_id=contract.id)
            if contract.started_in_session:
                state.bound_session, state.bound_by = contract.started_in_session, "session start inside Codex"
            private = record(paths, contract, state, snapshot.to_dict())
    except Timeout:
        raise UserError(f"{paths.lock}: the Stop hook is busy with this workspace; try again in a moment") from None
    Journal(paths.journal).record(
        "session_start",
        contract_id=contract.id,
        objective=contract.objective,
        checks=[check.spec().command for check in contract.checks],
        baseline=contract.baseline.checks_summary,
        bound_session=state.bound_session,
    )
    return Started(contract, state, paths, private)


def _checks(given: tuple[str, ...], workspace: Path, settings: Settings) -> list[CheckSpec]:
    shell, timeout = settings.checks_shell, settings.check_timeout_sec
    limit = min(timeout, CHECK_BUDGET_SEC)
    if given:
        specs = [parse_check(command, shell, limit, source="command line") for command in given]
    else:
        specs, source = configured_checks(settings, workspace)
        if not specs:
            raise UserError(
                f"no checks ({source}): pass --check CMD (repeatable) or set checks = [...] in codex-self-iter.toml;"
                " in-session mode needs a check that proves the objective"
            )
    return [replace(spec, timeout_sec=min(spec.timeout_sec, limit)) for spec in specs]


def _source(specs: list[CheckSpec]) -> str:
    return "; ".join(spec.source for spec in specs)


def _refuse_active(paths: SessionPaths) -> None:
    try:
        found = current(paths)
    except UserError:
        return  # an unusable contract is replaced
    if found is not None and found[1].active:
        raise UserError(
            f"{paths.contract}: in-session mode is already active here ({found[0].objective[:80]!r}); "
            "run `codex-self-iter session cancel` first"
        )
