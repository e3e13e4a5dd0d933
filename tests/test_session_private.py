"""In-session mode against an agent that edits its own contract: the real Stop hook obeys only the private copy."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codex_self_iter.checks.protected import ProtectedSnapshot
from codex_self_iter.checks.run import parse_check
from codex_self_iter.cli import main
from tests.support.loop_harness import private_state
from tests.support.session_ws import CHECK, FAILURE_TEXT, FIXED, WEAKENED, make_workspace, session_status, stop_event

CLAIM = "Fixed it.\n<promise>DONE</promise>"
HOOK = [sys.executable, "-m", "codex_self_iter", "hook", "stop"]


def hook(workspace: Path, message: str, **env: str) -> dict[str, Any] | None:
    """The real hook command, as Codex runs it: a process with the Stop payload on stdin, in the workspace."""
    done = subprocess.run(
        HOOK, input=stop_event(workspace, message), capture_output=True, cwd=workspace, timeout=90, env=_env(env)
    )
    assert (done.returncode, done.stderr) == (0, b"")
    return json.loads(done.stdout) if done.stdout else None


def _env(more: dict[str, str]) -> dict[str, str]:
    import os

    return {**os.environ, **more}


@pytest.fixture
def workspace(git_repo: Path) -> Path:
    ws = make_workspace(git_repo)
    assert main(["session", "start", "--workspace", str(ws), "--objective", "make add() add", "--check", CHECK]) == 0
    first = hook(ws, "working on it")  # binds the session (s1) and sends it back to work
    assert first is not None and first["decision"] == "block"
    return ws


def copy_of(workspace: Path) -> Path:
    return workspace / ".codex-self-iter" / "session" / "contract.json"


def test_a_contract_the_agent_lowers_is_not_obeyed(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recorded = copy_of(workspace).read_text(encoding="utf-8")
    forged = json.loads(recorded)
    forged["checks"] = [{"name": "ok", "argv": [sys.executable, "-c", "pass"], "timeout_sec": 30}]
    forged["max_iterations"] = 1000
    copy_of(workspace).write_text(json.dumps(forged), encoding="utf-8")  # the bug is still there: a false claim
    blocked = hook(workspace, CLAIM)
    assert blocked is not None and blocked["decision"] == "block"
    first_line, rest = str(blocked["reason"]).split("\n", 1)
    assert f"{copy_of(workspace)} was changed in the workspace; not obeyed" in first_line
    assert FAILURE_TEXT in rest  # the recorded check ran, not the agent's
    assert "continuation 2 of 10" in rest
    assert copy_of(workspace).read_text(encoding="utf-8") == recorded  # the copy is put back
    view = session_status(workspace, capsys)
    assert (view["max_iterations"], view["checks"], view["state"]) == (10, [CHECK], "active")
    journal = (workspace / ".codex-self-iter" / "session" / "journal.jsonl").read_text(encoding="utf-8")
    assert '"event": "contract_not_obeyed"' in journal
    again = hook(workspace, CLAIM)  # said once: the copy matches again
    assert again is not None and not str(again["reason"]).startswith("codex-self-iter:")


def test_deleting_the_session_dir_does_not_end_the_contract(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.rmtree(workspace / ".codex-self-iter")
    blocked = hook(workspace, CLAIM)
    assert blocked is not None and blocked["decision"] == "block"
    assert "was deleted in the workspace; not obeyed" in str(blocked["reason"]).split("\n", 1)[0]
    assert FAILURE_TEXT in str(blocked["reason"])
    assert session_status(workspace, capsys)["iteration"] == 2


def test_a_forged_snapshot_and_state_do_not_bless_a_weakened_test(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = workspace / ".codex-self-iter" / "session"
    (workspace / "test_calc.py").write_text(WEAKENED, encoding="utf-8")  # passes now, without testing add()
    forged = ProtectedSnapshot.take(workspace, [parse_check(CHECK)], (), ".codex-self-iter")
    (session / "protected.json").write_text(json.dumps(forged.to_dict()), encoding="utf-8")
    state = session_status(workspace, capsys)
    (session / "state.json").write_text(
        json.dumps({"contract_id": state["contract_id"], "status": "complete", "bound_session": "s1"}),
        encoding="utf-8",
    )
    blocked = hook(workspace, CLAIM)
    assert blocked is not None and blocked["decision"] == "block"
    assert "Protected tests were changed" in str(blocked["reason"]) and "test_calc.py" in str(blocked["reason"])
    assert session_status(workspace, capsys)["state"] == "active"


def test_a_start_inside_a_sandbox_is_taken_over_at_the_first_stop(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = make_workspace(git_repo)
    unwritable = tmp_path / "not-a-dir"
    unwritable.write_text("", encoding="utf-8")
    with monkeypatch.context() as sandbox:  # as in Codex's workspace-write sandbox: private state cannot be written
        sandbox.setenv("XDG_STATE_HOME", str(unwritable))
        capsys.readouterr()
        assert main(["session", "start", "-w", str(ws), "--objective", "make add() add", "--check", CHECK]) == 0
        assert "the Stop hook takes it over at the first stop" in capsys.readouterr().out
        assert session_status(ws, capsys)["contract_file"] == str(copy_of(ws))
    assert not private_state(ws).joinpath("session").exists()
    blocked = hook(ws, CLAIM)
    assert blocked is not None and FAILURE_TEXT in str(blocked["reason"])
    assert private_state(ws).joinpath("session", "contract.json").read_text() == copy_of(ws).read_text()
    assert session_status(ws, capsys)["contract_file"] == str(private_state(ws) / "session" / "contract.json")
    forged = json.loads(copy_of(ws).read_text(encoding="utf-8"))
    forged["checks"][0]["argv"] = [sys.executable, "-c", "pass"]
    copy_of(ws).write_text(json.dumps(forged), encoding="utf-8")  # from now on, edits are not obeyed
    again = hook(ws, CLAIM)
    assert again is not None and "not obeyed" in str(again["reason"]) and FAILURE_TEXT in str(again["reason"])
    (ws / "calc.py").write_text(FIXED, encoding="utf-8")
    released = hook(ws, CLAIM)
    assert released is not None and "complete: 1/1 checks passed" in str(released["systemMessage"])


def test_a_state_dir_with_a_nul_byte_in_the_config_leaves_the_hook_silent(git_repo: Path) -> None:
    (git_repo / "codex-self-iter.toml").write_text('state_dir = "../a\\u0000b/c"\n', encoding="utf-8")
    assert hook(git_repo, CLAIM) is None
