"""The plugin end to end: install it into CODEX_HOME, then a real `codex exec` session, following the skill, starts
a loop on a workspace through its shell tool, and the loop runs to its stop inside codex's sandbox.

The outer model is the fake Responses server (scripted tool calls); the nested loop's agent is the scripted fake
agent, so no second model is needed and the nested loop needs no network.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest

from codex_self_iter import __version__
from codex_self_iter.plugin.install import install_plugin
from codex_self_iter.plugin.marketplace import PLUGIN_NAME, MarketplaceLayout
from codex_self_iter.proc.process import run_process
from tests.support.e2e_processes import ProcessWatcher
from tests.support.fake_responses_server import FakeResponsesServer
from tests.support.loop_harness import FAKE_AGENT

pytestmark = pytest.mark.codex

SKILL_ENTRY = f"- {PLUGIN_NAME}:{PLUGIN_NAME}: "
USER_PROMPT = "Use the codex-self-iter skill to run the loop on this repository until the task is done."


def fake_agent_script(directory: Path) -> Path:
    """The nested loop's agent: plan, two executor turns that write hello.txt, then the reviewer approves."""
    control = "```json\n{}\n```"
    script = {
        "planner": [[{"say": control.format(json.dumps({"next_goal": "write hello.txt", "summary": "one step"}))}]],
        "executor": [
            [
                {"write": "hello.txt", "content": "hel"},
                {"say": control.format(json.dumps({"status": "continue", "summary": "s", "next_goal": "finish it"}))},
            ],
            [
                {"write": "hello.txt", "content": "hello\n"},
                {"say": control.format(json.dumps({"status": "complete", "summary": "hello.txt says hello"}))},
            ],
        ],
        "reviewer": [[{"say": control.format(json.dumps({"verdict": "approve", "reasons": ["hello.txt is right"]}))}]],
    }
    directory.mkdir()
    path = directory / "agent-script.json"
    path.write_text(json.dumps(script), encoding="utf-8")
    return path


def loop_command(workspace: Path, agent_script: Path) -> str:
    """The shell command the skill tells the model to run (in the foreground here: the nested agent is fake)."""
    template = f"{shlex.quote(sys.executable)} {shlex.quote(str(FAKE_AGENT))} {{prompt_file}} {{workspace}} {{role}}"
    argv = [sys.executable, "-m", "codex_self_iter", "run", "--workspace", str(workspace)]
    argv += ["--agent-command-template", template, "--max-iterations", "3"]
    return f"FAKE_AGENT_SCRIPT={shlex.quote(str(agent_script))} {shlex.join(argv)}"


def input_lines(body: Any) -> list[str]:
    """Every line of every message in a request's input (developer, user and assistant)."""
    texts = [part.get("text", "") for item in body["input"] for part in item.get("content") or [] if "text" in part]
    return [line for text in texts for line in text.splitlines()]


def tool_outputs(body: Any) -> list[str]:
    """The outputs of the shell tool calls the request carries back to the model."""
    return [item["output"] for item in body["input"] if item.get("type") == "function_call_output"]


@pytest.mark.timeout(120)
def test_codex_follows_the_installed_skill_and_the_loop_runs_to_its_stop(
    server: FakeResponsesServer, git_repo: Path, tmp_path: Path
) -> None:
    codex_home = Path(os.environ["CODEX_HOME"])
    out, err = io.StringIO(), io.StringIO()
    assert install_plugin(None, False, out, err=err) == 0, err.getvalue()
    skill_file = MarketplaceLayout(codex_home).cache(__version__) / "skills" / PLUGIN_NAME / "SKILL.md"
    assert skill_file.is_file()

    agent_dir = tmp_path / "nested agent"
    command = loop_command(git_repo, fake_agent_script(agent_dir))
    run_loop = {"name": "exec_command", "arguments": {"cmd": command, "yield_time_ms": 60_000}}
    server.add_turns(
        [{"shell": f"cat {shlex.quote(str(skill_file))}"}],  # the model reads the skill, as skills are meant to be
        [{"function_call": run_loop}],
        [{"message": "The loop finished: complete (exit 0)."}],
    )
    run_dir = tmp_path / "outer codex"
    argv = [os.environ["CODEX_BIN"], "exec", "--json", "-C", str(git_repo), "-s", "workspace-write"]
    argv += ["--add-dir", str(agent_dir), "-o", str(run_dir / "last.txt"), USER_PROMPT]
    with ProcessWatcher(str(git_repo)) as watcher:
        outer = run_process(
            argv,
            cwd=git_repo,
            stdout_path=run_dir / "events.jsonl",
            stderr_path=run_dir / "stderr.log",
            timeout_sec=90,
        )
    stderr = (run_dir / "stderr.log").read_text(encoding="utf-8", errors="replace")
    assert outer.exit_code == 0 and not outer.timed_out, stderr
    assert any(seen.name.startswith("python") for seen in watcher.seen.values())  # the loop ran under codex
    assert watcher.survivors() == {}, watcher.seen

    requests = server.responses_requests()
    assert len(requests) == 3
    # The installed plugin's skill is listed to the model, namespaced by the plugin, with its file.
    lines = input_lines(requests[0].body)
    cache_root = skill_file.parents[4]
    assert f"- `r1` = `{cache_root}`" in lines
    (entry,) = [line for line in lines if line.startswith(SKILL_ENTRY)]
    assert entry.endswith(f"(file: r1/{PLUGIN_NAME}/{__version__}/skills/{PLUGIN_NAME}/SKILL.md)")
    assert "run the project's own checks" in entry
    assert requests[0].user_texts()[-1].startswith(USER_PROMPT)
    assert "# codex-self-iter" in tool_outputs(requests[1].body)[0]  # the skill was readable inside the sandbox
    loop_output = tool_outputs(requests[2].body)[-1]
    assert "Process exited with code 0" in loop_output, loop_output
    assert "stopped: complete (exit 0)" in loop_output, loop_output

    status = json.loads((git_repo / ".codex-self-iter" / "status.json").read_text())
    assert (status["state"], status["stop_reason"], status["exit_code"]) == ("complete", "complete", 0)
    assert status["iteration"] == 2 and status["runner"] == "template"
    assert (git_repo / "hello.txt").read_text() == "hello\n"
    calls = (agent_dir / "agent-script.json.calls.jsonl").read_text().splitlines()
    assert [json.loads(call)["role"] for call in calls] == ["planner", "executor", "executor", "reviewer"]
    # Under workspace-write codex mounts .git read-only, so the nested loop could not git-exclude its state dir.
    assert "/.codex-self-iter/" not in (git_repo / ".git" / "info" / "exclude").read_text()
    assert (run_dir / "last.txt").read_text() == "The loop finished: complete (exit 0)."
