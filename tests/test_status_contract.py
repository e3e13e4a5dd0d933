"""status.json is one typed contract: what the real loop writes at every phase validates against StatusSnapshot,
and `status --json` reports the same facts in its documented shape (StatusReport)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from codex_self_iter.cli import main
from codex_self_iter.commands.status import StatusReport
from codex_self_iter.state.snapshot import Phase, StatusSnapshot
from tests.support.loop_harness import Agent, FakeTime, control, run_loop_in_process

PLAN = {"control": {"next_goal": "write hello.txt", "summary": "one step"}}
APPROVE = {"control": {"verdict": "approve", "reasons": ["fine"], "next_goal": ""}}
SNAPSHOT_KEYS = {f.alias or name for name, f in StatusSnapshot.model_fields.items()}


@dataclass
class SamplingTime(FakeTime):
    """The loop's clock; every time the loop reads it, it also keeps the status.json it finds (each distinct one)."""

    status_file: Path = Path()
    samples: list[dict[str, Any]] = field(default_factory=list)

    def clock(self) -> float:
        try:
            data = json.loads(self.status_file.read_text())
        except (OSError, ValueError):
            data = None
        if data is not None and (not self.samples or self.samples[-1] != data):
            self.samples.append(data)
        return self.now


def check_contract(data: dict[str, Any]) -> StatusSnapshot:
    """The written file has exactly the model's keys, validates, and says the same when written back."""
    assert set(data) == SNAPSHOT_KEYS
    snapshot = StatusSnapshot.model_validate(data)
    assert snapshot.to_json() == data
    return snapshot


def run_and_sample(workspace: Path, config: dict[str, Any]) -> tuple[int, list[StatusSnapshot]]:
    time = SamplingTime(status_file=workspace / ".codex-self-iter" / "status.json")
    run = run_loop_in_process(workspace, config, time)
    return run.exit_code, [check_contract(data) for data in [*time.samples, run.status]]


def status_json(workspace: Path, capsys: pytest.CaptureFixture[str]) -> StatusReport:
    capsys.readouterr()
    assert main(["status", "-w", str(workspace), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == set(StatusReport.model_fields)
    return StatusReport.model_validate(data)


def test_every_phase_of_a_successful_run_matches_the_model(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = Agent(tmp_path, monkeypatch).on("planner", [PLAN]).on("reviewer", [APPROVE])
    agent.on(
        "executor",
        [{"exit": 9}],  # one failed call: the loop backs off
        [{"write": "hello.txt", "content": "hello"}, {"control": control("complete", summary="ok")}],
    )
    code, snapshots = run_and_sample(git_repo, {"checks": ["git --version"], "backoff_jitter": 0})
    assert code == 0
    phases = [s.state for s in snapshots]
    for phase in (Phase.STARTING, Phase.RUNNING, Phase.BACKING_OFF, Phase.COMPLETE):
        assert phase in phases, phases
    calls = [s for s in snapshots if s.state is Phase.RUNNING and s.agent_pid is not None]
    assert {s.role for s in calls} >= {"planner", "executor", "reviewer"}
    assert all(s.call_started_at is not None and s.call_iteration for s in calls)
    backing_off = next(s for s in snapshots if s.state is Phase.BACKING_OFF)
    assert backing_off.backoff_reason == "agent failure" and backing_off.streaks.agent_failures == 1
    final = snapshots[-1]
    assert final.last_checks is not None and final.last_checks.all_passed
    assert final.last_review is not None and final.last_review.verdict == "approve"
    assert final.stop_reason == "complete" and final.exit_code == 0

    report = status_json(git_repo, capsys)
    assert report.state == final.state == "complete" and not report.running
    assert (report.iteration, report.goal, report.exit_code) == (final.iteration, final.goal, final.exit_code)
    assert (report.stop_reason, report.stop_detail) == (final.stop_reason, final.stop_detail)
    assert (report.tokens, report.agent_calls) == (final.totals.tokens, final.totals.agent_calls)
    assert report.agent_seconds == final.totals.agent_seconds
    assert report.last_checks is not None
    assert report.last_checks.model_dump() == final.last_checks.model_dump(exclude={"prompt_text"})
    assert report.started_at == final.started_at and report.updated_at == final.updated_at


def test_a_gate_stop_matches_the_model_and_status_json(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    Agent(tmp_path, monkeypatch).on("planner", [PLAN]).on("executor", [{"control": control("continue", "look {call}")}])
    code, snapshots = run_and_sample(git_repo, {"max_no_change": 2, "backoff_jitter": 0})
    assert code == 2
    final = snapshots[-1]
    assert final.state is Phase.STOPPED and final.stop_reason == "no_change" and final.streaks.no_change == 2
    assert final.stop_detail == "2 executor turns in a row changed nothing"
    report = status_json(git_repo, capsys)
    assert report.streaks == {"no_change": 2} and report.stop_detail == final.stop_detail
    assert report.summary == f"stopped: no_change (exit 2) at iteration {final.iteration} — {final.stop_detail}"


def test_a_partial_or_wrongly_typed_status_file_is_named_not_a_traceback(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = git_repo / ".codex-self-iter"
    state.mkdir()
    (state / "status.json").write_text(json.dumps({"state": "stopped", "iteration": "three"}))
    assert main(["status", "-w", str(git_repo)]) == 1
    err = capsys.readouterr().err
    assert "status.json: unreadable status (iteration:" in err and "Traceback" not in err
