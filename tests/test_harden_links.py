"""A hostile agent plants symbolic links in the state dir: the loop never writes through one to a file elsewhere."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codex_self_iter.errors import UserError
from tests.support.loop_harness import Agent, control, run_loop_in_process

STATE = ".codex-self-iter"
# Where the loop writes during iteration 2, as the agent of iteration 1 sees it: (path in the state dir, kind).
PLANTED = [
    ("runs/00002", "dir"),
    ("runs/00002/executor", "dir"),
    ("runs/00002/executor/stdout.log", "file"),
    ("runs/00002/executor/stderr.log", "file"),
    ("runs/00002/executor/final_message.txt", "file"),
    ("runs/00002/executor/schema.json", "file"),
    ("runs/00002/checks/check-1-stdout.log", "file"),
    ("logs/iterations.jsonl", "file"),
    ("logs", "dir"),
    ("prompts/00002-executor.md", "file"),
    ("prompts", "dir"),
    ("status.json", "file"),
    ("runtime.json", "file"),
]
# A rename replaces the link itself (nothing is written through it), so these need no refusal.
REPLACED_BY_RENAME = {"runs/00002/executor/final_message.txt", "runs/00002/executor/schema.json"}
REPLACED_BY_RENAME |= {"prompts/00002-executor.md", "status.json", "runtime.json"}


def outside_snapshot(outside: Path) -> dict[str, bytes]:
    return {str(p.relative_to(outside)): p.read_bytes() for p in sorted(outside.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(("planted", "kind"), PLANTED, ids=[p for p, _ in PLANTED])
def test_a_planted_link_is_never_written_through(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, planted: str, kind: str
) -> None:
    outside = tmp_path / "outside"
    (outside / "dir").mkdir(parents=True)
    (outside / "victim.txt").write_text("precious user data\n")
    (outside / "dir" / "keep.txt").write_text("keep\n")
    before = outside_snapshot(outside)
    target = outside / ("dir" if kind == "dir" else "victim.txt")
    agent = Agent(tmp_path, monkeypatch).on("planner", [{"control": {"next_goal": "work", "summary": "plan"}}])
    agent.on(
        "executor",
        [
            {"append": "work.txt", "content": "one\n"},
            {"link": f"{STATE}/{planted}", "to": str(target)},
            {"control": control("continue", "more work")},
        ],
        [{"append": "work.txt", "content": "{call}\n"}, {"control": control("continue", "more work {call}")}],
    )
    config = {"max_iterations": 3, "checks": ["true"], "checks_every_iteration": True}
    try:
        run = run_loop_in_process(git_repo, config)
        code, said = run.exit_code, run.output
    except UserError as exc:  # the journal itself refused: the command line prints this one line
        code, said = exc.exit_code, str(exc)

    assert outside_snapshot(outside) == before, said
    assert sorted(p.name for p in outside.rglob("*")) == ["dir", "keep.txt", "victim.txt"]
    if planted in REPLACED_BY_RENAME:
        assert not (git_repo / STATE / planted).is_symlink()  # the loop's own file took the link's place
        return
    assert code == 1, said
    assert f"{git_repo / STATE / planted}: a symbolic link where the loop keeps its own files" in said
    assert (git_repo / STATE / planted).is_symlink()


def test_a_state_dir_replaced_by_a_link_is_refused_at_start(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    agent = Agent(tmp_path, monkeypatch).on("planner", [{"control": {"next_goal": "work", "summary": "plan"}}])
    agent.on(
        "executor",
        [{"append": "work.txt", "content": "{call}\n"}, {"control": control("continue", "more work {call}")}],
    )
    assert run_loop_in_process(git_repo, {"max_iterations": 1}).exit_code == 2
    state = git_repo / STATE
    os.rename(state, outside / "moved")
    state.symlink_to(outside / "moved")
    before = outside_snapshot(outside)

    with pytest.raises(UserError, match="a symbolic link where the loop keeps its own files") as raised:
        run_loop_in_process(git_repo, {"max_iterations": 2})
    assert raised.value.exit_code == 1
    assert outside_snapshot(outside) == before
