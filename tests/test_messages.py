"""Lines that must not mislead: flags are not config changes, no backoff before a budget stop, config key hints."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from codex_self_iter.cli import main
from tests.support.loop_harness import Agent, FakeTime, control, fake_template, run_loop_in_process

PLAN = {"control": {"next_goal": "write hello.txt", "summary": "one step"}}
README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_a_max_iterations_flag_is_not_a_configuration_change(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = Agent(tmp_path, monkeypatch).on("planner", [PLAN])
    agent.on("executor", [{"append": "x", "content": "{call}"}, {"control": control("continue", "step {call}")}])
    config = tmp_path / "c.toml"
    config.write_text("checks = []\nmax_iterations = 5\n")
    base = ["run", "-w", str(git_repo), "--config", str(config), "--agent-command-template", fake_template()]
    assert main([*base, "--max-iterations", "1"]) == 2
    assert main([*base, "--max-iterations", "1"]) == 2
    assert main([*base, "--max-iterations", "2"]) == 2
    assert "configuration changed" not in capsys.readouterr().err
    config.write_text("checks = []\nmax_iterations = 5\nmax_stagnation = 9\n")
    assert main([*base, "--max-iterations", "1"]) == 2
    assert "the configuration changed since the last run; using the new one" in capsys.readouterr().err


def test_no_backoff_is_announced_right_before_the_iteration_budget_stops(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = Agent(tmp_path, monkeypatch).on("planner", [PLAN])
    agent.on("executor", [{"control": control("continue", "look again")}])  # changes nothing: a no-change backoff
    clock = FakeTime()
    run = run_loop_in_process(git_repo, {"max_iterations": 2, "no_change_backoff_sec": 60}, clock)
    assert run.exit_code == 2 and run.status["stop_reason"] == "max_iterations"
    backoffs = [e for e in run.journal() if e.get("kind") == "backoff"]
    assert len(backoffs) == 1 and backoffs[0]["iteration"] == 1  # between the two calls, not after the last
    assert clock.sleeps and sum(clock.sleeps) == pytest.approx(60.0)
    err = capsys.readouterr().err
    assert err.count("backing off") == 1
    assert err.rindex("backing off") < err.rindex("#2 executor finished")


def readme_error_lines() -> list[str]:
    block = re.search(r"```text\n(codex-self-iter: error: codex-self-iter.toml: max_iteratons.*?)```", README, re.S)
    assert block is not None
    return block.group(1).splitlines()


CONFIGS = [
    "max_iteratons = 3\n",
    'checks = []\n[codex]\nmodel = "gpt-5.5"\nmax_iterations = 3\n',
    'checks = []\nreviewer = true\nmax_iterations =\n[codex]\nmodel = "gpt-5.5"\n',
]


@pytest.mark.parametrize("index", range(len(CONFIGS)))
def test_config_errors_are_the_readme_lines(
    git_repo: Path, index: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (git_repo / "codex-self-iter.toml").write_text(CONFIGS[index])
    monkeypatch.chdir(git_repo)
    assert main(["run", "--dry-run"]) == 1
    err = capsys.readouterr().err.strip().replace(str(git_repo / "codex-self-iter.toml"), "codex-self-iter.toml")
    assert err == readme_error_lines()[index]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sandbox = 'read-only'\n", "sandbox: unknown key; it belongs in the [codex] table: move it under a [codex]"),
        ("[codex]\ncheks = []\n", "codex.cheks: unknown key; did you mean `checks`? it is a top-level key: move it"),
        ("[codex]\nmodle = 'x'\n", "codex.modle: unknown key; did you mean `model`?"),
        ("frobnicate = 1\n", "frobnicate: unknown key; remove it or check its spelling against config.example.toml"),
        ("checks = [\n'x'\n", "line 2: invalid TOML (Unclosed array): `'x'`; fix the syntax on that line"),
    ],
)
def test_config_key_hints(git_repo: Path, text: str, expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    (git_repo / "codex-self-iter.toml").write_text(text)
    assert main(["doctor", "-w", str(git_repo)]) == 1
    assert expected in capsys.readouterr().out


def test_a_top_level_key_under_codex_as_a_subprocess(git_repo: Path) -> None:
    (git_repo / "codex-self-iter.toml").write_text(CONFIGS[1])
    done = subprocess.run(
        [sys.executable, "-m", "codex_self_iter", "run"],
        cwd=git_repo,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 1
    assert done.stderr.strip().endswith(readme_error_lines()[1].split(": error: ", 1)[1])
