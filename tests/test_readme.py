"""The README's commands are real: the quickstart runs to a verified stop, CI runs the documented test command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", README, re.DOTALL)


def test_the_two_commands_are_documented_and_ci_runs_the_test_command() -> None:
    blocks = bash_blocks()
    assert "bash scripts/quickstart.sh\n" in blocks
    assert "bash scripts/dev-test.sh\n" in blocks
    assert "bash scripts/dev-test.sh" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.timeout(300)
def test_quickstart_command_ends_with_a_verified_stop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = {**os.environ, "CODEX_SELF_ITER_VENV": sys.prefix}
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "quickstart.sh"), str(tmp_path / "qs")],
        capture_output=True,
        text=True,
        timeout=280,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "stopped: complete (exit 0)" in done.stdout
    assert "completion claim rejected: the project's checks fail" in done.stderr  # the demo's early claim
    assert "Try it on your own repository" in done.stderr.strip().splitlines()[-4]  # the quickstart's last words
    assert done.stderr.strip().endswith("codex-self-iter doctor && codex-self-iter run")
    assert "1/1 checks passed" in done.stdout
    assert (tmp_path / "qs" / "slug.py").read_text().count("re.findall") == 1
    shown = re.search(r"```text\n(codex-self-iter: #1 0/1 checks passed.*?)```", README, re.DOTALL)
    assert shown is not None
    real = done.stderr.replace(str(tmp_path / "qs"), "/home/me/quickstart")
    assert _untimed(shown.group(1)) in _untimed(real)  # the README's failing-check excerpt is the real output
    from codex_self_iter.cli import main

    capsys.readouterr()
    assert main(["history", "-w", str(tmp_path / "qs")]) == 0
    table = re.search(r"```text\n(    #  time .*?)```", README, re.DOTALL)
    assert table is not None
    assert _untimed(table.group(1)) == _untimed(capsys.readouterr().out)  # the README's history is the real one


def _untimed(text: str) -> str:
    text = re.sub(r"\d\d:\d\d:\d\d", "HH:MM:SS", re.sub(r"in \d+\.\d+s", "in Ns", text))
    return re.sub(r" +\d+s +", " Ns ", text)  # a duration column


@pytest.mark.parametrize("script", ["quickstart.sh", "dev-test.sh", "run-local.sh", "invoke-codex-agent.sh"])
def test_scripts_are_executable_and_parse(script: str) -> None:
    path = ROOT / "scripts" / script
    assert os.access(path, os.X_OK)
    assert subprocess.run(["bash", "-n", str(path)], capture_output=True, timeout=30).returncode == 0


@pytest.mark.timeout(120)
def test_run_local_script_takes_the_original_positional_arguments(tmp_path: Path) -> None:
    import shutil

    work = tmp_path / "ws with space"
    shutil.copytree(ROOT / "examples" / "quickstart", work)
    (work / "plan.md").rename(work / "PLAN.txt")
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@e.invalid", "commit", "-qm", "i"],
    ):
        subprocess.run(["git", *args], cwd=work, check=True, capture_output=True, timeout=30)
    config = ROOT / "examples" / "demo" / "codex-self-iter.toml"
    done = subprocess.run(
        [str(ROOT / "scripts" / "run-local.sh"), str(work), "TASK.md", "PLAN.txt", "state dir", str(config)],
        capture_output=True,
        text=True,
        timeout=110,
        env={**os.environ, "CODEX_SELF_ITER_PYTHON": sys.executable},
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (work / "state dir" / "status.json").exists()


def readme_cli_lines() -> list[list[str]]:
    import shlex

    lines: list[list[str]] = []
    for block in bash_blocks():
        for raw in block.replace("\\\n", " ").splitlines():
            words = shlex.split(raw, comments=True)
            if words[:1] == ["codex-self-iter"]:
                lines.append(words[1:])
            elif words[:3] == ["python", "-m", "codex_self_iter"]:
                lines.append(words[3:])
    return lines


def test_every_cli_line_in_the_readme_parses() -> None:
    from codex_self_iter.cli import COMMANDS, build_parser

    lines = readme_cli_lines()
    assert len(lines) >= 10
    parser = build_parser()
    for words in lines:
        args = words if words and words[0] in COMMANDS else ["run", *words]
        parsed = parser.parse_args(args)  # SystemExit (a failed test) on an unknown flag or command
        assert callable(parsed.handler), words


def test_every_toml_block_in_the_readme_is_a_valid_config() -> None:
    import tomllib

    from codex_self_iter.config import build_settings

    blocks = re.findall(r"```toml\n(.*?)```", README, re.DOTALL)
    assert len(blocks) >= 2
    for block in blocks:
        build_settings(tomllib.loads(block), {}, "README.md")  # a UserError (a failed test) on any bad key
