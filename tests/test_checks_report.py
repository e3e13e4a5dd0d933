"""Check reports: one-line summaries, bounded prompt text, and output tails."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_self_iter.checks.report import CheckReport, CheckResult, CheckStatus, clean_output, combined_tail, read_tail

pytestmark = pytest.mark.timeout(30)


def result(name: str, status: CheckStatus, tail: str = "", error: str = "") -> CheckResult:
    exit_code = {CheckStatus.PASSED: 0, CheckStatus.FAILED: 1}.get(status)
    return CheckResult(name, [name], status, exit_code, 0.5, output_tail=tail, timeout_sec=60, error=error)


def test_summary_names_every_check_that_did_not_pass() -> None:
    report = CheckReport(
        [
            result("pytest", CheckStatus.FAILED),
            result("ruff", CheckStatus.PASSED),
            result("cargo test", CheckStatus.TIMED_OUT),
            result("tsc", CheckStatus.ERROR, error="command not found: 'tsc'"),
        ]
    )
    assert report.summary() == "1/4 checks passed (pytest failed, cargo test timed out, tsc could not run)"
    assert report.any_error and not report.all_passed and not report.cancelled
    assert CheckReport([result("ruff", CheckStatus.PASSED)]).summary() == "1/1 checks passed"


def test_prompt_summary_when_all_pass_is_short() -> None:
    report = CheckReport([result("pytest", CheckStatus.PASSED, "41 passed"), result("ruff", CheckStatus.PASSED)])
    assert report.summary_for_prompt(1000) == "Checks: 2/2 checks passed."


@pytest.mark.parametrize("max_chars", [0, 40, 300, 2000, 10_000])
def test_prompt_summary_is_bounded_and_keeps_the_end_of_each_tail(max_chars: int) -> None:
    big = "\n".join(f"line {i}" for i in range(5000)) + "\nFAILED test_x - boom"
    report = CheckReport(
        [
            result("pytest", CheckStatus.FAILED, big),
            result("ruff", CheckStatus.PASSED, "fine"),
            result("npm test", CheckStatus.FAILED, "``` sneaky fence\nnpm ERR! 2 failed"),
        ]
    )
    text = report.summary_for_prompt(max_chars)
    assert len(text) <= max_chars
    if max_chars >= 2000:
        assert "### pytest: failed (exit 1)" in text and "FAILED test_x - boom" in text
        assert "npm ERR! 2 failed" in text and "````\n``` sneaky fence" in text
        assert "fine" not in text


def test_combined_tail_labels_streams_and_respects_the_bound() -> None:
    assert combined_tail("out\n", "") == "out"
    assert combined_tail("", "err\n") == "err"
    assert combined_tail("out", "err") == "[stdout]\nout\n[stderr]\nerr"
    tail = combined_tail("o" * 10_000 + "END-OUT", "e" * 10_000 + "END-ERR", 1000)
    assert len(tail) <= 1000 and tail.startswith("[stdout]\n") and "END-OUT\n[stderr]\n" in tail
    assert tail.endswith("END-ERR")
    short_err = combined_tail("o" * 10_000, "tiny", 1000)
    assert len(short_err) == 1000 and short_err.endswith("\n[stderr]\ntiny")


def test_output_is_cleaned_of_colours_and_progress_redraws() -> None:
    assert clean_output("\x1b[31mFAILED\x1b[0m x\r\n10%\r50%\r100%\ndone") == "FAILED x\n100%\ndone"


def test_read_tail_is_bounded(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    log.write_bytes(b"a" * 5_000_000 + "tail é\n".encode())
    assert read_tail(log, 7) == "tail é\n"
    assert read_tail(tmp_path / "missing.log", 100) == ""
    assert read_tail(log, 0) == ""


def test_describe_and_round_trip() -> None:
    timed_out = result("slow", CheckStatus.TIMED_OUT)
    assert timed_out.describe() == "timed out after 60s (its process group was killed)" and timed_out.timed_out
    assert result("x", CheckStatus.FAILED).describe() == "failed (exit 1)"
    report = CheckReport([timed_out, result("x", CheckStatus.ERROR, error="nope")], digest="abc")
    assert CheckReport.from_dict(report.to_dict()).to_dict() == report.to_dict()
