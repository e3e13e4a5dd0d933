"""Quality gates through the real loop: success needs a claim, passing checks and the reviewer's approval."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from tests.support.loop_harness import Agent, control, run_loop_in_process

PLAN = {"control": {"next_goal": "make hello.txt say hello", "summary": "one step"}}
APPROVE = {"control": {"verdict": "approve", "reasons": ["looks right"], "next_goal": ""}}
PY = shlex.quote(sys.executable)
HELLO_CHECK = f"{PY} -c \"import sys; sys.exit(0 if open('hello.txt').read().strip() == 'hello' else 1)\""


@pytest.fixture
def agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Agent:
    return Agent(tmp_path, monkeypatch).on("planner", [PLAN]).on("reviewer", [APPROVE])


def claim(summary: str = "all done, tests pass") -> dict[str, object]:
    return {"control": control("complete", summary=summary, evidence=["pytest: 41 passed"])}


def test_liar_never_gets_exit_0(git_repo: Path, agent: Agent) -> None:
    agent.on("executor", [{"write": "hello.txt", "content": "goodbye"}, claim()])
    run = run_loop_in_process(git_repo, {"checks": [HELLO_CHECK], "max_false_completions": 3, "max_iterations": 20})
    assert run.exit_code == 2, run.output
    assert run.status["stop_reason"] == "false_completion"
    assert agent.calls("reviewer") == []  # failing checks reject the claim before any review is spent
    assert run.status["last_checks"]["all_passed"] is False
    claims = [e for e in run.journal() if e.get("event") == "decision" and e.get("kind") == "claim"]
    assert claims and not any(e["success"] for e in claims)
    second_prompt = agent.calls("executor")[1]["prompt"]
    assert "premature" in second_prompt and "hello.txt" in second_prompt


def test_liar_then_fix_gets_exit_0_after_the_fix(git_repo: Path, agent: Agent) -> None:
    agent.on(
        "executor",
        [{"write": "hello.txt", "content": "hell"}, claim()],
        [{"write": "hello.txt", "content": "hello"}, claim("fixed the typo")],
    )
    run = run_loop_in_process(git_repo, {"checks": [HELLO_CHECK], "max_iterations": 5})
    assert run.exit_code == 0, run.output
    assert run.status["iteration"] == 2
    assert run.status["last_checks"]["all_passed"] is True
    assert run.status["last_review"]["verdict"] == "approve"
    assert "checks: 1/1 checks passed" in run.output
    review_prompt = agent.calls("reviewer")[0]["prompt"]
    assert "deleted, skipped, emptied or weakened" in review_prompt
    assert "new untracked file: hello.txt\nhello" in review_prompt  # the changes since the baseline
    assert "all checks passed" not in review_prompt.split("## Baseline")[1].split("##")[0]


def test_already_green_and_unchanged_needs_explicit_confirmation(git_repo: Path, agent: Agent) -> None:
    (git_repo / "hello.txt").write_text("hello")
    agent.on("executor", [claim("it was already done")])
    run = run_loop_in_process(git_repo, {"checks": [HELLO_CHECK], "max_false_completions": 2, "max_iterations": 5})
    assert run.exit_code == 2
    assert run.status["stop_reason"] == "false_completion"
    assert run.status["baseline"]["checks_passed"] is True


def test_already_green_confirmed_by_reviewer_is_success(git_repo: Path, agent: Agent) -> None:
    (git_repo / "hello.txt").write_text("hello")
    agent.on("executor", [claim("it was already done")])
    confirm = {"verdict": "approve", "reasons": ["hello.txt already says hello"], "no_change_needed": True}
    agent.on("reviewer", [{"control": confirm}])
    run = run_loop_in_process(git_repo, {"checks": [HELLO_CHECK], "max_iterations": 5})
    assert run.exit_code == 0
    assert run.status["last_review"]["no_change_needed"] is True


def test_reviewer_rejection_sets_the_next_goal(git_repo: Path, agent: Agent) -> None:
    reject = {"verdict": "reject", "reasons": ["no newline"], "next_goal": "add a trailing newline to hello.txt"}
    agent.on("reviewer", [{"control": reject}], [APPROVE])
    agent.on(
        "executor",
        [{"write": "hello.txt", "content": "hello"}, claim()],
        [{"write": "hello.txt", "content": "hello\n"}, claim("newline added")],
    )
    run = run_loop_in_process(git_repo, {"checks": [HELLO_CHECK], "max_iterations": 5})
    assert run.exit_code == 0
    assert "add a trailing newline to hello.txt" in agent.calls("executor")[1]["prompt"]
    assert "no newline" in agent.calls("executor")[1]["prompt"]


def test_progress_between_claims_resets_the_false_claim_count(git_repo: Path, agent: Agent) -> None:
    agent.on("executor", [{"append": "notes.txt", "content": "{call}\n"}, claim()])
    run = run_loop_in_process(git_repo, {"checks": [HELLO_CHECK], "max_false_completions": 2, "max_iterations": 4})
    assert run.status["stop_reason"] == "max_iterations"  # each claim came with new work, so no false_completion
    assert run.runtime["streaks"]["false_completions"] == 1


def test_check_that_times_out_fails_the_claim(git_repo: Path, agent: Agent) -> None:
    agent.on("executor", [{"write": "hello.txt", "content": "hello"}, claim()])
    slow = f"{PY} -c \"import os, time; time.sleep(0 if not os.path.exists('hello.txt') else 30)\""
    run = run_loop_in_process(
        git_repo, {"checks": [slow], "check_timeout_sec": 1, "max_false_completions": 1, "max_iterations": 3}
    )
    assert run.exit_code == 2
    assert run.status["last_checks"]["checks"][0]["status"] == "timed_out"


def test_check_that_cannot_start_is_bad_input_not_the_agents_fault(
    git_repo: Path, agent: Agent, capsys: pytest.CaptureFixture[str]
) -> None:
    agent.on("executor", [claim()])
    with pytest.raises(Exception, match="cannot start"):
        run_loop_in_process(git_repo, {"checks": ["no-such-checker-xyz --all"]})
    assert agent.calls("executor") == []


def test_flaky_check_fails_once_then_passes(git_repo: Path, agent: Agent, tmp_path: Path) -> None:
    marker = tmp_path / "flaky-ran"
    flaky = (
        f'{PY} -c "import os, sys; m = {str(marker)!r}; '
        "first = not os.path.exists(m); open(m, 'a').write('x'); "
        'sys.exit(1 if first or os.path.getsize(m) == 2 else 0)"'
    )
    agent.on("executor", [{"append": "work.txt", "content": "{call}"}, claim()])
    run = run_loop_in_process(git_repo, {"checks": [flaky], "max_iterations": 5})
    assert run.exit_code == 0
    assert run.status["iteration"] == 2  # baseline ran it once (fail), claim 1 failed, claim 2 passed


def test_failing_output_reaches_the_next_executor_prompt_when_checking_every_iteration(
    git_repo: Path, agent: Agent
) -> None:
    check = f"{PY} -c \"import sys; print('ASSERTION-DETAIL-42'); sys.exit(1)\""
    agent.on("executor", [{"append": "w", "content": "{call}"}, {"control": control("continue", "step {call}")}])
    run = run_loop_in_process(git_repo, {"checks": [check], "checks_every_iteration": True, "max_iterations": 2})
    assert run.exit_code == 2
    assert "ASSERTION-DETAIL-42" in agent.calls("executor")[1]["prompt"]
    assert (run.state_dir / "runs" / "00001" / "checks" / "checks.json").exists()


def test_reviewer_off_success_needs_only_checks(git_repo: Path, agent: Agent) -> None:
    agent.on("executor", [{"write": "hello.txt", "content": "hello"}, claim()])
    run = run_loop_in_process(git_repo, {"checks": [HELLO_CHECK], "reviewer": False})
    assert run.exit_code == 0
    assert agent.calls("reviewer") == []


def test_promise_tag_is_only_a_claim(git_repo: Path, agent: Agent) -> None:
    agent.on(
        "executor",
        [{"write": "hello.txt", "content": "nope"}, {"say": "I am DONE here"}, {"say": "<promise>DONE</promise>"}],
    )
    run = run_loop_in_process(git_repo, {"checks": [HELLO_CHECK], "max_false_completions": 1})
    assert run.exit_code == 2
    assert run.status["stop_reason"] == "false_completion"


def test_promise_word_in_prose_is_not_a_claim(git_repo: Path, agent: Agent) -> None:
    agent.on(
        "executor",
        [
            {"write": "hello.txt", "content": "hello"},
            {"say": "DONE? <promise>DONE</promise> not yet"},
            {"control": control("continue", "double-check hello.txt {call}")},
        ],
    )
    run = run_loop_in_process(git_repo, {"checks": [HELLO_CHECK], "max_iterations": 2})
    assert run.exit_code == 2
    assert not [e for e in run.journal() if e.get("event") == "claim"]


def test_agent_editing_the_config_is_recorded_and_not_picked_up(git_repo: Path, agent: Agent, tmp_path: Path) -> None:
    config = git_repo.parent / "loop-config.toml"
    agent.on(
        "executor",
        [
            {"write": str(config), "content": "checks = []\nreviewer = false\n"},
            {"write": "hello.txt", "content": "x"},
            claim(),
        ],
    )
    run = run_loop_in_process(git_repo, {"checks": [HELLO_CHECK], "max_false_completions": 1, "max_iterations": 3})
    assert run.exit_code == 2  # still judged by the original check
    assert any(e.get("event") == "config_changed" and e["picked_up"] is False for e in run.journal())


def test_detected_checks_are_used_and_recorded(git_repo: Path, agent: Agent) -> None:
    (git_repo / "Makefile").write_text('test:\n\t@test "$$(cat hello.txt)" = hello\n')
    agent.on("executor", [{"write": "hello.txt", "content": "hello"}, claim()])
    run = run_loop_in_process(git_repo, {"checks": "detect", "max_iterations": 3})
    assert run.exit_code == 0, run.output
    assert run.status["checks"] == ["make test"]
    assert "Makefile" in run.status["checks_source"]
    assert run.status["baseline"]["checks_passed"] is False


def test_periodic_review_steers_without_a_claim(git_repo: Path, agent: Agent) -> None:
    steer = {"verdict": "reject", "reasons": ["wrong file"], "next_goal": "edit hello.txt, not notes.txt"}
    agent.on("reviewer", [{"control": steer}])
    agent.on(
        "executor",
        [{"append": "notes.txt", "content": "{call}"}, {"control": control("continue", "more notes {call}")}],
    )
    run = run_loop_in_process(git_repo, {"review_every": 2, "max_iterations": 3})
    assert run.exit_code == 2
    assert len(agent.calls("reviewer")) == 1
    assert "periodic review" in agent.calls("reviewer")[0]["prompt"]
    assert "edit hello.txt, not notes.txt" in agent.calls("executor")[2]["prompt"]
