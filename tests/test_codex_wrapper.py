"""scripts/invoke-codex-agent.sh, the shipped agent command for templates: real codex, fake model, any cwd."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from codex_self_iter.codex import TESTED_CODEX_VERSION
from tests.support.fake_responses_server import FakeResponsesServer

WRAPPER = Path(__file__).resolve().parents[1] / "scripts" / "invoke-codex-agent.sh"


def invoke(prompt_file: Path, workspace: Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(WRAPPER), str(prompt_file), str(workspace)],
        cwd=cwd,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=90,
    )


def sandbox_mode(server: FakeResponsesServer) -> str:
    return str(json.loads(server.responses_requests()[-1].headers["x-codex-turn-metadata"])["sandbox_mode"])


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A cwd that is neither the repository nor the workspace."""
    path = tmp_path / "some other dir"
    path.mkdir()
    return path


def write_prompt(tmp_path: Path, text: str) -> Path:
    prompt = tmp_path / "prompt file.md"
    prompt.write_text(text, encoding="utf-8")
    return prompt


@pytest.mark.codex
def test_the_wrapper_runs_codex_sandboxed_and_prints_only_the_final_message(
    server: FakeResponsesServer, git_repo: Path, elsewhere: Path, tmp_path: Path
) -> None:
    server.add_turns([{"shell": "echo from-wrapper > made.txt"}], [{"message": 'Done.\n{"status": "complete"}'}])
    prompt = write_prompt(tmp_path, 'Please write made.txt; it\'s "quoted" & $HOME-safe.')
    done = invoke(prompt, git_repo, elsewhere)
    assert done.returncode == 0, done.stderr
    assert done.stdout == 'Done.\n{"status": "complete"}\n'
    assert (git_repo / "made.txt").read_text() == "from-wrapper\n"
    assert 'Please write made.txt; it\'s "quoted" & $HOME-safe.' in server.responses_requests()[0].user_texts()
    assert sandbox_mode(server) == "workspace-write"


@pytest.mark.codex
def test_the_wrapper_passes_codex_exit_code_and_prints_nothing_on_failure(
    server: FakeResponsesServer, git_repo: Path, elsewhere: Path, tmp_path: Path
) -> None:
    server.add_turns([{"error": {"status": 500, "body": {"error": {"message": "boom"}}}}])
    done = invoke(write_prompt(tmp_path, "x"), git_repo, elsewhere)
    assert done.returncode == 1
    assert done.stdout == ""


@pytest.mark.codex
def test_the_wrapper_mirrors_model_sandbox_and_bypass_settings(
    server: FakeResponsesServer, git_repo: Path, elsewhere: Path, tmp_path: Path
) -> None:
    prompt = write_prompt(tmp_path, "x")
    server.add_turns([{"message": "ok"}])
    done = invoke(prompt, git_repo, elsewhere, CODEX_SELF_ITER_MODEL="gpt-5.4", CODEX_SELF_ITER_SANDBOX="read-only")
    assert done.returncode == 0, done.stderr
    assert sandbox_mode(server) == "read-only"
    assert server.responses_requests()[-1].body["model"] == "gpt-5.4"

    server.add_turns([{"message": "ok"}])
    done = invoke(prompt, git_repo, elsewhere, CODEX_SELF_ITER_AGENT_MODE="bypass")
    assert done.returncode == 0, done.stderr
    assert sandbox_mode(server) == "danger-full-access"
    assert "WARNING: bypass mode" in done.stderr


def test_the_wrapper_without_codex_names_the_install_command(git_repo: Path, elsewhere: Path, tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "empty home")}
    if any(Path(d, "codex").exists() for d in ("/usr/bin", "/bin", "/usr/local/bin", "/opt/homebrew/bin")):
        pytest.skip("a system-wide codex is installed")
    done = subprocess.run(
        [str(WRAPPER), str(write_prompt(tmp_path, "x")), str(git_repo)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 127
    assert f"npm install -g @openai/codex@{TESTED_CODEX_VERSION}" in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ([], "usage:"),
        (["/no/such/prompt.md", "."], "cannot read prompt file"),
    ],
)
def test_the_wrapper_rejects_bad_arguments(args: list[str], fragment: str, elsewhere: Path) -> None:
    done = subprocess.run([str(WRAPPER), *args], cwd=elsewhere, capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    assert fragment in done.stderr


def test_the_wrapper_never_uses_flags_exec_rejects() -> None:
    text = WRAPPER.read_text(encoding="utf-8")
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert "--full-auto" not in code and "--ask-for-approval" not in code and " -a " not in code
