"""Shared fixtures: an isolated HOME per test, real temporary git repos, and the real codex binary when present."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.background_loop import BackgroundLoop
from tests.support.codex_home import write_codex_home
from tests.support.e2e_loop import CodexLoop
from tests.support.fake_responses_server import FakeResponsesServer
from tests.support.faults import LoopBench
from tests.support.loop_harness import FakeTime

SECRET_VARS = ("CODEX_API_KEY", "OPENAI_API_KEY", "CODEX_SELF_ITER_AGENT_MODE")


@pytest.fixture(scope="session", autouse=True)
def no_user_state_home() -> Iterator[None]:
    """Private state goes under each test's HOME (or where a module puts it), never the user's XDG_STATE_HOME."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("XDG_STATE_HOME", raising=False)
        yield


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own HOME and CODEX_HOME, and a git identity, so nothing of the user's leaks in."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("CODEX_HOME", str(home / ".codex"))
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "test@example.invalid")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "test@example.invalid")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in SECRET_VARS:
        monkeypatch.delenv(name, raising=False)
    yield home


def git(cwd: Path, *args: str) -> str:
    """Run git in cwd and return its stdout."""
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    """A real git repository with one commit, a TASK.md and a plan.md."""
    repo = tmp_path / "work space"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "TASK.md").write_text("# Task\nMake hello.txt say hello.\n", encoding="utf-8")
    (repo / "plan.md").write_text("# Plan\n- [ ] write hello.txt\n", encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    return repo


def find_codex() -> str | None:
    """The real codex binary for tests: CODEX_SELF_ITER_TEST_CODEX (set by scripts/dev-test.sh), then PATH."""
    explicit = os.environ.get("CODEX_SELF_ITER_TEST_CODEX")
    if explicit and Path(explicit).exists():
        return explicit
    return shutil.which("codex")


@pytest.fixture
def codex_bin() -> str:
    """The real codex CLI; skipped with a reason when absent, a failure when CI requires it."""
    found = find_codex()
    if found is None:
        if os.environ.get("CODEX_SELF_ITER_REQUIRE_CODEX") == "1":
            pytest.fail("codex CLI not found but CODEX_SELF_ITER_REQUIRE_CODEX=1 (CI must install the pinned version)")
        pytest.skip("codex CLI not installed; run scripts/dev-test.sh (installs the pinned @openai/codex) to run this")
    return found


@pytest.fixture
def server(codex_bin: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeResponsesServer]:
    """A fake model server, CODEX_HOME pointing codex at it, and CODEX_BIN set to the real codex."""
    with FakeResponsesServer() as fake:
        write_codex_home(Path(os.environ["CODEX_HOME"]), fake.url)
        monkeypatch.setenv("CODEX_BIN", codex_bin)
        yield fake


@pytest.fixture
def bench(git_repo: Path, tmp_path: Path) -> Iterator[LoopBench]:
    """The loop as a separate process on git_repo, with fault injection (tests/support/faults.py)."""
    home = tmp_path / "bench"
    home.mkdir()
    loops = LoopBench(git_repo, home)
    yield loops
    loops.cleanup()


@pytest.fixture
def loop(codex_bin: str, git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CodexLoop]:
    """A fake model server, CODEX_HOME pointing codex at it, CODEX_BIN naming the real codex, and a fake clock
    that starts at the real time (codex states usage-limit resets in wall-clock time)."""
    with FakeResponsesServer() as server:
        write_codex_home(Path(os.environ["CODEX_HOME"]), server.url)
        monkeypatch.setenv("CODEX_BIN", codex_bin)
        yield CodexLoop(server, git_repo, FakeTime(now=time.time()))


@pytest.fixture
def loops() -> Iterator[list[BackgroundLoop]]:
    """Background loop processes a test starts (tests/support/background_loop.py); all ended after the test."""
    started: list[BackgroundLoop] = []
    yield started
    for loop in started:
        loop.close()
