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
    assert line(lines, "in-session hook: not installed").startswith("warn")
    assert "      fix: codex-self-iter install-hooks --trust (or install-plugin, then trust its hook in Codex)" in lines
    assert lines[-1] == "doctor: ready (0 failure(s), 3 warning(s))"
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


@pytest.mark.codex
def test_with_a_command_template_codex_is_asked_only_for_the_plugin_and_the_hook(
    git_repo: Path, codex_bin: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CODEX_BIN", codex_bin)
    config = 'agent_command_template = "true {prompt_file}"\nchecks = []\n[codex]\nbypass = true\n'
    (git_repo / "codex-self-iter.toml").write_text(config)
    code, lines = doctor(git_repo, capsys)
    assert code == 0, lines
    codex = lines.index(line(lines, f"codex {TESTED_CODEX_VERSION} at"))
    assert lines[codex].startswith("ok") and lines[codex + 1].startswith("ok    agent command: true {prompt_file}")
    assert line(lines, "codex login").startswith("warn")
    assert not [entry for entry in lines if "sandbox" in entry]  # codex does not run the agent: its bypass is moot
    assert line(lines, "in-session hook: not installed").startswith("warn")


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
    assert line(lines, "is not a git repository: codex refuses to run there").startswith("FAIL")
    assert "fix: git init && git add -A && git commit -m 'before the loop' (or set [codex] skip_git_repo_check" in (
        "\n".join(lines)
    )


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


TEMPLATE = 'agent_command_template = "true {prompt_file}"\n'


def test_a_non_git_workspace_is_a_warning_for_a_template_and_with_skip_git_repo_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "plan.md").write_text("- [ ] x\n")
    (tmp_path / "codex-self-iter.toml").write_text(TEMPLATE + 'checks = ["git --version"]\n')
    code, lines = doctor(tmp_path, capsys)
    assert code == 0, lines
    assert line(lines, "is not a git work tree: the reviewer sees no diff").startswith("warn")
    (tmp_path / "codex-self-iter.toml").write_text('checks = ["git --version"]\n[codex]\nskip_git_repo_check = true\n')
    _, lines = doctor(tmp_path, capsys)
    assert line(lines, "is not a git work tree").startswith("warn")


def test_init_placeholder_task_fails_until_the_goal_is_written(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (git_repo / "TASK.md").unlink()
    monkeypatch.chdir(git_repo)
    assert main(["init"]) == 0
    (git_repo / "codex-self-iter.toml").write_text(TEMPLATE + 'checks = ["git --version"]\n')
    code, lines = doctor(git_repo, capsys)
    assert code == 1
    assert line(lines, "TASK.md still holds the placeholder `init` wrote").startswith("FAIL")
    assert "      fix: describe the outcome you want in it (or `codex-self-iter init --goal TEXT --force`)" in lines
    assert main(["init", "--goal", "make hello.txt say hello", "--force"]) == 0
    (git_repo / "codex-self-iter.toml").write_text(TEMPLATE + 'checks = ["git --version"]\n')
    code, lines = doctor(git_repo, capsys)
    assert code == 0, lines
    assert line(lines, "task: ").startswith("ok")


def test_a_state_dir_that_cannot_be_written_fails(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Tests run as root, where chmod does not stop a write: a file where the state dir should be does.
    (git_repo / "codex-self-iter.toml").write_text(
        TEMPLATE + 'checks = ["git --version"]\nstate_dir = "plan.md/state"\n'
    )
    code, lines = doctor(git_repo, capsys)
    assert code == 1
    assert line(lines, f"state dir {git_repo / 'plan.md' / 'state'} cannot be created: ").startswith("FAIL")
    assert "      fix: make it writable, or pass --state-dir DIR (state_dir in the config)" in lines
    (git_repo / "codex-self-iter.toml").write_text(TEMPLATE + 'checks = ["git --version"]\nstate_dir = "TASK.md"\n')
    code, lines = doctor(git_repo, capsys)
    assert code == 1 and line(lines, "TASK.md is not a directory").startswith("FAIL")
    (git_repo / "codex-self-iter.toml").write_text(TEMPLATE + 'checks = ["git --version"]\n')
    (git_repo / ".codex-self-iter").mkdir()
    code, lines = doctor(git_repo, capsys)
    assert code == 0 and line(lines, "is writable").startswith("ok")
    assert sorted(p.name for p in (git_repo / ".codex-self-iter").iterdir()) == []  # the write probe is gone


def test_no_checks_warns_and_with_the_reviewer_off_fails(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (git_repo / "codex-self-iter.toml").write_text(TEMPLATE + "checks = []\n")
    code, lines = doctor(git_repo, capsys)
    assert code == 0 and line(lines, "success rests on the reviewer alone").startswith("warn")
    assert (
        '      fix: list the commands that prove the work is done: checks = ["python3 -m pytest -q"] in the config'
        in (lines)
    )
    (git_repo / "codex-self-iter.toml").write_text(TEMPLATE + "checks = []\nreviewer = false\n")
    code, lines = doctor(git_repo, capsys)
    assert code == 1 and line(lines, "nothing verifies a completion claim").startswith("FAIL")


def test_doctor_after_a_bare_init_is_not_ready_as_a_subprocess(git_repo: Path) -> None:
    (git_repo / "TASK.md").unlink()

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "codex_self_iter", *args],
            cwd=git_repo,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=90,
        )

    assert cli("init").returncode == 0
    done = cli("doctor", "--config", str(git_repo / "codex-self-iter.toml"))
    assert done.returncode == 1
    assert "FAIL  task: " in done.stdout and "still holds the placeholder" in done.stdout
