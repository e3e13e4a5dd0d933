"""Security: agent text never reaches a shell or argv, state is private, secrets stay out, bypass is never silent."""

from __future__ import annotations

import os
import shlex
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from codex_self_iter.codex.argv import BYPASS_FLAG
from tests.conftest import git
from tests.support.faults import LoopBench
from tests.support.loop_harness import FAKE_AGENT, Agent, control, run_loop_in_process

EVIL = (
    "$(touch pwned-1); `touch pwned-2`; touch pwned-3 && echo x | sh -c 'touch pwned-4' > pwned-5; "
    "\"'\\ {prompt_file} {workspace} {role} ${HOME} %s %(x)s $goal ${task} {0}"
)
AGENT_WRITTEN = {"last_message.txt"}
CANARIES = {"CODEX_API_KEY": "sk-canary-CODEX-7f3e9a1b", "OPENAI_API_KEY": "sk-canary-OPENAI-c4d2e8f0"}


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)  # the usual default, under which plain open() makes world-readable files
    yield
    os.umask(previous)


def test_goal_and_summary_with_shell_metacharacters_never_reach_a_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "ws"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    (work / "plan.md").write_text("- [ ] x\n")
    monkeypatch.chdir(work)  # a shell would run the touches here
    agent = Agent(tmp_path, monkeypatch).on("planner", [{"control": {"next_goal": EVIL, "summary": EVIL}}])
    agent.on(
        "executor",
        [{"append": "x.txt", "content": "{call}"}, {"control": control("continue", EVIL + " #{call}", summary=EVIL)}],
    )
    template = (
        f"{shlex.quote(sys.executable)} {shlex.quote(str(FAKE_AGENT))} {{prompt_file}} {{workspace}} {{role}}"
        " --ws={workspace} --it={iteration}"
    )
    run = run_loop_in_process(work, {"max_iterations": 3, "max_stagnation": 100}, template=template)
    assert run.exit_code == 2, run.output

    assert not [p for p in tmp_path.rglob("pwned-*")]
    for call in agent.calls():
        argv = call["argv"][1:]  # the agent script's own argv (argv[0] is the script)
        assert len(argv) == 5
        prompt_file, workspace, role, ws_flag, it_flag = argv
        assert Path(prompt_file).parent == run.state_dir / "prompts"
        assert workspace == str(work) and ws_flag == f"--ws={work}"
        assert role in ("planner", "executor") and it_flag.startswith("--it=")
        assert EVIL not in " ".join(argv)
    executor_prompt = agent.calls("executor")[1]["prompt"]
    assert EVIL in executor_prompt  # the text went to the agent as prompt content, verbatim
    assert run.runtime["goal"].startswith(EVIL)


def test_placeholders_in_the_workspace_path_do_not_inject_argv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "ws {prompt_file} {role} {iteration} $(touch pwned) x"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    (work / "plan.md").write_text("- [ ] x\n")
    agent = Agent(tmp_path, monkeypatch).on("planner", [{"control": {"next_goal": "g {prompt_file}", "summary": "s"}}])
    agent.on("executor", [{"append": "x.txt", "content": "{call}"}, {"control": control("continue", "step {call}")}])
    template = f"{shlex.quote(sys.executable)} {shlex.quote(str(FAKE_AGENT))} {{prompt_file}} {{workspace}} {{role}}"
    run = run_loop_in_process(work, {"max_iterations": 2}, template=template)
    assert run.exit_code == 2, run.output
    for call in agent.calls():
        assert call["argv"][1:] == [call["argv"][1], str(work), call["role"]]
        assert call["argv"][1].startswith(str(work / ".codex-self-iter" / "prompts"))
    assert not list(tmp_path.rglob("pwned"))


def test_the_codex_runner_passes_the_goal_on_stdin_never_in_argv(bench: LoopBench) -> None:
    bench.codex = True
    code, loop = bench.run("--max-iterations", "2")
    assert code == 2, loop.stderr
    calls = bench.codex_calls()
    assert [c["role"] for c in calls] == ["planner", "executor", "executor"]
    goal = bench.runtime()["goal"]
    for call in calls:
        assert call["argv"][-1] == "-"  # the prompt comes on stdin
        assert not any("write line" in arg or "write the file" in arg for arg in call["argv"])
    assert goal.startswith("write line")


def private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


@pytest.mark.parametrize("runner", ["template", "codex"])
def test_state_files_and_dirs_are_private_to_the_owner(bench: LoopBench, umask_022: None, runner: str) -> None:
    bench.codex = runner == "codex"
    bench.config["checks"] = [f"{sys.executable} -c pass"]
    code, loop = bench.run("--max-iterations", "2")
    assert code == 2, loop.stderr
    state = bench.state_dir
    for name in ("prompts", "runs", "logs"):
        assert stat.S_IMODE((state / name).stat().st_mode) == 0o700, name
    open_dirs = [str(p.relative_to(state)) for p in state.rglob("*") if p.is_dir() and not private(p)]
    assert open_dirs == []
    # Every file the loop writes is 0o600; codex writes its -o file itself (its umask), inside our 0o700 run dir.
    open_files = [p.relative_to(state) for p in state.rglob("*") if p.is_file() and not private(p)]
    assert [str(p) for p in open_files if p.name not in AGENT_WRITTEN] == []
    captured = "events.jsonl" if bench.codex else "stdout.log"
    assert any(state.glob("prompts/*.md")) and any(state.glob(f"runs/*/*/{captured}"))
    assert any(state.glob("runs/*/baseline/check-1-stdout.log"))


@pytest.mark.parametrize("runner", ["template", "codex"])
def test_api_keys_never_land_in_state_or_output(bench: LoopBench, runner: str) -> None:
    bench.codex = runner == "codex"
    bench.env.update(CANARIES)
    bench.config["checks"] = [f"{sys.executable} -c pass"]
    code, loop = bench.run("--max-iterations", "2")
    assert code == 2, loop.stderr
    if bench.codex:
        assert all(c["secrets_seen"] == sorted(CANARIES) for c in bench.codex_calls())  # the keys were there
    files = [p for p in bench.state_dir.rglob("*") if p.is_file()]
    assert len(files) > 10
    for path in [*files, loop.out_path, loop.err_path]:
        data = path.read_bytes()
        for value in CANARIES.values():
            assert value.encode() not in data, f"{value} leaked into {path}"


@pytest.mark.parametrize(
    ("codex_settings", "flag"),
    [({"bypass": True}, BYPASS_FLAG), ({"sandbox": "danger-full-access"}, "danger-full-access")],
    ids=["bypass", "danger-full-access"],
)
def test_running_without_a_sandbox_is_never_silent(
    bench: LoopBench, codex_settings: dict[str, object], flag: str
) -> None:
    bench.codex = True
    bench.config["codex"] = codex_settings
    code, loop = bench.run("--max-iterations", "1")  # --quiet too: the warning must still show
    assert code == 2, loop.stderr
    assert "WARNING" in loop.stderr and "NO sandbox" in loop.stderr
    assert bench.status()["bypass_sandbox"] is True
    assert all(flag in call["argv"] for call in bench.codex_calls())


def test_the_default_codex_runner_keeps_the_sandbox_and_says_nothing(bench: LoopBench) -> None:
    bench.codex = True
    code, loop = bench.run("--max-iterations", "1")
    assert code == 2, loop.stderr
    assert "WARNING" not in loop.stderr and "sandbox" not in loop.stderr.lower()
    assert bench.status()["bypass_sandbox"] is False
    for call in bench.codex_calls():
        argv = call["argv"]
        assert BYPASS_FLAG not in argv
        assert argv[argv.index("-s") + 1] == "workspace-write"
