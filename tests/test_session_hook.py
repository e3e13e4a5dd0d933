"""The Stop hook command: silent without a contract, bound to one session, never trapping the user."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from codex_self_iter.cli import main
from codex_self_iter.session.hook import run_stop_hook
from tests.support.loop_harness import private_state
from tests.support.session_ws import CHECK, FAILURE_TEXT, FIXED, WEAKENED, make_workspace, session_status, stop_event

CLAIM = "Fixed it.\n<promise>DONE</promise>"


def hook(payload: bytes) -> dict[str, object] | None:
    out = io.StringIO()
    assert run_stop_hook(io.BytesIO(payload), out) == 0
    text = out.getvalue()
    return json.loads(text) if text else None


@pytest.fixture
def workspace(git_repo: Path) -> Path:
    ws = make_workspace(git_repo)
    assert main(["session", "start", "--workspace", str(ws), "--objective", "make add() add", "--check", CHECK]) == 0
    return ws


def test_no_contract_means_no_output_and_exit_0_as_a_process(git_repo: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "codex_self_iter", "hook", "stop"],
        input=stop_event(git_repo, CLAIM),
        capture_output=True,
        timeout=60,
        cwd=git_repo,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")


def test_first_stop_claims_the_contract_and_other_sessions_are_never_blocked(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = hook(stop_event(workspace, CLAIM, session="A"))
    assert first is not None and first["decision"] == "block" and FAILURE_TEXT in str(first["reason"])
    assert hook(stop_event(workspace, CLAIM, session="B")) is None
    assert hook(stop_event(workspace / "sub", "anything", session="B")) is None
    view = session_status(workspace, capsys)
    assert (view["bound_session"], view["bound_by"], view["iteration"]) == ("A", "first stop", 1)


def test_started_inside_codex_binds_to_that_session(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = make_workspace(git_repo)
    monkeypatch.setenv("CODEX_THREAD_ID", "thread-7")
    assert main(["session", "start", "-w", str(ws), "--objective", "o", "--check", CHECK]) == 0
    assert hook(stop_event(ws, CLAIM, session="someone-else")) is None
    blocked = hook(stop_event(ws, CLAIM, session="thread-7"))
    assert blocked is not None and blocked["decision"] == "block"
    assert session_status(ws, capsys)["bound_by"] == "session start inside Codex"


def test_fixed_work_is_released_as_complete(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert hook(stop_event(workspace, CLAIM))["decision"] == "block"  # type: ignore[index]
    (workspace / "calc.py").write_text(FIXED, encoding="utf-8")
    released = hook(stop_event(workspace, CLAIM))
    assert released is not None and set(released) == {"systemMessage"}
    assert "complete: 1/1 checks passed" in str(released["systemMessage"])
    assert session_status(workspace, capsys)["state"] == "complete"
    assert hook(stop_event(workspace, CLAIM)) is None  # ended: silent again


@pytest.mark.parametrize("how", ["cancel", "stop_file"])
def test_cancel_and_stop_release_at_the_next_stop(
    workspace: Path, how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert hook(stop_event(workspace, "still working"))["decision"] == "block"  # type: ignore[index]
    if how == "cancel":
        assert main(["session", "cancel", "-w", str(workspace), "--reason", "enough"]) == 0
    else:
        (workspace / ".codex-stop").write_text("", encoding="utf-8")
    released = hook(stop_event(workspace, "still working"))
    assert released is not None and set(released) == {"systemMessage"}
    assert ("enough" if how == "cancel" else ".codex-stop") in str(released["systemMessage"])
    assert session_status(workspace, capsys)["state"] == ("cancelled" if how == "cancel" else "stopped")


def test_an_internal_error_allows_the_stop_with_a_message_and_a_journal_line(workspace: Path) -> None:
    hook(stop_event(workspace, "working"))  # binds s1
    contract = private_state(workspace) / "session" / "contract.json"  # damaged on the user's disk
    contract.write_text("{not json", encoding="utf-8")
    answer = hook(stop_event(workspace, CLAIM))
    assert answer is not None and set(answer) == {"systemMessage"}
    assert "the Stop hook failed" in str(answer["systemMessage"]) and "the stop is allowed" in str(
        answer["systemMessage"]
    )
    journal = (workspace / ".codex-self-iter" / "session" / "journal.jsonl").read_text(encoding="utf-8")
    assert '"event": "hook_error"' in journal


def test_a_second_start_while_active_is_refused(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["session", "start", "-w", str(workspace), "--objective", "again", "--check", CHECK]) == 1
    assert "already active" in capsys.readouterr().err


def test_weakening_the_test_and_claiming_is_blocked_then_restoring_it_counts(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workspace / "test_calc.py").write_text(WEAKENED, encoding="utf-8")  # passes now, without testing add()
    blocked = hook(stop_event(workspace, CLAIM))
    assert blocked is not None and blocked["decision"] == "block"
    reason = str(blocked["reason"])
    assert "Protected tests were changed" in reason and "test_calc.py" in reason
    journal = (workspace / ".codex-self-iter" / "session" / "journal.jsonl").read_text(encoding="utf-8")
    assert '"event": "tampering"' in journal
    git_restore = subprocess.run(["git", "checkout", "test_calc.py"], cwd=workspace, capture_output=True, timeout=30)
    assert git_restore.returncode == 0
    (workspace / "calc.py").write_text(FIXED, encoding="utf-8")
    released = hook(stop_event(workspace, CLAIM))
    assert released is not None and "complete" in str(released["systemMessage"])
    assert session_status(workspace, capsys)["protected_files"] >= 1


def test_a_lost_snapshot_blocks_the_claim(workspace: Path) -> None:
    (workspace / "calc.py").write_text(FIXED, encoding="utf-8")
    (private_state(workspace) / "session" / "protected.json").unlink()
    blocked = hook(stop_event(workspace, CLAIM))
    assert blocked is not None and "snapshot was deleted or damaged" in str(blocked["reason"])


def test_a_hook_installed_twice_judges_each_stop_once(workspace: Path, tmp_path: Path) -> None:
    transcript = tmp_path / "rollout.jsonl"
    transcript.write_text('{"turn": 1}\n', encoding="utf-8")
    event = stop_event(workspace, CLAIM, transcript_path=str(transcript))
    first = hook(event)
    assert first is not None and first["decision"] == "block"
    assert hook(event) is None  # the copy in the other hooks.json: same event, transcript untouched
    with transcript.open("a", encoding="utf-8") as handle:
        handle.write('{"turn": 1, "continued": true}\n')  # codex wrote the continuation: a new stop
    again = hook(stop_event(workspace, CLAIM, transcript_path=str(transcript), stop_hook_active=True))
    assert again is not None and "continuation 2 of 10" in str(again["reason"])
    journal = (workspace / ".codex-self-iter" / "session" / "journal.jsonl").read_text(encoding="utf-8")
    assert journal.count('"event": "duplicate_event"') == 1


def test_two_copies_of_the_hook_running_at_once_block_once(workspace: Path, tmp_path: Path) -> None:
    transcript = tmp_path / "rollout.jsonl"
    transcript.write_text('{"turn": 1}\n', encoding="utf-8")
    event = stop_event(workspace, CLAIM, transcript_path=str(transcript))
    argv = [sys.executable, "-m", "codex_self_iter", "hook", "stop"]
    copies = [subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=workspace) for _ in range(2)]
    outputs = [copy.communicate(event, timeout=90)[0] for copy in copies]
    assert [copy.returncode for copy in copies] == [0, 0]
    answers = sorted(outputs, key=len)
    assert answers[0] == b"" and json.loads(answers[1])["decision"] == "block"
