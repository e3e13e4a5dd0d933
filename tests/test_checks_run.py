"""Running checks for real: pass, fail, timeout (whole group killed), missing commands, huge output, shell opt-in."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import sys
import time
from pathlib import Path

import pytest

from codex_self_iter.checks.run import CheckSpec, CheckStatus, checks_digest, load_report, parse_check, run_checks
from codex_self_iter.errors import UserError

PY = sys.executable


def py(code: str, timeout: float | None = 30) -> CheckSpec:
    """A check running a Python snippet with this test run's interpreter."""
    return parse_check(shlex.join([PY, "-c", code]), timeout=timeout, name="snippet")


def pid_alive(pid: int) -> bool:
    """True while pid exists and is not a zombie waiting for a reaper that is not us."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


@pytest.mark.timeout(60)
def test_passing_and_failing_checks(tmp_path: Path) -> None:
    specs = [
        py("print('all good')"),
        py("import sys; print('3 passed, 1 failed'); print('AssertionError: boom', file=sys.stderr); sys.exit(3)"),
    ]
    report = run_checks(specs, tmp_path, tmp_path / "out")
    ok, bad = report.results
    assert ok.status == "passed" and ok.passed and ok.exit_code == 0 and "all good" in ok.output_tail
    assert bad.status == "failed" and not bad.passed and bad.exit_code == 3 and not bad.timed_out
    assert "3 passed, 1 failed" in bad.output_tail and "AssertionError: boom" in bad.output_tail
    assert not report.all_passed and not report.any_error
    assert report.summary() == "1/2 checks passed (snippet failed)"
    assert (tmp_path / "out" / "check-2-stderr.log").read_text().strip() == "AssertionError: boom"


@pytest.mark.timeout(60)
def test_checks_run_in_the_workspace_with_stdin_closed(tmp_path: Path) -> None:
    (tmp_path / "marker.txt").write_text("here")
    spec = py("import sys; print(open('marker.txt').read(), repr(sys.stdin.read()))")
    (result,) = run_checks([spec], tmp_path, tmp_path / "out").results
    assert result.passed and "here ''" in result.output_tail


@pytest.mark.timeout(60)
def test_timeout_kills_the_check_and_its_children(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    script = tmp_path / "spawn.py"
    script.write_text(
        "import pathlib, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "pathlib.Path(sys.argv[1]).write_text(str(child.pid))\n"
        "print('spawned', flush=True)\n"
        "time.sleep(60)\n"
    )
    spec = parse_check(shlex.join([PY, str(script), str(pid_file)]), timeout=2, name="slow")
    started = time.monotonic()
    report = run_checks([spec], tmp_path, tmp_path / "out")
    child = int(pid_file.read_text())
    try:
        (result,) = report.results
        assert result.status == "timed_out" and result.timed_out and not result.passed
        assert time.monotonic() - started < 20
        assert "spawned" in result.output_tail
        assert "timed out after 2s" in result.describe()
        deadline = time.monotonic() + 5
        while pid_alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not pid_alive(child), "the check's child outlived the timeout"
        assert report.summary() == "0/1 checks passed (slow timed out)"
    finally:
        if pid_alive(child):
            os.kill(child, signal.SIGKILL)


def test_a_missing_command_is_an_error_not_a_failure(tmp_path: Path) -> None:
    spec = parse_check("surely-no-such-command-xyz --flag", name="lint")
    report = run_checks([spec], tmp_path, tmp_path / "out")
    (result,) = report.results
    assert result.status == "error" and result.exit_code is None and not result.passed
    assert "command not found" in result.error and "surely-no-such-command-xyz" in result.error
    assert report.any_error and not report.all_passed
    assert report.summary() == "0/1 checks passed (lint could not run)"


def test_missing_or_non_executable_scripts_are_errors(tmp_path: Path) -> None:
    (tmp_path / "run-tests.sh").write_text("#!/bin/sh\nexit 0\n")
    specs = [parse_check("./missing.sh"), parse_check("./run-tests.sh")]
    missing, not_executable = run_checks(specs, tmp_path, tmp_path / "out").results
    assert missing.status == "error" and "does not exist" in missing.error
    assert not_executable.status == "error" and "not executable" in not_executable.error


def test_a_relative_script_runs_from_the_workspace(tmp_path: Path) -> None:
    script = tmp_path / "bin" / "check.sh"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\necho from-script\n")
    script.chmod(0o755)
    (result,) = run_checks([parse_check("bin/check.sh")], tmp_path, tmp_path / "out").results
    assert result.passed and result.output_tail == "from-script"


def test_python_without_the_module_is_an_error(tmp_path: Path) -> None:
    spec = parse_check(shlex.join([PY, "-m", "no_such_module_xyz", "-q"]))
    (result,) = run_checks([spec], tmp_path, tmp_path / "out").results
    assert result.status == "error" and "no module 'no_such_module_xyz'" in result.error


@pytest.mark.timeout(90)
def test_huge_output_is_bounded_on_disk_and_in_the_tail(tmp_path: Path) -> None:
    limit = 1024 * 1024
    spec = py("import sys\nline = 'x' * 999 + '\\n'\nfor _ in range(20_000): sys.stdout.write(line)\nprint('THE END')")
    report = run_checks([spec], tmp_path, tmp_path / "out", max_output_bytes=limit)
    (result,) = report.results
    assert result.passed
    stdout_log = tmp_path / "out" / "check-1-stdout.log"
    assert stdout_log.stat().st_size <= limit + 100
    assert "bytes omitted" in stdout_log.read_text()
    assert result.output_tail.endswith("THE END") and len(result.output_tail) <= 4000
    assert (tmp_path / "out" / "checks.json").stat().st_size < 20_000


def test_shell_is_opt_in(tmp_path: Path) -> None:
    command = "echo one && echo two"
    shell = parse_check(command, shell=True)
    plain = parse_check(command)
    assert shell.argv == ["/bin/sh", "-c", command] and shell.shell and shell.command == command
    assert plain.argv == ["echo", "one", "&&", "echo", "two"] and not plain.shell
    with_shell, without = run_checks([shell, plain], tmp_path, tmp_path / "out").results
    assert with_shell.passed and with_shell.output_tail == "one\ntwo"
    assert without.passed and without.output_tail == "one && echo two"


def test_shell_command_not_found_is_an_error(tmp_path: Path) -> None:
    spec = parse_check("surely-no-such-command-xyz", shell=True, name="sh check")
    (result,) = run_checks([spec], tmp_path, tmp_path / "out").results
    assert result.status == "error" and "exited 127" in result.error
    assert "surely-no-such-command-xyz" in result.output_tail


def test_parse_errors_are_one_clear_line() -> None:
    with pytest.raises(UserError) as caught:
        parse_check('pytest -k "unterminated', name="unit tests")
    message = str(caught.value)
    assert "\n" not in message and "'unit tests'" in message and "quotation" in message and "shell = true" in message
    with pytest.raises(UserError, match="empty"):
        parse_check("   ")
    with pytest.raises(UserError, match="timeout must be a positive"):
        parse_check("true", timeout=0)


def test_parse_defaults() -> None:
    spec = parse_check("ruff   check   .", timeout=5)
    assert (spec.name, spec.argv, spec.shell, spec.source, spec.timeout_sec) == (
        "ruff check .",
        ["ruff", "check", "."],
        False,
        "config",
        5.0,
    )
    assert parse_check("pytest 'a b'").argv == ["pytest", "a b"]


def test_checks_json_is_written_and_reads_back(tmp_path: Path) -> None:
    specs = [py("print('ok')"), parse_check("surely-no-such-command-xyz")]
    report = run_checks(specs, tmp_path, tmp_path / "out")
    data = json.loads((tmp_path / "out" / "checks.json").read_text())
    assert data["summary"] == report.summary() and data["digest"] == checks_digest(specs)
    assert [r["status"] for r in data["results"]] == ["passed", "error"]
    assert data["all_passed"] is False and data["any_error"] is True
    assert data["results"][0]["stdout_path"].endswith("check-1-stdout.log")
    loaded = load_report(tmp_path / "out" / "checks.json")
    assert loaded is not None and loaded.to_dict() == report.to_dict()
    assert load_report(tmp_path / "missing.json") is None
    (tmp_path / "torn.json").write_text('{"results": [')
    assert load_report(tmp_path / "torn.json") is None


def test_no_checks_is_vacuously_passing(tmp_path: Path) -> None:
    report = run_checks([], tmp_path, tmp_path / "out")
    assert report.all_passed and report.summary() == "no checks configured"
    assert json.loads((tmp_path / "out" / "checks.json").read_text())["results"] == []


@pytest.mark.timeout(60)
def test_cancel_stops_the_running_check_and_skips_the_rest(tmp_path: Path) -> None:
    deadline = time.monotonic() + 1.0
    specs = [py("import time; time.sleep(30)"), py("print('never')")]
    started = time.monotonic()
    report = run_checks(specs, tmp_path, tmp_path / "out", cancel=lambda: time.monotonic() > deadline)
    assert time.monotonic() - started < 15
    assert [r.status for r in report.results] == [CheckStatus.CANCELLED, CheckStatus.CANCELLED]
    assert report.cancelled and not report.all_passed
    assert not (tmp_path / "out" / "check-2-stdout.log").exists()


def test_callbacks_see_each_check_and_process(tmp_path: Path) -> None:
    seen: list[str] = []
    pids: list[int] = []
    specs = [py("pass"), parse_check("surely-no-such-command-xyz")]
    run_checks(
        specs,
        tmp_path,
        tmp_path / "out",
        on_check=lambda i, spec: seen.append(f"{i}:{spec.name}"),
        on_process_start=lambda handle: pids.append(handle.pgid),
    )
    assert seen == ["1:snippet", "2:surely-no-such-command-xyz"]
    assert len(pids) == 1


def test_digest_tracks_argv_only() -> None:
    a = [parse_check("pytest -q"), parse_check("npm test")]
    assert checks_digest(a) == checks_digest([parse_check("pytest  -q", timeout=5, name="x"), parse_check("npm test")])
    assert checks_digest(a) != checks_digest(list(reversed(a)))
    assert checks_digest(a) != checks_digest([parse_check("pytest -q -x"), parse_check("npm test")])
    assert checks_digest([parse_check("a b", shell=True)]) != checks_digest([parse_check("a b")])
    assert len(checks_digest([])) == 64
