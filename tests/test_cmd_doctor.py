"""`doctor`: one ok / warn / fail line per prerequisite, a fix for each problem, exit 1 on any failure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from codex_self_iter.cli import main
from codex_self_iter.codex import TESTED_CODEX_VERSION


def doctor(workspace: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["doctor", "-w", str(workspace)])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.out.splitlines()


def line(lines: list[str], text: str) -> str:
    found = [entry for entry in lines if text in entry]
    assert found, f"{text!r} not in {lines}"
    return found[0]


@pytest.mark.codex
def test_ready_workspace_with_real_codex(
    git_repo: Path, codex_bin: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CODEX_BIN", codex_bin)
    (git_repo / "codex-self-iter.toml").write_text('checks = ["git --version"]\n')
    code, lines = doctor(git_repo, capsys)
    assert code == 0, lines
    assert line(lines, f"codex {TESTED_CODEX_VERSION} at").startswith("ok")
    assert line(lines, "codex login").startswith("warn")  # a fresh CODEX_HOME is not logged in
    assert line(lines, "plugin not installed").startswith("warn")
    assert "      fix: codex-self-iter install-plugin" in lines
    assert line(lines, "is valid").startswith("ok") and line(lines, "git work tree").startswith("ok")
    assert line(lines, "checks (config): git --version").startswith("ok")
    assert lines[-1] == "doctor: ready (0 failure(s), 2 warning(s))"
    monkeypatch.setenv("CODEX_API_KEY", "sk-test")
    _, lines = doctor(git_repo, capsys)
    assert line(lines, "CODEX_API_KEY is set").startswith("ok")


def test_missing_codex_fails_with_the_install_hint(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CODEX_BIN", str(git_repo / "no-codex-here"))
    code, lines = doctor(git_repo, capsys)
    assert code == 1
    assert line(lines, "codex not found").startswith("FAIL")
    assert any(entry.strip().startswith("fix: npm install -g @openai/codex@") for entry in lines)
    assert line(lines, "plugin: cannot tell without codex").startswith("warn")
    assert lines[-1].startswith("doctor: not ready (1 failure(s)")


def test_with_a_command_template_missing_codex_is_only_a_warning(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CODEX_BIN", str(git_repo / "no-codex-here"))
    (git_repo / "codex-self-iter.toml").write_text('agent_command_template = "true {prompt_file}"\nchecks = []\n')
    code, lines = doctor(git_repo, capsys)
    assert code == 0, lines
    assert line(lines, "codex not found").startswith("warn")
    assert line(lines, "agent command: true {prompt_file}").startswith("ok")
    assert line(lines, "success rests on the reviewer alone").startswith("warn")


def test_every_input_problem_is_a_failure_with_its_fix(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CODEX_BIN", str(git_repo / "no-codex-here"))
    (git_repo / "plan.md").unlink()
    (git_repo / "TASK.md").unlink()
    (git_repo / "codex-self-iter.toml").write_text('max_iteratons = 3\nchecks = ["no-such-checker-xyz"]\n')
    (git_repo / ".codex-stop").write_text("")
    code, lines = doctor(git_repo, capsys)
    assert code == 1
    assert line(lines, "max_iteratons: unknown key").startswith("FAIL")
    assert line(lines, "plan.md is missing").startswith("FAIL")
    assert "fix: codex-self-iter init (or pass --plan-file)" in " ".join(lines)
    assert line(lines, "TASK.md is missing").startswith("warn")
    assert line(lines, ".codex-stop is present").startswith("warn")


def test_a_missing_check_program_and_a_non_git_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CODEX_BIN", str(tmp_path / "no-codex-here"))
    (tmp_path / "plan.md").write_text("- [ ] x\n")
    (tmp_path / "codex-self-iter.toml").write_text('checks = ["no-such-checker-xyz --all"]\n')
    code, lines = doctor(tmp_path, capsys)
    assert code == 1
    assert line(lines, "no-such-checker-xyz not found").startswith("FAIL")
    assert line(lines, "not a git work tree").startswith("warn")


def test_doctor_as_a_subprocess(git_repo: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "codex_self_iter", "doctor", "-w", str(git_repo)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    assert done.stdout.splitlines()[0].startswith("ok    python ")
    assert done.stdout.splitlines()[-1].startswith("doctor: ")


def test_doctor_reports_the_sandbox_and_warns_on_bypass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from codex_self_iter.cli import main

    work = tmp_path / "ws"
    work.mkdir()
    (work / "plan.md").write_text("- [ ] x\n")
    main(["doctor", "--workspace", str(work)])
    assert "sandbox: workspace-write" in capsys.readouterr().out
    (work / "codex-self-iter.toml").write_text("[codex]\nbypass = true\n")
    main(["doctor", "--workspace", str(work)])
    out = capsys.readouterr().out
    assert "warn  sandbox: codex runs with --dangerously-bypass-approvals-and-sandbox" in out
