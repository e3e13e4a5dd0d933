"""Classifying failed codex calls, and reading "try again at …" times: pure functions, table-tested."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from codex_self_iter.agent.kinds import FailureKind
from codex_self_iter.codex.failures import CallFacts, classify, primary_message, thread_missing
from codex_self_iter.codex.retry_time import parse_retry_at

LOCAL = timezone(timedelta(hours=-5))  # codex prints wall-clock times in the machine's zone
NOW = datetime(2026, 11, 20, 14, 0, 0, tzinfo=LOCAL)  # 2:00 PM local


def at(hour: int, minute: int = 0, day: int = 20, month: int = 11, year: int = 2026) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=LOCAL).timestamp()


def later(**delta: float) -> float:
    return (NOW + timedelta(**delta)).timestamp()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("You've hit your usage limit. Try again at 3:05 PM.", at(15, 6)),  # the end of the stated minute
        (
            "You’ve hit your usage limit. Upgrade to Pro (https://x), visit https://y or try again at 1:55 AM.",
            at(1, 56, 21),
        ),
        ("Rate limited; try again at 15:30.", at(15, 31)),
        ("try again at 1:59 PM", at(14, 0)),  # within tolerance of now: today, not tomorrow
        ("try again at 9:00 am", at(9, 1, 21)),  # already past today: tomorrow
        ("resets 4pm", at(16, 1)),
        ("You've hit your usage limit. Try again at Aug 8th, 2027 12:30 PM.", None),  # > 31 days ahead
        ("You've hit your usage limit. Try again at Nov 22nd, 2026 12:30 PM.", at(12, 31, 22)),
        ("or try again at Dec 1st, 2026 1:05 AM.", at(1, 6, 1, 12)),
        ("You've hit your usage limit. Try again Nov 23.", at(0, 0, 24)),  # a day: its end
        ("send a request to your admin or try again in 3 days 6 hours 57 minutes.", later(days=3, hours=6, minutes=57)),
        ("try again in 2 hours 5 minutes", later(hours=2, minutes=5)),
        ("Please try again in 20s.", later(seconds=20)),
        ("Please try again in 1.5s", later(seconds=1.5)),
        ("Please try again in 750ms", later(seconds=0.75)),
        ("Rate limit reached for requests. Please try again in 6m0s.", later(minutes=6)),
        ("try again in 1h2m3.5s", later(hours=1, minutes=2, seconds=3.5)),
        ("retry after 45 minutes", later(minutes=45)),
        ("try again in 1 hour, 30 minutes and 10 seconds", later(hours=1, minutes=30, seconds=10)),
        ("usage limit; resets at 2026-11-20T21:00:00Z", datetime(2026, 11, 20, 21, 0, tzinfo=UTC).timestamp()),
        ("resets at 2026-11-20 18:30", at(18, 30)),
        ('{"error":{"type":"usage_limit_reached","resets_at":1795255200}}', 1795255200.0),
        ('{"error":{"type":"usage_limit_reached","resets_in_seconds":600}}', later(seconds=600)),
        ("You've hit your usage limit. Try again later.", None),
        ("try again at 3", None),  # a bare number is too vague
        ("try again at 25:00", None),
        ("try again at 13:00 PM", None),
        ("usage limit reached", None),
        ("resets at 2020-01-01T00:00:00Z", None),  # long past
        ("", None),
    ],
)
def test_parse_retry_at(text: str, expected: float | None) -> None:
    found = parse_retry_at(text, NOW)
    if expected is None:
        assert found is None
    else:
        assert found == pytest.approx(expected, abs=0.01)


def facts(**kwargs: object) -> CallFacts:
    base: dict[str, object] = {"exit_code": 1}
    base.update(kwargs)
    return CallFacts(**base)  # type: ignore[arg-type]


def failed(message: str, stderr: str = "") -> CallFacts:
    return facts(errors=(message, message), failure_messages=(message,), stderr=stderr)


USAGE_MSG = "You’ve hit your usage limit. Visit https://chatgpt.com/codex/settings/usage or try again at 3:28 PM."


@pytest.mark.parametrize(
    ("call", "kind", "fragment"),
    [
        (facts(exit_code=0, turn_completed=True), FailureKind.NONE, ""),
        (facts(exit_code=0, turn_completed=True, errors=("Reconnecting... 1/5",)), FailureKind.NONE, ""),
        (facts(exit_code=None, start_error="No such file or directory"), FailureKind.FATAL, "could not be started"),
        (facts(exit_code=-15, cancelled=True), FailureKind.TRANSIENT, "cancelled"),
        (facts(exit_code=-15, timed_out=True, timeout_sec=30.0), FailureKind.TRANSIENT, "timed out after 30s"),
        (facts(exit_code=-15, timed_out=True, errors=(USAGE_MSG,)), FailureKind.TRANSIENT, "timed out"),
        (failed(USAGE_MSG), FailureKind.USAGE_LIMIT, "usage limit"),
        (failed("exceeded retry limit, last status: 429 Too Many Requests"), FailureKind.USAGE_LIMIT, "429"),
        (failed("Rate limit reached for gpt-5.5. Please try again in 20s."), FailureKind.USAGE_LIMIT, "Rate limit"),
        (failed("You exceeded your current quota (insufficient_quota)"), FailureKind.USAGE_LIMIT, "quota"),
        (
            failed("We’re currently experiencing high demand, which may cause temporary errors."),
            FailureKind.TRANSIENT,
            "high demand",
        ),
        (failed("exceeded retry limit, last status: 502 Bad Gateway"), FailureKind.TRANSIENT, "502"),
        (failed("stream disconnected before completion: upstream went away"), FailureKind.TRANSIENT, "disconnected"),
        (failed("Connection failed: error sending request"), FailureKind.TRANSIENT, "Connection failed"),
        (
            failed("unexpected status 401 Unauthorized: Incorrect API key provided, url: http://x/v1/responses"),
            FailureKind.FATAL,
            "codex login",
        ),
        (failed("Missing environment variable: `MOCK_KEY`."), FailureKind.FATAL, "codex login"),
        (failed("The model `gpt-9` does not exist or you do not have access to it."), FailureKind.FATAL, "codex.model"),
        (failed("model_not_found: unknown model gpt-9"), FailureKind.FATAL, "codex.model"),
        (failed("Invalid schema for response_format 'codex_output_schema'"), FailureKind.FATAL, "output_schema"),
        (failed("unexpected status 403 Forbidden"), FailureKind.FATAL, "403"),
        (failed("unexpected status 400 Bad Request: something odd"), FailureKind.FATAL, "400"),
        (
            failed("Your input exceeds the context window of this model (context_length_exceeded)"),
            FailureKind.TRANSIENT,
            "context window",
        ),
        (
            facts(stderr="Not inside a trusted directory and --skip-git-repo-check was not specified.\n"),
            FailureKind.FATAL,
            "git init",
        ),
        (
            facts(exit_code=2, stderr="error: unexpected argument '--full-auto' found\n\nUsage: codex exec [OPTIONS]"),
            FailureKind.FATAL,
            "command line",
        ),
        (facts(exit_code=2, stderr="error: something new from clap"), FailureKind.FATAL, "command line"),
        (
            facts(stderr="Output schema file /x/bad.json is not valid JSON: key must be a string at line 1 column 2"),
            FailureKind.FATAL,
            "output schema",
        ),
        (
            facts(
                stderr='Error: Failed to open last message file "/nope/l.txt": No such file or directory (os error 2)'
            ),
            FailureKind.FATAL,
            "last-message file",
        ),
        (
            facts(stderr='Error: approval_policy = "untrusted" is no longer supported; remove this setting'),
            FailureKind.FATAL,
            "configuration",
        ),
        (facts(exit_code=0), FailureKind.TRANSIENT, "without completing"),
        (facts(exit_code=1, stderr="something nobody has seen before"), FailureKind.TRANSIENT, "exit 1"),
        (facts(exit_code=-9), FailureKind.TRANSIENT, "exit -9"),
    ],
)
def test_classify(call: CallFacts, kind: FailureKind, fragment: str) -> None:
    verdict = classify(call, NOW)
    assert verdict.kind is kind, verdict
    assert fragment in verdict.message
    assert "\n" not in verdict.message and len(verdict.message) <= 400


def test_usage_limit_carries_the_stated_reset_time() -> None:
    verdict = classify(failed(USAGE_MSG), NOW)
    assert verdict.retry_at == pytest.approx(at(15, 28))


def test_usage_limit_without_a_time_has_no_retry_at() -> None:
    verdict = classify(failed("exceeded retry limit, last status: 429 Too Many Requests"), NOW)
    assert verdict.kind is FailureKind.USAGE_LIMIT
    assert verdict.retry_at is None


def test_reset_time_is_read_from_messages_not_from_stderr_log_timestamps() -> None:
    call = facts(
        errors=("exceeded retry limit, last status: 429 Too Many Requests",),
        stderr="2026-11-20T19:00:00Z WARN codex_core: retrying\n",
    )
    assert classify(call, NOW).retry_at is None


def test_the_final_failure_outranks_earlier_reconnect_noise() -> None:
    call = facts(
        errors=("Reconnecting... 1/5 (stream disconnected: 500)", "unexpected status 401 Unauthorized"),
        failure_messages=("unexpected status 401 Unauthorized",),
    )
    assert classify(call, NOW).kind is FailureKind.FATAL


def test_context_overflow_asks_for_a_fresh_thread() -> None:
    verdict = classify(failed("context_length_exceeded: input too long"), NOW)
    assert verdict.thread_full


def test_primary_message_prefers_turn_failure_then_errors_then_stderr() -> None:
    assert primary_message(facts(errors=("a", "b"), failure_messages=("c",))) == "c"
    assert primary_message(facts(errors=("a", "b"))) == "b"
    noisy = (
        'WARNING: proceeding, even though we could not create PATH aliases: Refusing ... "/tmp"\n'
        "Error: thread/resume: thread/resume failed: no rollout found for thread id x (code -32600)\n"
        "\nStack backtrace:\n   0: <unknown>\n"
    )
    assert primary_message(facts(stderr=noisy)).startswith("Error: thread/resume")


@pytest.mark.parametrize(
    ("call", "missing"),
    [
        (facts(stderr="Error: thread/resume: thread/resume failed: no rollout found for thread id x"), True),
        (facts(stderr="Error: session 0199 not found"), True),
        (facts(exit_code=0, turn_completed=True, stderr="no rollout found"), False),
        (failed("unexpected status 500"), False),
    ],
)
def test_thread_missing(call: CallFacts, missing: bool) -> None:
    assert thread_missing(call) is missing
