"""Live progress (call lines, heartbeats, a live TTY line), --quiet, and the final summary."""

from __future__ import annotations

import io
import re
import sys
import time
from pathlib import Path

import pytest

from codex_self_iter.loop.reporter import Live, Reporter
from tests.support.loop_harness import Agent, control, run_loop_in_process

PLAN = {"control": {"next_goal": "write hello.txt", "summary": "one step"}}
SLOW = [{"sleep": 2.5}, {"append": "x", "content": "{call}"}, {"control": control("continue", "step {call}")}]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Agent:
    return Agent(tmp_path, monkeypatch).on("planner", [PLAN])


def test_a_slow_agent_gets_plain_heartbeat_lines_off_a_tty(
    git_repo: Path, agent: Agent, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    progress = tmp_path / "progress.log"  # the loop's stderr, a plain file (not a TTY) the agent can read
    beat = "codex-self-iter: #1 executor running "
    # The executor works until the loop has printed two heartbeats, however slow a loaded machine makes either side.
    wait = {"wait_for": {"path": str(progress), "text": beat, "count": 2, "timeout": 90}}
    agent.on("executor", [wait, {"append": "x", "content": "{call}"}, {"control": control("continue", "step {call}")}])
    with progress.open("w", encoding="utf-8") as stream:
        monkeypatch.setattr(sys, "stderr", stream)
        started = time.monotonic()
        run = run_loop_in_process(git_repo, {"max_iterations": 1, "heartbeat_sec": 0.5})
        took = time.monotonic() - started
    assert run.exit_code == 2, progress.read_text()
    err = progress.read_text().splitlines()
    assert "codex-self-iter: #1 executor started: write hello.txt" in err
    beats = [line for line in err if line.startswith(beat)]
    assert len(beats) >= 2, err
    assert "\r" not in "".join(err)
    finished = [
        (i, m) for i, line in enumerate(err) if (m := re.search(r"#1 executor finished in (\d+)s: exit 0", line))
    ]
    assert len(finished) == 1, err
    index, match = finished[0]
    assert max(err.index(line) for line in beats) < index  # every beat while the agent ran, none after
    assert 1 <= int(match[1]) <= took  # two beats 0.5 s apart: at least a second; never more than the whole run


def test_quiet_prints_only_the_stop_line_and_totals(
    git_repo: Path, agent: Agent, capsys: pytest.CaptureFixture[str]
) -> None:
    agent.on("executor", SLOW)
    run = run_loop_in_process(git_repo, {"max_iterations": 1, "heartbeat_sec": 0.5, "checks": ["true"]}, quiet=True)
    assert run.exit_code == 2
    assert capsys.readouterr().err == ""
    lines = run.output.splitlines()
    assert len(lines) == 2 and lines[0].startswith("codex-self-iter: stopped: max_iterations (exit 2)")


def test_summary_names_reason_totals_goals_artifacts_and_the_next_step(
    git_repo: Path, agent: Agent, capsys: pytest.CaptureFixture[str]
) -> None:
    agent.on(
        "executor",
        [{"append": "x", "content": "{call}"}, {"touch": ".codex-stop"}, {"control": control("continue", "more")}],
    )
    run = run_loop_in_process(git_repo, {"max_iterations": 5})
    assert run.exit_code == 5
    text = run.output
    assert text.startswith("codex-self-iter: stopped: stop_file (exit 5) — ")
    assert "iterations: 1 · agent calls: 2 · agent time: " in text and "run time: " in text and "tokens: 0" in text
    assert "  goal: write hello.txt" in text
    assert f"  artifacts: {run.state_dir} (status.json, logs/iterations.jsonl, runs/, prompts/)" in text
    assert "  next: remove the STOP file" in text


def test_a_tty_gets_one_live_line_that_is_cleared_before_the_next_message() -> None:
    screen = Terminal()
    reporter = Reporter(stream=screen)
    reporter.call_started(3, "executor", "a goal")
    reporter.heartbeat(Live(3, "executor", 75, 30, (2, 7), 4, 12345, 0.4234))
    reporter.call_finished(3, "executor", "exit 0", 80)
    out = screen.getvalue()
    line = "#3 executor running 1m15s · iteration 3/30 · plan 2/7 steps · 4 files changed · 12,345 tokens · $0.42"
    assert "\r\x1b[2K" + line in out
    assert out.endswith("\r\x1b[2Kcodex-self-iter: #3 executor finished in 1m20s: exit 0\n")
