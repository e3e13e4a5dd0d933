"""In-session mode end to end: the real codex binary, the fake model server, and the Stop hook installed in
CODEX_HOME/hooks.json and trusted by its hash (no --dangerously-bypass-hook-trust)."""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codex_self_iter.cli import main
from tests.support.fake_responses_server import FakeResponsesServer
from tests.support.session_codex import hook_prompts, run_codex, trusted_hook_home
from tests.support.session_ws import CHECK, FAILURE_TEXT, make_workspace

pytestmark = pytest.mark.codex

CLI = f"{shlex.quote(sys.executable)} -m codex_self_iter"
START = f"{CLI} session start --objective 'make add() add' --check {shlex.quote(CHECK)}"
CLAIM = "Done: add() is fixed.\n<promise>DONE</promise>"


@pytest.fixture
def server(codex_bin: str) -> Iterator[FakeResponsesServer]:
    with FakeResponsesServer() as fake:
        trusted_hook_home(Path(os.environ["CODEX_HOME"]), fake)
        yield fake


@pytest.fixture
def workspace(git_repo: Path) -> Path:
    return make_workspace(git_repo)


def status(workspace: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["session", "status", "--json", "-w", str(workspace)]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def journal(workspace: Path) -> list[dict[str, Any]]:
    path = workspace / ".codex-self-iter" / "session" / "journal.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.timeout(180)
def test_a_false_claim_is_blocked_with_the_failing_output_and_the_fix_is_released(
    codex_bin: str, server: FakeResponsesServer, workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.add_turns(
        [{"shell": START}],
        [{"message": CLAIM}],
        {"match": "hook_prompt", "steps": [{"shell": "sed -i 's/a - b/a + b/' calc.py"}]},
        [{"message": CLAIM}],
    )
    run = run_codex(codex_bin, workspace, tmp_path / "codex")
    assert run.exit_code == 0, run.stderr
    requests = server.responses_requests()
    assert len(requests) == 4
    assert hook_prompts(requests[1]) == []
    (prompt,) = hook_prompts(requests[2])
    assert FAILURE_TEXT in prompt and "continuation 1 of 10" in prompt and "make add() add" in prompt
    view = status(workspace, capsys)
    assert (view["state"], view["reason"], view["iteration"], view["claims"]) == ("complete", "complete", 1, 2)
    assert view["bound_by"] == "session start inside Codex"
    assert view["bound_session"] == requests[0].headers["session-id"]
    events = [record["event"] for record in journal(workspace)]
    assert events == ["session_start", "blocked", "complete"]


@pytest.mark.timeout(180)
def test_a_model_that_never_fixes_is_released_after_max_iterations(
    codex_bin: str, server: FakeResponsesServer, workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["session", "start", "-w", str(workspace), "--objective", "o", "--check", CHECK, "--max-iterations", "2"])
        == 0
    )
    server.add_turns(*[[{"message": CLAIM}] for _ in range(10)])
    run = run_codex(codex_bin, workspace, tmp_path / "codex")
    assert run.exit_code == 0, run.stderr
    requests = server.responses_requests()
    assert len(requests) == 3  # the first answer plus max_iterations continuations, then released
    assert [len(hook_prompts(r)) for r in requests] == [0, 1, 2]
    view = status(workspace, capsys)
    assert (view["state"], view["reason"], view["iteration"]) == ("released", "max_iterations", 2)
    assert "after 2 continuations (max_iterations=2)" in view["message"]
    assert server.script, "the model was willing to go on; the cap ended it"
    events = [record["event"] for record in journal(workspace)]
    assert events == ["session_start", "bound", "blocked", "blocked", "max_iterations"]


@pytest.mark.timeout(180)
def test_another_codex_session_in_the_same_repository_is_not_blocked(
    codex_bin: str,
    server: FakeResponsesServer,
    workspace: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CODEX_THREAD_ID", "the-users-other-session")
    assert main(["session", "start", "-w", str(workspace), "--objective", "o", "--check", CHECK]) == 0
    monkeypatch.delenv("CODEX_THREAD_ID")
    server.add_turns([{"message": CLAIM}], [{"message": "(should never be asked)"}])
    run = run_codex(codex_bin, workspace, tmp_path / "codex")
    assert run.exit_code == 0, run.stderr
    assert len(server.responses_requests()) == 1
    view = status(workspace, capsys)
    assert (view["state"], view["stops"], view["iteration"]) == ("active", 0, 0)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("how", ["cancel", "stop_file"])
def test_cancel_and_a_stop_file_release_the_session_at_its_next_stop(
    codex_bin: str,
    server: FakeResponsesServer,
    workspace: Path,
    tmp_path: Path,
    how: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    command = f"{CLI} session cancel --reason 'plans changed'" if how == "cancel" else "touch .codex-stop"
    server.add_turns(
        [{"shell": START}],
        [{"message": "Still looking into it."}],
        {"match": "hook_prompt", "steps": [{"shell": command}]},
        [{"message": "Stopping as asked."}],
        [{"message": "(should never be asked)"}],
    )
    run = run_codex(codex_bin, workspace, tmp_path / "codex")
    assert run.exit_code == 0, run.stderr
    assert len(server.responses_requests()) == 4
    view = status(workspace, capsys)
    assert view["state"] == ("cancelled" if how == "cancel" else "stopped")
    if how == "cancel":
        assert "plans changed, from inside Codex session" in view["message"]


@pytest.mark.timeout(180)
def test_the_plugin_ships_the_hook_with_plugin_root(
    codex_bin: str,
    server: FakeResponsesServer,
    workspace: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import io

    from codex_self_iter.plugin.install import install_plugin

    home = Path(os.environ["CODEX_HOME"])
    (home / "hooks.json").unlink()  # only the plugin's copy of the hook
    monkeypatch.setenv("CODEX_BIN", codex_bin)
    monkeypatch.setenv("CODEX_SELF_ITER_PYTHON", sys.executable)  # the interpreter the plugin's stop-hook.sh uses
    assert install_plugin(home, False, io.StringIO()) == 0
    assert main(["session", "start", "-w", str(workspace), "--objective", "o", "--check", CHECK]) == 0
    server.add_turns(
        [{"message": CLAIM}],
        {"match": "hook_prompt", "steps": [{"shell": "sed -i 's/a - b/a + b/' calc.py"}]},
        [{"message": CLAIM}],
    )
    run = run_codex(codex_bin, workspace, tmp_path / "codex", bypass_trust=True)
    assert run.exit_code == 0, run.stderr
    requests = server.responses_requests()
    assert len(requests) == 3
    (prompt,) = hook_prompts(requests[1])
    assert FAILURE_TEXT in prompt
    assert status(workspace, capsys)["state"] == "complete"


@pytest.mark.timeout(180)
def test_a_model_that_weakens_the_test_and_claims_is_blocked(
    codex_bin: str, server: FakeResponsesServer, workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    start = ["session", "start", "-w", str(workspace), "--objective", "make add() add", "--check", CHECK]
    assert main([*start, "--max-iterations", "1"]) == 0
    server.add_turns(
        [{"shell": "sed -i 's/self.assertEqual(add(2, 3), 5)/pass/' test_calc.py"}],
        [{"message": CLAIM}],
        [{"message": CLAIM}],
        [{"message": "(should never be asked)"}],
    )
    run = run_codex(codex_bin, workspace, tmp_path / "codex")
    assert run.exit_code == 0, run.stderr
    requests = server.responses_requests()
    assert len(requests) == 3
    (prompt,) = hook_prompts(requests[2])
    assert "Protected tests were changed" in prompt
    assert "test_calc.py: assertions removed from test AddTest.test_add (1 → 0)" in prompt
    view = status(workspace, capsys)
    assert (view["state"], view["reason"]) == ("released", "max_iterations")
    assert [r["event"] for r in journal(workspace)].count("tampering") == 2
