"""A reader that goes away (`| head -1`) ends every command quietly: its exit code, no BrokenPipeError traceback."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from codex_self_iter.cli import main
from tests.support.loop_harness import Agent, control, fake_template, run_loop_in_process

PLAN = {"control": {"next_goal": "write hello.txt", "summary": "one step"}}


@pytest.fixture
def finished(git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace whose loop ran two iterations, with a config that names the fake agent."""
    agent = Agent(tmp_path, monkeypatch).on("planner", [PLAN])
    agent.on("executor", [{"append": "x", "content": "{call}"}, {"control": control("continue", "step {call}")}])
    assert run_loop_in_process(git_repo, {"max_iterations": 2}).exit_code == 2
    (git_repo / "codex-self-iter.toml").write_text(f"agent_command_template = {json.dumps(fake_template())}\n")
    return git_repo


@contextlib.contextmanager
def closed_stdout() -> Iterator[io.TextIOWrapper]:
    """sys.stdout as the write end of a real pipe whose reader has already closed it (set in the test body:
    pytest's own capture replaces sys.stdout after fixtures run)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    saved, sys.stdout = sys.stdout, open(write_end, "w", encoding="utf-8")  # noqa: SIM115 - closed below
    try:
        yield sys.stdout
    finally:
        stream, sys.stdout = sys.stdout, saved
        stream.write("more")
        stream.flush()  # main pointed the descriptor at /dev/null: what is left goes nowhere, quietly
        stream.close()


COMMANDS = [
    ["status"],
    ["status", "--json"],
    ["history"],
    ["history", "--json", "--limit", "0"],
    ["logs"],
    ["doctor"],
    ["run", "--dry-run"],
    ["stop"],
    ["--help"],
    ["history", "--help"],
    ["--version"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_with_a_closed_stdout_exits_0_in_process(
    finished: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    monkeypatch.chdir(finished)
    with closed_stdout():
        assert main(command) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_init_with_a_closed_stdout_still_writes_its_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with closed_stdout():
        assert main(["init", "--goal", "say hello"]) == 0
    assert "say hello" in (tmp_path / "TASK.md").read_text()


def test_a_run_whose_summary_has_no_reader_keeps_its_exit_code(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = Agent(tmp_path, monkeypatch).on("planner", [PLAN])
    agent.on("executor", [{"append": "x", "content": "{call}"}, {"control": control("continue", "step {call}")}])
    config = tmp_path / "pipe.toml"
    config.write_text("checks = []\nmax_iterations = 1\nquiet = true\n")
    argv = ["run", "-w", str(git_repo), "--config", str(config), "--agent-command-template", fake_template()]
    with closed_stdout():
        assert main(argv) == 2
    assert json.loads((git_repo / ".codex-self-iter" / "status.json").read_text())["stop_reason"] == "max_iterations"


def _head_1(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run argv as `… | head -1` would: read one line, close the pipe, let the process finish."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "codex_self_iter", *argv],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline().decode()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    return proc.wait(timeout=60), first, err


@pytest.mark.parametrize("command", [["history", "--limit", "0"], ["history", "--json", "--limit", "0"]], ids=" ".join)
def test_history_of_a_long_journal_piped_to_head_as_a_subprocess(git_repo: Path, command: list[str]) -> None:
    logs = git_repo / ".codex-self-iter" / "logs"
    logs.mkdir(parents=True)
    call = {"event": "agent_call", "role": "executor", "status": "continue", "duration_sec": 1.5, "tokens": 1200}
    lines = (json.dumps({**call, "iteration": n, "ts": 1_800_000_000 + n}) for n in range(1, 5001))
    (logs / "iterations.jsonl").write_text("\n".join(lines) + "\n")  # far more than a pipe buffer holds
    code, first, err = _head_1(command, git_repo)
    assert (code, err) == (0, "")
    assert first.strip()


def test_dry_run_piped_to_head_as_a_subprocess(finished: Path) -> None:
    (finished / "plan.md").write_text("# Plan\n" + "- [ ] a long step of the plan\n" * 4000)
    code, first, err = _head_1(["run", "--dry-run"], finished)
    assert (code, err) == (0, "")
    assert first.startswith("codex-self-iter: dry run")


def test_a_loop_whose_progress_has_no_reader_runs_on_as_a_subprocess(git_repo: Path, tmp_path: Path) -> None:
    """`run 2>&1 | head -1`: progress goes to a closed pipe; the loop still runs to its stop and saves its state."""
    script = tmp_path / "agent-script.json"
    script.write_text(
        json.dumps(
            {
                "planner": [[PLAN]],
                "executor": [[{"append": "x", "content": "{call}"}, {"control": control("continue", "step {call}")}]],
            }
        )
    )
    config = tmp_path / "pipe.toml"
    config.write_text("checks = []\nmax_iterations = 3\n")
    argv = ["run", "-w", str(git_repo), "--config", str(config), "--agent-command-template", fake_template()]
    proc = subprocess.Popen(
        [sys.executable, "-m", "codex_self_iter", *argv],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "FAKE_AGENT_SCRIPT": str(script)},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith(b"codex-self-iter: ")
    proc.stdout.close()
    assert proc.wait(timeout=60) == 2
    status = json.loads((git_repo / ".codex-self-iter" / "status.json").read_text())
    assert (status["stop_reason"], status["iteration"]) == ("max_iterations", 3)
