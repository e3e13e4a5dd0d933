"""The Stop decision as a table: every way a stop is allowed, blocked or released, with no I/O."""

from __future__ import annotations

import pytest

from codex_self_iter.checks.report import CheckReport, CheckResult, CheckStatus
from codex_self_iter.session.contract import Contract, ContractCheck, SessionState
from codex_self_iter.session.decide import Allow, Block, Observation, Release, decide, is_claim
from codex_self_iter.session.hook_input import HookInput
from codex_self_iter.state.runtime import Baseline

NOW = 1_000.0
CLAIM = "All done.\n<promise>DONE</promise>"


def contract(**changes: object) -> Contract:
    fields: dict[str, object] = {
        "id": "c1",
        "objective": "make add() add",
        "workspace": "/ws",
        "checks": [ContractCheck(name="unit", argv=["python3", "-m", "unittest"], timeout_sec=60)],
        "max_iterations": 5,
        "max_no_change": 2,
        "check_budget_sec": 480,
        "baseline": Baseline(fingerprint="base", checks_passed=False, checks_summary="0/1 checks passed"),
    }
    fields.update(changes)
    return Contract.model_validate(fields)


def hook(message: str = "working on it", *, active: bool = False, turn: str = "t1") -> HookInput:
    return HookInput("s1", turn, "/ws", "", active, message, True)


def report(status: CheckStatus, tail: str = "AssertionError: -1 != 5") -> CheckReport:
    code = {CheckStatus.PASSED: 0, CheckStatus.FAILED: 1}.get(status)
    result = CheckResult("unit", ["python3", "-m", "unittest"], status, code, 0.1, output_tail=tail, error="no python")
    return CheckReport([result])


def bound(**changes: object) -> SessionState:
    return SessionState(contract_id="c1", bound_session="s1").model_copy(update=changes)


def observe(
    claimed: bool = False, status: CheckStatus | None = None, fp: str = "changed", **more: object
) -> Observation:
    checks = report(status) if status is not None else None
    return Observation(now=NOW, claimed=claimed, report=checks, fingerprint=fp, **more)  # type: ignore[arg-type]


def test_a_claim_with_failing_checks_is_blocked_with_their_output() -> None:
    verdict = decide(contract(), hook(CLAIM), observe(True, CheckStatus.FAILED), bound())
    assert isinstance(verdict.decision, Block)
    prompt = verdict.decision.prompt
    assert "continuation 1 of 5" in prompt and "make add() add" in prompt
    assert "AssertionError: -1 != 5" in prompt and "<promise>DONE</promise>" in prompt
    assert (verdict.state.blocks, verdict.state.claims, verdict.state.last_decision) == (1, 1, "block")
    assert verdict.state.last_checks is not None and verdict.state.last_checks.all_passed is False


def test_a_claim_with_passing_checks_and_changes_completes() -> None:
    verdict = decide(contract(), hook(CLAIM), observe(True, CheckStatus.PASSED), bound(blocks=2))
    assert isinstance(verdict.decision, Release) and "complete: 1/1 checks passed" in verdict.decision.message
    assert (verdict.state.status, verdict.state.reason, verdict.state.ended_at) == ("complete", "complete", NOW)


def test_passing_on_the_last_allowed_iteration_is_complete_not_a_cap() -> None:
    verdict = decide(contract(), hook(CLAIM), observe(True, CheckStatus.PASSED), bound(blocks=5))
    assert verdict.state.status == "complete"


def test_green_and_unchanged_since_a_green_baseline_is_not_done() -> None:
    green = contract(baseline=Baseline(fingerprint="base", checks_passed=True))
    verdict = decide(green, hook(CLAIM), observe(True, CheckStatus.PASSED, fp="base"), bound())
    assert isinstance(verdict.decision, Block) and "nothing changed since the baseline" in verdict.decision.prompt


def test_tampering_blocks_even_when_the_checks_pass() -> None:
    obs = observe(True, CheckStatus.PASSED, tampering=("tests/test_calc.py: modified",))
    verdict = decide(contract(), hook(CLAIM), obs, bound())
    assert isinstance(verdict.decision, Block)
    assert "tests/test_calc.py: modified" in verdict.decision.prompt and verdict.state.status == "active"


def test_no_claim_is_blocked_with_how_to_finish() -> None:
    verdict = decide(contract(), hook("Which approach do you prefer?"), observe(), bound())
    assert isinstance(verdict.decision, Block)
    assert "without claiming completion" in verdict.decision.prompt and verdict.state.claims == 0


@pytest.mark.parametrize("status", [CheckStatus.ERROR, CheckStatus.CANCELLED])
def test_checks_that_cannot_run_release_instead_of_trapping(status: CheckStatus) -> None:
    verdict = decide(contract(), hook(CLAIM), observe(True, status), bound())
    assert isinstance(verdict.decision, Release) and verdict.state.reason == "checks_error"


def test_max_iterations_releases_with_a_message() -> None:
    verdict = decide(contract(), hook(CLAIM), observe(True, CheckStatus.FAILED), bound(blocks=5))
    assert isinstance(verdict.decision, Release)
    assert "after 5 continuations (max_iterations=5)" in verdict.decision.message
    assert (verdict.state.status, verdict.state.reason) == ("released", "max_iterations")


def test_same_failures_with_an_unchanged_workspace_release_after_max_no_change() -> None:
    state, decisions = bound(), []
    for _ in range(4):
        verdict = decide(contract(), hook(CLAIM), observe(True, CheckStatus.FAILED, fp="same"), state)
        decisions.append(type(verdict.decision))
        state = verdict.state
    assert decisions[:3] == [Block, Block, Release]
    assert (state.reason, state.blocks) == ("no_change", 2)


def test_a_changed_workspace_resets_the_no_change_count() -> None:
    state = bound()
    for n in range(4):
        state = decide(contract(), hook(), observe(fp=f"fp{n}"), state).state
    assert (state.status, state.blocks, state.same_failures) == ("active", 4, 1)


def test_stop_file_and_cancel_release_before_any_check() -> None:
    stopped = decide(contract(), hook(CLAIM), observe(stop_file="/ws/.codex-stop: STOP"), bound())
    assert isinstance(stopped.decision, Release) and stopped.state.status == "stopped"
    cancelled = decide(contract(), hook(), observe(cancel="user, from a shell"), bound())
    assert isinstance(cancelled.decision, Release) and cancelled.state.status == "cancelled"
    assert "user, from a shell" in cancelled.decision.message


def test_an_ended_contract_tells_the_session_once_then_stays_silent() -> None:
    ended = bound(status="cancelled", message="codex-self-iter: cancelled", notified=False)
    first = decide(contract(), hook(), observe(), ended)
    assert isinstance(first.decision, Release) and first.state.notified
    assert isinstance(decide(contract(), hook(), observe(), first.state).decision, Allow)


def test_stop_hook_active_chains_only_behind_our_own_block() -> None:
    ours = bound(last_decision="block", last_turn="t1")
    assert isinstance(decide(contract(), hook(active=True), observe(), ours).decision, Block)
    foreign = decide(contract(), hook(active=True), observe(), bound(last_decision="allow"))
    assert isinstance(foreign.decision, Allow) and foreign.event == "not_chained"
    other_turn = decide(contract(), hook(active=True, turn="t2"), observe(), ours)
    assert isinstance(other_turn.decision, Allow)


@pytest.mark.parametrize(
    ("message", "claimed"),
    [
        ("done <promise>DONE</promise>", True),
        ("done\n<promise>  DONE \n</promise>\n\n", True),
        ("done &lt;promise&gt;DONE&lt;/promise&gt;", True),
        ("I will print <promise>DONE</promise> when finished, not yet.", False),
        ("<promise>DONE!</promise>", False),
        ('Finished.\n```json\n{"status": "complete", "summary": "s"}\n```', True),
        ('{"status": "continue", "summary": "s", "next_goal": "g"}', False),
        ("", False),
    ],
)
def test_what_counts_as_a_claim(message: str, claimed: bool) -> None:
    assert is_claim(message, "DONE") is claimed
