"""A workspace for in-session tests: a buggy add() and a unittest check that fails until it is fixed."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from codex_self_iter.cli import main
from tests.conftest import git

BUGGY = "def add(a, b):\n    return a - b\n"
FIXED = "def add(a, b):\n    return a + b\n"
TEST = (
    "import unittest\n\nfrom calc import add\n\n\nclass AddTest(unittest.TestCase):\n"
    "    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n"
)
WEAKENED = "import unittest\n\n\nclass AddTest(unittest.TestCase):\n    def test_add(self):\n        pass\n"
CHECK = f"{sys.executable} -m unittest -q"
FAILURE_TEXT = "AssertionError: -1 != 5"


def make_workspace(repo: Path) -> Path:
    """calc.py with the bug and test_calc.py, committed."""
    (repo / "calc.py").write_text(BUGGY, encoding="utf-8")
    (repo / "test_calc.py").write_text(TEST, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=Test", "-c", "user.email=test@example.invalid", "commit", "-q", "-m", "calc")
    return repo


def stop_event(workspace: Path, message: str, session: str = "s1", **more: object) -> bytes:
    """A Stop payload as Codex 0.169 sends it."""
    payload = {
        "session_id": session,
        "turn_id": "t1",
        "transcript_path": None,
        "cwd": str(workspace),
        "hook_event_name": "Stop",
        "model": "gpt-5.5",
        "permission_mode": "default",
        "stop_hook_active": False,
        "last_assistant_message": message,
        **more,
    }
    return json.dumps(payload).encode()


def session_status(workspace: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """`session status --json` of the workspace, parsed."""
    capsys.readouterr()
    assert main(["session", "status", "--json", "--workspace", str(workspace)]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]
