"""A failing check is visible where it happens: the end of its output and its log's path, in the run and in status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codex_self_iter.cli import main
from tests.support.loop_harness import control, fake_template

PLAN = {"control": {"next_goal": "make the test pass", "summary": "one step"}}
CLAIM = {"control": control("complete", summary="all done")}
# 30 lines of noise, then the line that matters; stderr too.
FAILING = (
    f"{sys.executable} -c \"import sys; [print('noise line', n) for n in range(30)]; "
    "print('AssertionError: expected 3, got 2'); print('warning on stderr', file=sys.stderr); sys.exit(1)\""
)


def workspace_with_failing_check(git_repo: Path, tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    script = tmp_path / "agent-script.json"
    script.write_text(json.dumps({"planner": [[PLAN]], "executor": [[{"write": "a.txt", "content": "a"}, CLAIM]]}))
    config = tmp_path / "failing.toml"
    config.write_text(f"checks = [{json.dumps(FAILING)}]\nmax_iterations = 1\n")
    argv = ["run", "-w", str(git_repo), "--config", str(config), "--agent-command-template", fake_template()]
    return argv, {"FAKE_AGENT_SCRIPT": str(script)}


def assert_excerpt(text: str, state_dir: Path) -> None:
    assert f"{sys.executable} -c" in text and ": failed (exit 1); the end of its output:" in text
    assert "| AssertionError: expected 3, got 2" in text
    assert "| warning on stderr" in text
    assert "noise line 29" in text and "noise line 5\n" not in text  # the tail only, bounded
    log = state_dir / "runs" / "00001" / "checks" / "check-1-stdout.log"
    assert f"full log: {log} (also check-1-stderr.log)" in text
    assert "noise line 0\n" in log.read_text()  # the full output is in the log


def test_a_failing_checks_tail_and_log_in_the_run_and_in_status(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, env = workspace_with_failing_check(git_repo, tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main(argv) == 2
    state_dir = git_repo / ".codex-self-iter"
    assert_excerpt(capsys.readouterr().err, state_dir)
    assert main(["status", "-w", str(git_repo)]) == 0
    status = capsys.readouterr().out
    assert "last checks: 0/1 checks passed" in status
    assert_excerpt(status, state_dir)
    assert main(["status", "-w", str(git_repo), "--json"]) == 0
    check = json.loads(capsys.readouterr().out)["last_checks"]["checks"][0]
    assert check["excerpt"]["outcome"] == "failed (exit 1)"
    assert check["excerpt"]["tail"][-3:] == ["AssertionError: expected 3, got 2", "[stderr]", "warning on stderr"]
    assert len(check["excerpt"]["tail"]) == 12


def test_a_failing_checks_tail_in_the_run_as_a_subprocess(git_repo: Path, tmp_path: Path) -> None:
    argv, env = workspace_with_failing_check(git_repo, tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "codex_self_iter", *argv],
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2, done.stderr
    assert_excerpt(done.stderr, git_repo / ".codex-self-iter")
