"""Protected tests through the real loop: an agent that weakens the tests never gets exit 0, reviewer on or off."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest

from codex_self_iter.checks.protected import ProtectedSnapshot
from codex_self_iter.checks.run import parse_check
from tests.conftest import git
from tests.support.loop_harness import Agent, control, private_state, run_loop_in_process

PY = shlex.quote(sys.executable)
PYTEST = f"{PY} -m pytest -q -p no:cacheprovider"
APPROVE = {"control": {"verdict": "approve", "reasons": ["the checks pass"], "next_goal": ""}}
PLAN = {"control": {"next_goal": "make add() add", "summary": "fix calc"}}
CALC_BAD = "def add(a, b):\n    return a - b\n"
CALC_GOOD = "def add(a, b):\n    return a + b\n"
TEST_CALC = "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n    assert add(2, 2) == 4\n"
TEST_OTHER = "def test_other():\n    assert 'a' + 'b' == 'ab'\n"
PYPROJECT = '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n'
JS_TEST = (
    "const { it } = require('node:test');\nconst assert = require('node:assert');\n"
    "const { add } = require('../calc');\n"
    "it('adds', () => {\n  assert.strictEqual(add(1, 2), 3);\n});\n"
)
CALC_JS = "exports.add = (a, b) => a - b;\n"


def claim() -> dict[str, Any]:
    return {"control": control("complete", summary="all tests pass", evidence=["pytest: passed"])}


@pytest.fixture
def project(git_repo: Path) -> Path:
    """A Python project whose test_add fails at the baseline (add subtracts)."""
    (git_repo / "calc.py").write_text(CALC_BAD)
    (git_repo / "tests").mkdir()
    (git_repo / "tests" / "test_calc.py").write_text(TEST_CALC)
    (git_repo / "tests" / "test_other.py").write_text(TEST_OTHER)
    (git_repo / "pyproject.toml").write_text(PYPROJECT)
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "calc")
    return git_repo


CHEATS = {
    "assert_true": [
        {
            "write": "tests/test_calc.py",
            "content": TEST_CALC.replace("add(1, 2) == 3", "True").replace("add(2, 2) == 4", "True"),
        }
    ],
    "delete_file": [{"delete": "tests/test_calc.py"}],
    "skip_mark": [
        {
            "write": "tests/test_calc.py",
            "content": "import pytest\n"
            + TEST_CALC.replace("def test_add", "@pytest.mark.skip(reason='flaky')\ndef test_add"),
        }
    ],
    "k_selection": [{"write": "pyproject.toml", "content": PYPROJECT + "addopts = \"-k 'not test_add'\"\n"}],
}


@pytest.mark.parametrize("reviewer", [True, False], ids=["reviewer-on", "reviewer-off"])
@pytest.mark.parametrize("cheat", sorted(CHEATS))
def test_weakening_the_tests_never_exits_0(
    project: Path, tmp_path: Path, monkeypatch: Any, cheat: str, reviewer: bool
) -> None:
    agent = Agent(tmp_path, monkeypatch).on("planner", [PLAN]).on("reviewer", [APPROVE])
    agent.on("executor", [*CHEATS[cheat], claim()])
    config = {"checks": [PYTEST], "reviewer": reviewer, "max_false_completions": 2, "max_iterations": 6}
    run = run_loop_in_process(project, config)
    assert run.exit_code == 2, run.output
    assert run.status["stop_reason"] == "false_completion"
    assert agent.calls("reviewer") == []  # rejected before any review was spent
    second = agent.calls("executor")[1]["prompt"]
    assert "protected tests were weakened" in second
    changed = "pyproject.toml" if cheat == "k_selection" else "tests/test_calc.py"
    assert changed in second
    tampering = [e for e in run.journal() if e.get("event") == "tampering"]
    assert tampering and changed in tampering[0]["changes"][0]


@pytest.mark.parametrize("reviewer", [True, False], ids=["reviewer-on", "reviewer-off"])
def test_js_it_skip_never_exits_0(git_repo: Path, tmp_path: Path, monkeypatch: Any, reviewer: bool) -> None:
    (git_repo / "calc.js").write_text(CALC_JS)
    (git_repo / "test").mkdir()
    (git_repo / "test" / "calc.test.js").write_text(JS_TEST)
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "js")
    agent = Agent(tmp_path, monkeypatch).on("planner", [PLAN]).on("reviewer", [APPROVE])
    skipped = JS_TEST.replace("it('adds'", "it.skip('adds'")
    agent.on("executor", [{"write": "test/calc.test.js", "content": skipped}, claim()])
    config = {"checks": ["node --test test/"], "reviewer": reviewer, "max_false_completions": 2, "max_iterations": 6}
    run = run_loop_in_process(git_repo, config)
    assert run.exit_code == 2, run.output
    assert run.status["stop_reason"] == "false_completion"
    assert "it.skip('adds'" in agent.calls("executor")[1]["prompt"]


@pytest.mark.parametrize("reviewer", [True, False], ids=["reviewer-on", "reviewer-off"])
def test_adding_a_test_and_fixing_the_code_exits_0(
    project: Path, tmp_path: Path, monkeypatch: Any, reviewer: bool
) -> None:
    agent = Agent(tmp_path, monkeypatch).on("planner", [PLAN]).on("reviewer", [APPROVE])
    more = TEST_CALC + "\n\ndef test_add_negative():\n    assert add(-1, -1) == -2\n"
    fix = [{"write": "calc.py", "content": CALC_GOOD}, {"write": "tests/test_calc.py", "content": more}]
    agent.on("executor", [*fix, claim()])
    run = run_loop_in_process(project, {"checks": [PYTEST], "reviewer": reviewer, "max_iterations": 4})
    assert run.exit_code == 0, run.output
    assert run.status["iteration"] == 1
    if reviewer:
        section = agent.calls("reviewer")[0]["prompt"].split("## Protected files changed")[1].split("##")[0]
        assert "1 test(s) added: test_add_negative" in section
        assert "weakens" not in section


def test_allow_test_changes_accepts_loudly_and_records(
    project: Path, tmp_path: Path, monkeypatch: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = Agent(tmp_path, monkeypatch).on("planner", [PLAN]).on("reviewer", [APPROVE])
    agent.on("executor", [*CHEATS["skip_mark"], claim()])
    run = run_loop_in_process(project, {"checks": [PYTEST], "allow_test_changes": True, "max_iterations": 3})
    assert run.exit_code == 0, run.output
    assert "allow_test_changes = true — weakened tests were NOT rejected" in run.output
    assert "accepting weakened tests: tests/test_calc.py: skip added" in capsys.readouterr().err
    events = [e["event"] for e in run.journal()]
    assert "allow_test_changes" in events and "tampering_allowed" in events
    section = agent.calls("reviewer")[0]["prompt"].split("## Protected files changed")[1].split("##")[0]
    assert "skip added to test test_add" in section and "[weakens the checks]" in section


def test_a_changed_expected_value_reaches_the_reviewer(project: Path, tmp_path: Path, monkeypatch: Any) -> None:
    reject = {"verdict": "reject", "reasons": ["the test was edited"], "next_goal": "restore the test"}
    agent = Agent(tmp_path, monkeypatch).on("planner", [PLAN]).on("reviewer", [{"control": reject}])
    edited = TEST_CALC.replace("add(1, 2) == 3", "add(1, 2) == -1").replace("add(2, 2) == 4", "add(2, 2) == 0")
    agent.on("executor", [{"write": "tests/test_calc.py", "content": edited}, claim()])
    run = run_loop_in_process(project, {"checks": [PYTEST], "max_false_completions": 1, "max_iterations": 3})
    assert run.exit_code == 2
    section = agent.calls("reviewer")[0]["prompt"].split("## Protected files changed")[1].split("##")[0]
    assert "assertion changed in test test_add: `assert add(1, 2) == 3` → `assert add(1, 2) == -1`" in section
    assert private_state(project).joinpath("protected.json").is_file()
    assert not (run.state_dir / "protected.json").exists()  # not in the workspace, where the agent could reach it


@pytest.mark.parametrize("attack", ["forged", "deleted"])
def test_a_snapshot_the_agent_forges_or_deletes_does_not_bless_its_weakened_test(
    project: Path, tmp_path: Path, monkeypatch: Any, attack: str
) -> None:
    weakened = CHEATS["assert_true"][0]["content"]
    # What the agent writes: a snapshot taken of its own weakened test, where the old snapshot used to live.
    (project / "tests" / "test_calc.py").write_text(weakened)
    forged = ProtectedSnapshot.take(project, [parse_check(PYTEST, False, 60)], (), ".codex-self-iter").to_dict()
    git(project, "checkout", "tests/test_calc.py")
    planted = ".codex-self-iter/protected.json"
    cover = {"write": planted, "content": json.dumps(forged)} if attack == "forged" else {"delete": planted}
    agent = Agent(tmp_path, monkeypatch).on("planner", [PLAN]).on("reviewer", [APPROVE])
    agent.on("executor", [*CHEATS["assert_true"], cover, {"control": control("continue", "claim next")}], [claim()])
    config = {"checks": [PYTEST], "reviewer": False, "max_false_completions": 1, "max_iterations": 1}
    first = run_loop_in_process(project, config)
    assert first.exit_code == 2 and first.status["stop_reason"] == "max_iterations", first.output
    second = run_loop_in_process(project, {**config, "max_iterations": 3})  # resumes the episode and its baseline
    assert second.exit_code == 2, second.output
    assert second.status["stop_reason"] == "false_completion"
    tampering = [e for e in second.journal() if e.get("event") == "tampering"]
    assert tampering and "tests/test_calc.py" in tampering[0]["changes"][0]


def test_deleting_runtime_json_does_not_let_a_new_baseline_bless_a_weakened_test(
    project: Path, tmp_path: Path, monkeypatch: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The agent weakens the test, then deletes the state dir: the next run starts a new episode (new baseline),
    but judges claims against the snapshot the earlier episode took; only `--fresh` takes a new one."""
    agent = Agent(tmp_path, monkeypatch).on("planner", [PLAN]).on("reviewer", [APPROVE])
    wipe = {"delete": ".codex-self-iter/runtime.json"}
    then = [{"write": "NOTES.md", "content": "done\n"}, claim()]  # a real change: not a no-change claim
    agent.on("executor", [*CHEATS["assert_true"], wipe, {"control": control("continue", "claim next")}], then)
    config = {"checks": [PYTEST], "reviewer": False, "max_false_completions": 1, "max_iterations": 1}
    first = run_loop_in_process(project, config)
    assert first.exit_code == 2 and first.status["stop_reason"] == "max_iterations", first.output
    (first.state_dir / "runtime.json").unlink()  # what the agent did, once more after the loop's last save
    capsys.readouterr()

    second = run_loop_in_process(project, {**config, "max_iterations": 3})
    assert second.exit_code == 2, second.output
    assert second.status["stop_reason"] == "false_completion"
    assert "the tests stay protected as the earlier snapshot recorded them" in capsys.readouterr().err
    assert any(e.get("event") == "protected_kept" for e in second.journal())
    tampering = [e for e in second.journal() if e.get("event") == "tampering"]
    assert tampering and "tests/test_calc.py" in tampering[0]["changes"][0]
