"""`init`: TASK.md, plan.md and a valid config with the detected checks; nothing overwritten without --force."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from codex_self_iter.cli import main
from codex_self_iter.options import Options, configured_checks, prepare
from tests.conftest import git


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty git repository with a pytest-style test file (so pytest is detected)."""
    repo = tmp_path / "proj"
    (repo / "tests").mkdir(parents=True)
    (repo / "tests" / "test_ok.py").write_text("def test_ok():\n    assert True\n")
    git(repo, "init", "-q", "-b", "main")
    return repo


def test_init_writes_inputs_config_and_excludes_the_state_dir(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "-w", str(repo), "--goal", "Make  the\ntests pass"]) == 0
    out = capsys.readouterr().out
    assert "wrote TASK.md, plan.md, codex-self-iter.toml" in out
    assert "Next steps:" in out and "run --dry-run" in out and f"--workspace {repo}" in out
    assert "Make the tests pass" in (repo / "TASK.md").read_text()
    assert "- [ ] " in (repo / "plan.md").read_text()
    config = tomllib.loads((repo / "codex-self-iter.toml").read_text())
    assert config["checks"] == ["python3 -m pytest -q"]
    assert config["max_iterations"] > 0
    prepared = prepare(Options(workspace=str(repo)))  # the written config is valid and found by default
    assert prepared.config_path == repo / "codex-self-iter.toml"
    assert configured_checks(prepared.settings, repo)[1] == "config"
    assert "/.codex-self-iter/" in (repo / ".git" / "info" / "exclude").read_text()


def test_init_never_overwrites_without_force(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "plan.md").write_text("# my plan\n")
    assert main(["init", "-w", str(repo)]) == 0
    assert "kept plan.md" in capsys.readouterr().out
    assert (repo / "plan.md").read_text() == "# my plan\n"
    assert (repo / "TASK.md").exists()
    (repo / "TASK.md").write_text("mine\n")
    assert main(["init", "-w", str(repo), "--goal", "other"]) == 1
    assert "pass --force" in capsys.readouterr().err
    assert (repo / "TASK.md").read_text() == "mine\n"
    assert main(["init", "-w", str(repo), "--goal", "other", "--force"]) == 0
    assert "other" in (repo / "TASK.md").read_text()
    assert (repo / "plan.md").read_text() != "# my plan\n"


def test_init_records_non_default_names_and_no_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    config = tmp_path / "cfg.toml"
    args = ["init", "-w", str(plain), "--plan-file", "PLAN.md", "--state-dir", ".loop", "--config", str(config)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert ".loop/ is not git-excluded (not in a git work tree)" in out and f"--config {config}" in out
    data = tomllib.loads(config.read_text())
    assert data["plan_file"] == "PLAN.md" and data["state_dir"] == ".loop" and "checks" not in data
    assert "# checks = " in config.read_text()
    assert (plain / "PLAN.md").exists()
    prepared = prepare(Options(workspace=str(plain), config=str(config)))
    assert prepared.layout.state_dir == plain / ".loop"


def test_init_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "-w", str(tmp_path / "missing")]) == 1
    assert "workspace does not exist" in capsys.readouterr().err
    assert main(["init", "-w", str(tmp_path), "--goal", "  "]) == 1
    assert "--goal is empty" in capsys.readouterr().err


def test_init_as_a_subprocess(repo: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "codex_self_iter", "init", "--goal", "ship it"],
        cwd=repo,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "codex-self-iter doctor " in done.stdout and "--workspace" not in done.stdout
    assert (repo / "codex-self-iter.toml").exists()
