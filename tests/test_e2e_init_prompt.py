"""`init --prompt` with the real codex binary against the fake model server: propose, show, write only on yes."""

from __future__ import annotations

import io
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from codex_self_iter.cli import main
from tests.support.fake_responses_server import FakeResponsesServer

pytestmark = pytest.mark.codex

PROPOSAL: dict[str, Any] = {
    "objective": "calc.py has divide(a, b); dividing by zero raises ZeroDivisionError with a clear message.",
    "done_criteria": ["divide(6, 3) == 2", "divide(1, 0) raises ZeroDivisionError"],
    "plan": ["Add divide()", "Test it"],
    "tasks": [
        {"title": "Add divide()", "details": "In calc.py.", "done_when": ["divide(6, 3) == 2"]},
        {"title": "Test divide()", "details": "tests/test_calc.py", "done_when": ["a test covers divide by zero"]},
    ],
    "checks": ["python3 -m pytest -q"],
}


def files_of(workspace: Path) -> dict[str, str]:
    return {
        str(p.relative_to(workspace)): p.read_text()
        for p in sorted(workspace.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(workspace).parts
    }


def init(workspace: Path, answer: str, monkeypatch: pytest.MonkeyPatch, *flags: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(answer))
    return main(["init", "--workspace", str(workspace), "--prompt", "add divide() with tests", *flags])


@pytest.mark.parametrize(("answer", "flags"), [("y\n", ()), ("", ("--yes",))])
def test_the_proposal_is_shown_and_written_after_confirmation(
    server: FakeResponsesServer,
    git_repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    answer: str,
    flags: tuple[str, ...],
) -> None:
    server.add_turns([{"message_json": PROPOSAL}])
    for name in ("TASK.md", "plan.md"):
        (git_repo / name).unlink()

    assert init(git_repo, answer, monkeypatch, *flags) == 0, capsys.readouterr()

    out = capsys.readouterr().out
    assert "--- tasks/002-test-divide.md" in out and "  python3 -m pytest -q" in out
    assert ("[y/N]" in out) is not bool(flags)  # --yes: shown, not asked
    task = (git_repo / "TASK.md").read_text()
    assert PROPOSAL["objective"] in task and "## Done when\n\n- divide(6, 3) == 2\n" in task
    assert (git_repo / "plan.md").read_text() == "# Plan\n\n- [ ] Add divide()\n- [ ] Test it\n"
    first = (git_repo / "tasks" / "001-add-divide.md").read_text()
    assert first == "---\norigin: init\n---\n# Add divide()\n\nIn calc.py.\n\n## Done when\n\n- divide(6, 3) == 2\n"
    config = tomllib.loads((git_repo / "codex-self-iter.toml").read_text())
    assert config["checks"] == ["python3 -m pytest -q"]  # printed above, stored as the user's config
    request = server.responses_requests()[0]
    assert request.body["text"]["format"]["type"] == "json_schema"  # the answer's shape was asked for ...
    assert set(request.body["text"]["format"]["schema"]["required"]) == set(PROPOSAL)
    assert "read-only" in request.input_text  # ... from a codex that could not write
    assert "add divide() with tests" in request.user_texts()[-1]


def test_declining_writes_nothing(
    server: FakeResponsesServer, git_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server.add_turns([{"message_json": PROPOSAL}])
    before = files_of(git_repo)

    assert init(git_repo, "n\n", monkeypatch, "--force") == 1

    captured = capsys.readouterr()
    assert "--- tasks/001-add-divide.md" in captured.out
    assert captured.err == "codex-self-iter: error: declined; nothing was written\n"
    assert files_of(git_repo) == before
    assert (git_repo / ".git" / "info" / "exclude").read_text().count("codex-self-iter") == 0


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ([{"message": "Sure! Here is my plan: do it."}], "codex's answer has no JSON proposal in it"),
        ([{"message_json": {**PROPOSAL, "tasks": [{"title": "x", "details": "", "done_when": []}]}}], "tasks.1:"),
        ([{"message_json": {k: v for k, v in PROPOSAL.items() if k != "plan"}}], "malformed: plan: Field required"),
    ],
)
def test_a_malformed_answer_is_one_line_exit_1_and_nothing_written(
    server: FakeResponsesServer,
    git_repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    answer: list[dict[str, Any]],
    expected: str,
) -> None:
    server.add_turns(answer)
    before = files_of(git_repo)

    assert init(git_repo, "y\n", monkeypatch, "--force") == 1

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err and err.rstrip().endswith("nothing was written"), err
    assert files_of(git_repo) == before


def test_existing_files_need_force_before_codex_is_asked(
    server: FakeResponsesServer, git_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert init(git_repo, "y\n", monkeypatch) == 1
    assert "TASK.md exists; pass --force to replace it" in capsys.readouterr().err
    assert server.responses_requests() == []
    assert json.loads(json.dumps(files_of(git_repo)))["TASK.md"].startswith("# Task")
