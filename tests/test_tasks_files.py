"""Task files: what a valid one looks like, and one clear line (exit 1, nothing touched) for each bad one."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_self_iter.cli import main
from codex_self_iter.tasks.files import read_task, scan_tasks, task_markdown, write_task
from tests.support.loop_harness import Agent, control, fake_template, run_loop_in_process
from tests.support.task_files import plan, queue_state, review

GOOD = "# Add divide\n\nSome words.\n\n## Done when\n\n- divide(6, 3) == 2\n- [ ] dividing by zero raises\n"


def test_a_task_file_has_a_title_done_criteria_and_an_origin(tmp_path: Path) -> None:
    path = tmp_path / "tasks" / "007-add-divide.md"
    path.parent.mkdir()
    path.write_text("---\norigin: audit\n---\n" + GOOD)
    task = read_task(path, tmp_path)
    assert (task.id, task.title, task.origin) == ("007", "Add divide", "audit")
    assert task.done_when == ("divide(6, 3) == 2", "dividing by zero raises")
    written = write_task(tmp_path / "tasks", 8, "Fix: the  README!", "why", ["it says so"], "audit")
    assert written.name == "008-fix-the-readme.md"
    assert read_task(written, tmp_path).done_when == ("it says so",)
    assert task_markdown("T", "", ["x"], "user") == "# T\n\n## Done when\n\n- x\n"
    assert scan_tasks(tmp_path / "nothing-here", tmp_path) is None  # no tasks/: the single-objective loop


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"001-a.md": "# A\n\nno criteria here\n"}, "tasks/001-a.md: no done criteria; add a '## Done when' section"),
        ({"001-a.md": "# A\n\n## Done when\n\nnothing listed\n"}, "tasks/001-a.md: no done criteria"),
        ({"001-a.md": GOOD, "001-b.md": GOOD}, "tasks/001-a.md and tasks/001-b.md: both are task 001; renumber one"),
        ({}, "tasks/: no task files; add tasks/001-<slug>.md"),
        ({"first.md": GOOD}, "tasks/first.md: not a task file name; name it NNN-<slug>.md"),
        ({"001-a.md": "---\norigin: robot\n---\n" + GOOD}, "front matter: origin: 'robot'; use one of user, init"),
        ({"001-a.md": "---\nowner: me\n---\n" + GOOD}, "tasks/001-a.md: front matter: owner: unknown key"),
        ({"001-a.md": "---\norigin: audit\n" + GOOD}, "front matter starts with '---' but never ends"),
    ],
)
def test_bad_task_files_are_one_line_and_exit_1_with_nothing_touched(
    git_repo: Path, files: dict[str, str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = git_repo / "tasks"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    before = {p.name: p.read_text() for p in git_repo.rglob("*") if p.is_file() and ".git" not in p.parts}

    code = main(["run", "--workspace", str(git_repo), "--agent-command-template", fake_template()])

    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("codex-self-iter: error: ") and expected in err, err
    assert "Traceback" not in err
    assert not (git_repo / ".codex-self-iter").exists()  # nothing ran, nothing was written
    assert {p.name: p.read_text() for p in git_repo.rglob("*") if p.is_file() and ".git" not in p.parts} == before


def test_a_bad_task_file_written_mid_run_stops_with_bad_input_and_keeps_the_queue(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = git_repo / "tasks"
    folder.mkdir()
    (folder / "001-a.md").write_text(GOOD)
    agent = Agent(tmp_path, monkeypatch)
    agent.on("planner", [plan("write a.txt")])
    agent.on("executor", [{"write": "tasks/002-b.md", "content": "# B\n"}, {"write": "a.txt", "content": "a"},
                          {"control": control("complete")}])  # fmt: skip
    agent.on("reviewer", [review()])
    run = run_loop_in_process(git_repo, {"max_iterations": 5})

    assert run.exit_code == 1, run.output
    assert "stopped: bad_input (exit 1) — tasks/002-b.md: no done criteria" in run.output
    assert queue_state(run.state_dir)["001"]["state"] == "done"
    assert run.status["stop_reason"] == "bad_input"


def test_doctor_checks_the_task_files(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = git_repo / "tasks"
    folder.mkdir()
    (folder / "001-a.md").write_text(GOOD)
    main(["doctor", "--workspace", str(git_repo)])
    assert "tasks: 1 task file(s) in" in capsys.readouterr().out
    (folder / "002-b.md").write_text("# B\n")
    assert main(["doctor", "--workspace", str(git_repo)]) == 1
    assert "tasks: tasks/002-b.md: no done criteria" in capsys.readouterr().out
