"""A worktree run with the real codex binary and the fake model server: the agent edits files in its worktree,
the loop commits them; with writable_roots = [".git"] the agent may commit on its branch and nothing else."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from codex_self_iter.loop.launch import RunFlags, run_session
from codex_self_iter.options import Options, prepare
from codex_self_iter.workspace.isolation import IsolationRequest, isolate
from codex_self_iter.workspace.runs import WorktreeRun
from tests.conftest import git
from tests.support.e2e_loop import BASE_CONFIG
from tests.support.fake_responses_server import FakeResponsesServer
from tests.support.loop_harness import FakeTime
from tests.support.repo_snapshot import repo_snapshot

pytestmark = pytest.mark.codex

PLAN = {"next_goal": "write hello.txt saying hello", "summary": "one file", "stop": False}
APPROVE = {"verdict": "approve", "reasons": ["hello.txt says hello"], "next_goal": "", "no_change_needed": False}
DONE = {"status": "complete", "summary": "hello.txt says hello", "next_goal": "", "evidence": []}
# /tmp (where the test repositories live) is writable in codex's workspace-write sandbox: take it away, so the
# only writable places are the worktree and the roots the loop adds.
NO_TMP = ["sandbox_workspace_write.exclude_slash_tmp=true", "sandbox_workspace_write.exclude_tmpdir_env_var=true"]


def run_worktree(repo: Path, tmp: Path, codex: dict[str, Any]) -> tuple[int, str, WorktreeRun]:
    config = tmp / "codex-self-iter.toml"
    config.write_text(tomli_w.dumps({**BASE_CONFIG, "codex": {"config_overrides": NO_TMP, **codex}}))
    prepared = isolate(prepare(Options(workspace=str(repo), config=str(config))), IsolationRequest())
    assert prepared is not None and prepared.worktree is not None
    out = io.StringIO()
    code = run_session(prepared, RunFlags(), FakeTime(now=time.time()).deps(), out)
    return code, out.getvalue(), prepared.worktree


def tool_outputs(server: FakeResponsesServer) -> str:
    return "\n".join(
        item["output"]
        for request in server.responses_requests()
        for item in request.body["input"]
        if item.get("type") == "function_call_output"
    )


def test_codex_edits_files_in_its_worktree_and_the_loop_commits_them(
    server: FakeResponsesServer, git_repo: Path, tmp_path: Path
) -> None:
    escape = git_repo / "escape.txt"
    server.add_turns(
        [{"message_json": PLAN}],
        [{"shell": f"printf 'hello\\n' > hello.txt; git add hello.txt; echo add=$?; touch '{escape}'; echo out=$?"}],
        [{"message_json": DONE}],
        [{"message_json": APPROVE}],
    )
    before = repo_snapshot(git_repo)
    code, output, run = run_worktree(git_repo, tmp_path, {})
    assert code == 0, output
    seen = tool_outputs(server)
    assert "add=128" in seen and "out=1" in seen  # git metadata and the user's tree are read-only to the agent
    tree = Path(run.worktree)
    assert git(tree, "show", f"{run.branch}:hello.txt") == "hello\n"
    assert git(tree, "log", "--format=%s", f"{run.base}..{run.branch}") == "iteration 1: write hello.txt saying hello\n"
    assert git(tree, "status", "--porcelain") == ""
    assert repo_snapshot(git_repo) == before and not escape.exists()
    assert "hello.txt" in server.responses_requests()[-1].user_texts()[-1]  # the reviewer saw base..branch
    call = (Path(run.state_dir) / "runs" / "00001" / "executor" / "codex_call.json").read_text()
    assert f'"{tree}"' in call  # codex ran with -C <worktree>


def test_with_writable_git_the_agent_commits_on_its_branch_but_cannot_touch_the_users_refs(
    server: FakeResponsesServer, git_repo: Path, tmp_path: Path
) -> None:
    command = (
        "printf 'hello\\n' > hello.txt && git add hello.txt && git -c user.name=a -c user.email=a@b.c commit -qm "
        "'agent commit'; echo commit=$?; git update-ref refs/heads/main HEAD; echo main=$?; "
        "printf x > more.txt; git stash -u; echo stash=$?"
    )
    server.add_turns(
        [{"message_json": PLAN}], [{"shell": command}], [{"message_json": DONE}], [{"message_json": APPROVE}]
    )
    before = repo_snapshot(git_repo)
    code, output, run = run_worktree(git_repo, tmp_path, {"writable_roots": [".git"]})
    assert code == 0, output
    seen = tool_outputs(server)
    assert "commit=0" in seen and "main=128" in seen and "stash=1" in seen
    tree = Path(run.worktree)
    subjects = git(tree, "log", "--format=%s", f"{run.base}..{run.branch}").splitlines()
    assert subjects == ["iteration 1: write hello.txt saying hello", "agent commit"]  # the loop's checkpoint on top
    assert git(tree, "show", f"{run.branch}:more.txt") == "x"
    assert repo_snapshot(git_repo) == before
