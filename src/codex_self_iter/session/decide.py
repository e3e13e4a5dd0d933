"""The Stop decision, a pure function: (contract, hook input, what was observed, counters) -> Allow | Block | Release.

No I/O, no clock, no filesystem: the hook's shell (hook.py) gathers the observation, this decides, the shell
writes the new state and prints what Codex accepts. Every release has a named reason, recorded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from codex_self_iter.agent.control import last_json_object, promise_claimed
from codex_self_iter.checks.report import CheckReport
from codex_self_iter.loop.success import checks_record, decide_success
from codex_self_iter.session.contract import Contract, SessionState
from codex_self_iter.session.hook_input import HookInput
from codex_self_iter.session.prompt import continuation_prompt

PREFIX = "codex-self-iter: "


@dataclass(frozen=True)
class Allow:
    """Let the stop happen and say nothing (the note goes to the journal only)."""

    note: str = ""


@dataclass(frozen=True)
class Block:
    """Keep the session working: the prompt becomes Codex's hook prompt."""

    prompt: str


@dataclass(frozen=True)
class Release:
    """Let the stop happen and tell the user why (a systemMessage)."""

    message: str


Decision = Allow | Block | Release


@dataclass(frozen=True)
class Observation:
    """What the shell saw at this stop."""

    now: float
    stop_file: str = ""  # "<path>: <reason>" when a STOP sentinel exists
    cancel: str = ""  # the reason of a pending `session cancel`
    claimed: bool = False
    report: CheckReport | None = None
    tampering: tuple[str, ...] = ()
    fingerprint: str = ""


@dataclass(frozen=True)
class Verdict:
    """The decision, the counters after it, and the journal event naming it."""

    decision: Decision
    state: SessionState
    event: str
    fields: dict[str, Any] = field(default_factory=dict)


def is_claim(message: str, promise: str) -> bool:
    """A completion claim: the exact trailing promise tag, or a last control block with status complete."""
    # Codex shows hook prompts HTML-escaped (&lt;promise&gt;), so a model may echo the tag that way.
    if promise_claimed(message, promise) or promise_claimed(message.replace("&lt;", "<").replace("&gt;", ">"), promise):
        return True
    block = last_json_object(message)
    return block is not None and block.get("status") == "complete"


def early_exit(contract: Contract, hook: HookInput, state: SessionState, obs: Observation) -> Verdict | None:
    """Decisions that need no checks: ended contract, STOP, cancel, a continuation another hook forced."""
    if not state.active:
        if state.notified:
            return Verdict(Allow("the contract already ended"), state, "ignored")
        message = state.message or f"{PREFIX}in-session mode ended ({state.status})"
        return Verdict(Release(message), _update(state, obs, notified=True, last_decision="release"), "notified")
    if obs.stop_file:
        message = f"{PREFIX}STOP requested ({obs.stop_file}); releasing this session, the contract is ended"
        return _end(state, obs, "stopped", "stop_file", message)
    if obs.cancel:
        message = f"{PREFIX}in-session mode cancelled: {obs.cancel}; releasing this session"
        return _end(state, obs, "cancelled", "cancelled", message)
    if hook.stop_hook_active and not (state.last_decision == "block" and state.last_turn == hook.turn_id):
        # stop_hook_active without our own block in this turn: another Stop hook forced this continuation.
        # Chaining behind it would let two hooks keep a session going together; the next fresh stop decides.
        note = "stop_hook_active but the last block was not ours: not chained"
        return Verdict(Allow(note), _update(state, obs, stops=state.stops + 1, last_decision="allow"), "not_chained")
    return None


def decide(contract: Contract, hook: HookInput, obs: Observation, state: SessionState) -> Verdict:
    """Allow, block (with the continuation prompt) or release this stop; see the module docstring."""
    early = early_exit(contract, hook, state, obs)
    if early is not None:
        return early
    state = _update(state, obs, stops=state.stops + 1, claims=state.claims + obs.claimed)
    failures: list[str] = []
    checks_text = ""
    if obs.claimed:
        report = obs.report
        if report is None or report.any_error or report.cancelled:
            summary = report.summary() if report else "the checks did not run"
            message = (
                f"{PREFIX}the checks could not run ({summary}); releasing this session. "
                "Fix the checks, then `codex-self-iter session start` again"
            )
            return _end(state, obs, "released", "checks_error", message, report)
        state = _update(state, obs, last_checks=checks_record(report, state.blocks + 1))
        success = decide_success(report.all_passed, None, False, contract.baseline, obs.fingerprint)
        if success.success and not obs.tampering:
            return _end(state, obs, "complete", "complete", f"{PREFIX}complete: {report.summary()}", report)
        if not report.all_passed:
            failures, checks_text = (
                [f"{r.name}: {r.describe()}" for r in report.not_passed],
                report.summary_for_prompt(),
            )
        elif not success.success:
            failures, checks_text = [success.reason], f"The checks pass, but {success.reason}."
        else:  # the checks pass only with weakened tests
            checks_text = f"Checks: {report.summary()}, but not with the tests the session started with."
    signature = _signature(obs, failures)
    same = state.same_failures + 1 if signature == state.last_signature else 1
    what = "; ".join([*failures, *obs.tampering]) or "no completion claim"
    if same > contract.max_no_change:
        message = (
            f"{PREFIX}releasing this session: {same - 1} continuations in a row changed nothing ({what}); "
            "the contract is ended. `codex-self-iter session status` shows the last check results"
        )
        return _end(state, obs, "released", "no_change", message)
    if state.blocks >= contract.max_iterations:
        message = (
            f"{PREFIX}releasing this session after {state.blocks} continuations (max_iterations="
            f"{contract.max_iterations}); still not done: {what}"
        )
        return _end(state, obs, "released", "max_iterations", message)
    iteration = state.blocks + 1
    prompt = continuation_prompt(contract, iteration, obs.claimed, checks_text, obs.tampering)
    state = _update(
        state,
        obs,
        blocks=iteration,
        same_failures=same,
        last_signature=signature,
        last_decision="block",
        last_turn=hook.turn_id,
    )
    return Verdict(Block(prompt), state, "blocked", {"iteration": iteration, "claimed": obs.claimed, "why": what})


def _signature(obs: Observation, failures: list[str]) -> str:
    """Same workspace and same failing checks (by name and outcome, not by their timing-laden output)."""
    parts = [obs.fingerprint, "claim" if obs.claimed else "no-claim", *failures, *obs.tampering]
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def _update(state: SessionState, obs: Observation, **changes: Any) -> SessionState:
    return state.model_copy(update={"updated_at": obs.now, **changes})


def _end(
    state: SessionState, obs: Observation, status: str, reason: str, message: str, report: CheckReport | None = None
) -> Verdict:
    changes: dict[str, Any] = {"status": status, "reason": reason, "message": message, "notified": True}
    changes.update(ended_at=obs.now, last_decision="release")
    if report is not None:
        changes["last_checks"] = checks_record(report, state.blocks)
    return Verdict(Release(message), _update(state, obs, **changes), reason)
