"""Every command as a real `python -m codex_self_iter` subprocess, install-plugin, and the lock held by another loop."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from filelock import FileLock

from codex_self_iter.cli import COMMANDS, main
from tests.support.background_loop import cli
from tests.support.loop_harness import Agent, control, fake_template, private_file, run_loop_in_process

PLAN = {"control": {"next_goal": "write hello.txt", "summary": "one step"}}


def one_error_line(stderr: str, text: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("codex-self-iter: error: ") and text in lines[0], stderr


def test_help_lists_every_command_and_each_has_help() -> None:
    done = cli("--help")
    assert done.returncode == 0
    for command in COMMANDS:
        assert command in done.stdout
        assert cli(command, "--help").returncode == 0, command


def test_usage_errors_are_bad_input_exit_1_and_help_is_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--max-iterations", "many"]) == 1
    assert "invalid int value" in capsys.readouterr().err
    assert main(["history", "--no-such-flag"]) == 1
    assert main(["status", "--help"]) == 0
    assert cli("stop", "--wait", "soon").returncode == 1


def test_commands_on_a_finished_loop_as_subprocesses(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = Agent(tmp_path, monkeypatch).on("planner", [PLAN])
    agent.on("executor", [{"append": "x", "content": "{call}"}, {"control": control("continue", "step {call}")}])
    assert run_loop_in_process(git_repo, {"max_iterations": 2}).exit_code == 2
    ws = str(git_repo)
    status = cli("status", "-w", ws, "--json")
    assert status.returncode == 0 and json.loads(status.stdout)["stop_reason"] == "max_iterations"
    history = cli("history", "-w", ws)
    assert history.returncode == 0 and "max_iterations (exit 2)" in history.stdout
    preview = cli("run", "--dry-run", "-w", ws, "--agent-command-template", fake_template())
    assert preview.returncode == 0 and "next: iteration 3 · executor" in preview.stdout
    stop = cli("stop", "-w", ws)
    assert stop.returncode == 0 and (git_repo / ".codex-self-iter" / "STOP").exists()


@pytest.mark.parametrize("command", ["status", "stop", "history", "logs"])
def test_commands_without_state_fail_with_one_line_as_subprocesses(git_repo: Path, command: str) -> None:
    done = cli(command, "-w", str(git_repo))
    assert done.returncode == 1
    one_error_line(done.stderr, "no loop state here")


def test_detach_while_another_loop_holds_the_lock_exits_4(git_repo: Path) -> None:
    state = git_repo / ".codex-self-iter"
    state.mkdir()
    private_file(state, "lock-holder.json").write_text(json.dumps({"pid": os.getpid(), "started_at": time.time()}))
    with FileLock(str(private_file(state, "loop.lock")), timeout=0):
        done = cli("run", "--detach", "-w", str(git_repo), "--agent-command-template", "true {prompt_file}")
        assert done.returncode == 4
        one_error_line(done.stderr, f"another loop holds the lock (pid {os.getpid()}")
        assert cli("status", "-w", str(git_repo)).stdout.startswith(f"codex-self-iter: starting (pid {os.getpid()})")
    assert not (state / "logs").exists()


def test_detach_that_fails_at_once_reports_the_log_and_its_exit_code(git_repo: Path) -> None:
    config = git_repo.parent / "bad-checks.toml"
    config.write_text('checks = ["no-such-checker-xyz"]\n')
    done = cli(
        "run",
        "--detach",
        "-w",
        str(git_repo),
        "--config",
        str(config),
        "--agent-command-template",
        "true {prompt_file}",
    )
    assert done.returncode == 1
    assert "the detached loop ended at once (exit 1)" in done.stderr and "no-such-checker-xyz" in done.stderr
    assert "no-such-checker-xyz" in (git_repo / ".codex-self-iter" / "logs" / "loop.log").read_text()


def test_install_plugin_without_codex_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CODEX_BIN", str(tmp_path / "no-codex"))
    assert main(["install-plugin", "--codex-home", str(tmp_path / "home")]) == 1
    one_error_line(capsys.readouterr().err, "CODEX_BIN=")


@pytest.mark.codex
@pytest.mark.timeout(180)
def test_install_plugin_then_doctor_sees_it_then_uninstall(
    git_repo: Path, codex_bin: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CODEX_BIN", codex_bin)
    assert main(["install-plugin"]) == 0
    assert "Installed codex-self-iter" in capsys.readouterr().out
    assert main(["doctor", "-w", str(git_repo)]) == 0
    assert any(line.startswith("ok    plugin ") for line in capsys.readouterr().out.splitlines())
    assert main(["install-plugin", "--uninstall", "--codex-home", os.environ["CODEX_HOME"]]) == 0
    assert "Uninstalled codex-self-iter" in capsys.readouterr().out


def test_a_misspelled_command_gets_did_you_mean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stauts"]) == 1
    one_error_line(capsys.readouterr().err, "'stauts' is not a command; did you mean `codex-self-iter status`?")
    done = cli("histroy", "-w", ".")
    assert done.returncode == 1
    one_error_line(done.stderr, "did you mean `codex-self-iter history`?")
    assert main(["frobnicate"]) == 1
    one_error_line(capsys.readouterr().err, "commands: run, init, status")
