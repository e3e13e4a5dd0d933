"""`history` / `logs`: the table, --json, --limit on a long journal, a torn last line, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codex_self_iter.cli import main
from tests.support.loop_harness import Agent, control, run_loop_in_process

PLAN = {"control": {"next_goal": "write hello.txt", "summary": "one step"}}
APPROVE = {"control": {"verdict": "approve", "reasons": ["fine"], "next_goal": ""}}


@pytest.fixture
def finished(git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace whose loop planned, worked twice, was reviewed and completed."""
    agent = Agent(tmp_path, monkeypatch).on("planner", [PLAN]).on("reviewer", [APPROVE])
    agent.on(
        "executor",
        [{"write": "hello.txt", "content": "hel"}, {"control": control("continue", "finish hello.txt")}],
        [{"write": "hello.txt", "content": "hello"}, {"control": control("complete", summary="done")}],
    )
    assert run_loop_in_process(git_repo, {"checks": ["git --version"]}).exit_code == 0
    return git_repo


def test_table_has_a_row_per_call_with_checks_and_the_stop(finished: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["history", "-w", str(finished)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["#", "time", "role", "outcome", "took", "files", "tokens", "cost", "checks"]
    body = "\n".join(lines[1:])
    assert "run started" in body and "baseline" in body
    assert "goal: write hello.txt" in body
    executor = [line for line in lines if " executor " in line]
    assert len(executor) == 2 and "continue" in executor[0] and "complete" in executor[1]
    assert executor[1].endswith("1/1 checks passed")
    assert " reviewer " in body and "approve" in body and "claim accepted" in body
    assert "complete (exit 0)" in lines[-1]


def test_logs_is_history_and_json_gives_raw_records(finished: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["logs", "-w", str(finished), "--json", "--limit", "3"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) == 3 and records[-1]["event"] == "stop" and records[-1]["exit_code"] == 0
    assert main(["history", "-w", str(finished), "--json", "--limit", "0"]) == 0
    every = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert every[0]["event"] == "start" and len(every) > 3


@pytest.mark.timeout(60)
def test_limit_reads_the_tail_of_a_long_journal(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    logs = git_repo / ".codex-self-iter" / "logs"
    logs.mkdir(parents=True)
    call = {"event": "agent_call", "role": "executor", "status": "continue", "duration_sec": 1.5, "tokens": 1200}
    with open(logs / "iterations.jsonl", "w") as handle:
        handle.write("garbage that is not json\n")
        for n in range(1, 100_001):
            handle.write(json.dumps({**call, "iteration": n, "ts": 1_800_000_000 + n}) + "\n")
        handle.write('{"event": "agent_call", "iteration": 100001, "ro')  # torn: a crash mid-line
    assert main(["history", "-w", str(git_repo), "-n", "5"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [row.split()[0] for row in rows] == ["99996", "99997", "99998", "99999", "100000"]
    assert "1,200" in rows[0]


def test_empty_history_and_follow_of_a_stopped_loop(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (git_repo / ".codex-self-iter").mkdir()
    assert main(["history", "-w", str(git_repo), "--follow"]) == 0
    captured = capsys.readouterr()
    assert "no iterations recorded yet" in captured.out and "not running" in captured.err


def test_no_state_and_bad_limit_are_one_line_exit_1(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "-w", str(git_repo)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no loop state here" in err[0]
    assert main(["logs", "-w", str(git_repo), "--limit", "-1"]) == 1
    assert "--limit -1" in capsys.readouterr().err


CAUSE = (
    "transient codex fail: stream disconnected before completion: error sending request for url "
    "(http://127.0.0.1:9/v1/responses); the model server closed the connection"
)


def long_journal(workspace: Path) -> None:
    logs = workspace / ".codex-self-iter" / "logs"
    logs.mkdir(parents=True)
    base = {"event": "agent_call", "duration_sec": 2.0, "ts": 1_800_000_000}
    records = [
        {**base, "iteration": 1, "role": "planner", "next_goal": "write hello.txt", "tokens": 900},
        {**base, "iteration": 1, "role": "executor", "repaired": True, "failure": "transient", "error": CAUSE},
        {**base, "iteration": 2, "role": "executor", "status": "continue", "tokens": 12345, "duration_sec": 75.0},
    ]
    (logs / "iterations.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))


def outcome_column(lines: list[str]) -> str:
    start = lines[0].index("outcome")
    width = lines[0].index("took") - start
    return " ".join(line[start : start + width].strip() for line in lines[1:] if len(line) > start)


def test_long_causes_wrap_in_full_and_long_roles_keep_the_columns_aligned(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    long_journal(git_repo)
    assert main(["history", "-w", str(git_repo)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "failed: transient: " + CAUSE in outcome_column(lines)  # the whole cause, wrapped under its column
    assert len(lines) > 4 and max(map(len, lines)) < 130
    took_end = lines[0].index("took") + len("took")
    tokens_end = lines[0].index("tokens") + len("tokens")
    for line, took, tokens in ((lines[1], "2s", "900"), (lines[-1], "1m15s", "12,345")):
        assert line[took_end - len(took) : took_end] == took, lines
        assert line[tokens_end - len(tokens) : tokens_end] == tokens, lines
    assert "executor (repaired)" in lines[2]
    assert lines[2][took_end - 2 : took_end] == "2s", lines


def test_wide_keeps_each_outcome_on_one_line(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    long_journal(git_repo)
    assert main(["history", "-w", str(git_repo), "--wide"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert "failed: transient: " + CAUSE in lines[2]


def test_history_wraps_as_a_subprocess(git_repo: Path) -> None:
    import subprocess
    import sys

    long_journal(git_repo)
    done = subprocess.run(
        [sys.executable, "-m", "codex_self_iter", "history", "-w", str(git_repo)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert "failed: transient: " + CAUSE in outcome_column(done.stdout.splitlines())
