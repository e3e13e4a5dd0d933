"""Hostile input and config values: one line and an exit code within a second, no user file deleted, no escapes."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import tomli_w

from codex_self_iter.cli import main
from tests.support.loop_harness import Agent, control, fake_template, run_loop_in_process

STATE = ".codex-self-iter"


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, float]:
    capsys.readouterr()
    started = time.monotonic()
    code = main(argv)
    took = time.monotonic() - started
    captured = capsys.readouterr()
    return code, captured.out + captured.err, took


def one_line_error(code: int, said: str, took: float) -> None:
    lines = [line for line in said.splitlines() if line.strip()]
    assert code == 1, said
    assert len(lines) == 1 and lines[0].startswith("codex-self-iter: error: "), said
    assert "Traceback" not in said
    assert took < 1.0, f"took {took:.2f}s"


def with_config(repo: Path, **keys: object) -> list[str]:
    config = repo.parent / "hostile.toml"
    config.write_text(tomli_w.dumps({"agent_command_template": fake_template(), "checks": [], **keys}))
    return ["--workspace", str(repo), "--config", str(config), "--max-iterations", "1", "--quiet"]


def fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


HOSTILE_RUNS: dict[str, Callable[[Path], list[str]]] = {
    "100,000-deep TOML array": lambda repo: [
        "--workspace",
        str(repo),
        "--config",
        str(_write(repo.parent / "deep.toml", "x = " + "[" * 100_000 + "]" * 100_000 + "\n")),
    ],
    "NUL byte in state_dir": lambda repo: with_config(repo, state_dir="state\0dir"),
    "FIFO as --config": lambda repo: ["--workspace", str(repo), "--config", str(fifo(repo.parent / "c.toml"))],
    "FIFO at runtime.json": lambda repo: [*with_config(repo), *_fifo_in(repo, "runtime.json")],
    "FIFO at iterations.jsonl": lambda repo: [*with_config(repo), *_fifo_in(repo, "logs/iterations.jsonl")],
    "max_iterations 2**63-1": lambda repo: [*with_config(repo), "--max-iterations", str(2**63 - 1)],
    "empty agent_command_template": lambda repo: with_config(repo, agent_command_template=""),
    "stop_file_name ../TASK.md": lambda repo: [*with_config(repo, stop_file_name="../TASK.md"), "--clear-stop"],
    "global_stop_file_name plan.md": lambda repo: [*with_config(repo, global_stop_file_name="plan.md"), "--clear-stop"],
    "state_dir .": lambda repo: with_config(repo, state_dir="."),
    "state_dir ..": lambda repo: with_config(repo, state_dir=".."),
    "state_dir full of user files": lambda repo: with_config(repo, state_dir=str(_user_dir(repo))),
    "command_timeout_sec 1e300": lambda repo: with_config(repo, command_timeout_sec=1e300),
}


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _fifo_in(repo: Path, name: str) -> list[str]:
    fifo(repo / STATE / name)
    return []


def _user_dir(repo: Path) -> Path:
    mine = repo.parent / "my-files"
    mine.mkdir(exist_ok=True)
    (mine / "notes.tmp").write_text("draft")
    (mine / "report.txt").write_text("report")
    return mine


@pytest.mark.parametrize("case", list(HOSTILE_RUNS), ids=list(HOSTILE_RUNS))
def test_hostile_input_gives_one_line_and_an_exit_code_within_a_second(
    git_repo: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    argv = HOSTILE_RUNS[case](git_repo)
    before = {p: p.read_bytes() for p in sorted(git_repo.parent.rglob("*")) if p.is_file() and ".git" not in p.parts}
    code, said, took = run_cli(argv, capsys)
    one_line_error(code, said, took)
    after = {p: p.read_bytes() for p in before if p.exists()}
    assert after == before  # no user file deleted or changed (TASK.md, plan.md, *.tmp, ...)


def test_fifos_in_the_state_dir_do_not_block_status_or_history(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo(git_repo / STATE / "status.json")
    code, said, took = run_cli(["status", "--workspace", str(git_repo)], capsys)
    one_line_error(code, said, took)
    os.unlink(git_repo / STATE / "status.json")
    fifo(git_repo / STATE / "logs" / "iterations.jsonl")
    code, said, took = run_cli(["history", "--workspace", str(git_repo)], capsys)
    one_line_error(code, said, took)


def test_an_edited_journal_and_runtime_do_not_crash_or_wait(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = Agent(tmp_path, monkeypatch).on("planner", [{"control": {"next_goal": "work", "summary": "plan"}}])
    agent.on("executor", [{"append": "w.txt", "content": "{call}"}, {"control": control("continue", "more {call}")}])
    assert run_loop_in_process(git_repo, {"max_iterations": 1}).exit_code == 2
    journal = git_repo / STATE / "logs" / "iterations.jsonl"
    with journal.open("a") as handle:
        handle.write(json.dumps({"event": "agent_call", "role": "executor", "iteration": 9, "duration_sec": "abc"}))
        handle.write("\n")
    code, said, took = run_cli(["history", "--workspace", str(git_repo)], capsys)
    assert code == 0 and "Traceback" not in said and took < 1.0, said

    runtime = git_repo / STATE / "runtime.json"
    saved = json.loads(runtime.read_text())
    runtime.write_text(json.dumps({**saved, "backoff_until": 1e12, "backoff_reason": "edited"}))
    capsys.readouterr()
    run = run_loop_in_process(git_repo, {"max_iterations": 1, "usage_limit_max_wait_sec": 60, "backoff_max_sec": 10})
    assert "resuming the previous run's backoff: 60s more (edited)" in capsys.readouterr().err
    assert run.exit_code == 2

    runtime.write_text(json.dumps({**json.loads(runtime.read_text()), "iteration": -5}))
    capsys.readouterr()
    run = run_loop_in_process(git_repo, {"max_iterations": 1})
    assert "unreadable state" in capsys.readouterr().err and run.runtime["iteration"] >= 0


ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x9b31m\r"


def test_escape_sequences_from_the_agent_arrive_escaped(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = Agent(tmp_path, monkeypatch).on(
        "planner", [{"control": {"next_goal": f"goal {ESCAPES} one", "summary": f"plan {ESCAPES}"}}]
    )
    agent.on(
        "executor",
        [{"append": "w.txt", "content": "{call}"}, {"control": control("blocked", f"next {ESCAPES}", summary=ESCAPES)}],
    )
    capsys.readouterr()
    run = run_loop_in_process(git_repo, {"max_iterations": 2, "max_blocked": 1})
    shown = run.output + capsys.readouterr().err
    for command in (["status"], ["history"]):
        code, said, _ = run_cli([*command, "--workspace", str(git_repo)], capsys)
        assert code == 0, said
        shown += said
    assert "\\x1b]0;pwned" in shown  # the agent's text is there, made visible
    assert not any(char in shown for char in "\x1b\x07\x9b\r")
