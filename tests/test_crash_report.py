"""A bug exits 70 with one line naming a crash report (traceback, versions, argv); the state stays resumable."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import pytest

from codex_self_iter import __version__
from codex_self_iter.cli import main
from codex_self_iter.outcome import EXIT_BUG, EXIT_MEANINGS
from codex_self_iter.state.crash_report import write_crash_report
from codex_self_iter.state.snapshot import Phase, StatusSnapshot
from tests.support.faults import LoopBench, leftover_temp_files, read_json_file
from tests.test_status_contract import SNAPSHOT_KEYS

REPORT_LINE = re.compile(
    r"^codex-self-iter: internal error \(a bug; exit 70\): RuntimeError: .*; crash report: (\S.+)$"
)


def crash_report_of(stderr: str) -> Path:
    lines = stderr.splitlines()
    # The crash adds one line, the last; anything before it is the loop's own warnings from before the bug.
    assert all(line.startswith("codex-self-iter: warning: ") for line in lines[:-1]), stderr
    match = REPORT_LINE.match(lines[-1])
    assert match, lines[0]
    return Path(match.group(1))


@pytest.mark.parametrize("fault", ["raise:runtime.json:3", "raise:control.json:2", "raise:status.json:6"])
def test_a_bug_inside_the_loop_exits_70_with_one_line_and_the_next_run_resumes(bench: LoopBench, fault: str) -> None:
    code, loop = bench.run("--max-iterations", "4", fault=fault)
    assert code == EXIT_BUG, loop.stderr
    report = crash_report_of(loop.stderr)
    assert report.parent == bench.state_dir and report.is_file()
    assert "Traceback" not in loop.stderr + loop.stdout
    text = report.read_text()
    assert "Traceback (most recent call last)" in text and "RuntimeError: injected fault" in text
    assert f"codex-self-iter {__version__}" in text and "python 3." in text and "pydantic " in text
    assert "'--max-iterations', '4'" in text and str(bench.workspace) in text
    assert report.stat().st_mode & 0o077 == 0  # owner-only, like every state file

    saved = read_json_file(bench.state_dir / "runtime.json")
    assert isinstance(saved, dict) and saved["clean_exit"] is False  # the next run resumes, not restarts
    crashed = read_json_file(bench.state_dir / "status.json")
    assert set(crashed) == SNAPSHOT_KEYS and StatusSnapshot.model_validate(crashed).state is Phase.CRASHED
    done = int(saved["iteration"])
    code, again = bench.run("--max-iterations", str(done + 2))
    assert code == 2, again.stderr
    assert "did not exit cleanly" in again.stderr and "Traceback" not in again.stderr
    runtime = bench.runtime()
    assert runtime["iteration"] == done + 2 and runtime["clean_exit"] is True
    assert list(leftover_temp_files(bench.state_dir)) == []


def test_a_bug_in_a_command_without_a_state_dir_writes_the_report_to_the_temp_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    try:
        raise ValueError("boom")
    except ValueError as exc:
        path = write_crash_report(exc, ["codex-self-iter", "status"], None)
    assert path is not None and path.parent == tmp_path and path.name.startswith("codex-self-iter-crash-")
    assert "ValueError: boom" in path.read_text() and "['codex-self-iter', 'status']" in path.read_text()


def test_exit_70_is_in_the_table_the_help_and_the_docs(capsys: pytest.CaptureFixture[str]) -> None:
    assert EXIT_MEANINGS[70].startswith("a bug")
    assert main(["--help"]) == 0
    assert "70 a bug" in capsys.readouterr().out
    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    skill = (root / "src/codex_self_iter/plugin_bundle/skills/codex-self-iter/SKILL.md").read_text()
    assert re.search(r"^\| 70 \|.*crash report", readme, re.M)
    assert "70" in skill and "crash report" in skill
    assert json.dumps(EXIT_MEANINGS)  # the table is plain data
