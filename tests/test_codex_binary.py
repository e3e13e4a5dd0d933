"""Finding codex: CODEX_BIN, then codex.binary, then PATH, then the usual install dirs; else an install hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_self_iter.codex import TESTED_CODEX_VERSION
from codex_self_iter.codex.binary import find_codex
from codex_self_iter.errors import UserError


def fake_codex(directory: Path, name: str = "codex") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\necho codex-cli 0.0.0\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def test_codex_bin_wins_over_everything(tmp_path: Path) -> None:
    explicit = fake_codex(tmp_path / "explicit")
    on_path = fake_codex(tmp_path / "bin")
    configured = fake_codex(tmp_path / "configured")
    env = {"CODEX_BIN": str(explicit), "PATH": str(on_path.parent), "HOME": str(tmp_path)}
    assert find_codex(str(configured), env) == str(explicit)


def test_configured_binary_beats_path(tmp_path: Path) -> None:
    on_path = fake_codex(tmp_path / "bin")
    configured = fake_codex(tmp_path / "configured", "my-codex")
    env = {"PATH": str(on_path.parent), "HOME": str(tmp_path)}
    assert find_codex(str(configured), env) == str(configured)


def test_configured_bare_name_is_looked_up_on_path(tmp_path: Path) -> None:
    found = fake_codex(tmp_path / "bin", "codex-nightly")
    assert find_codex("codex-nightly", {"PATH": str(found.parent), "HOME": str(tmp_path)}) == str(found)


def test_path_then_common_locations(tmp_path: Path) -> None:
    home = tmp_path / "home"
    older = fake_codex(home / ".nvm/versions/node/v9.11.2/bin")
    newer = fake_codex(home / ".nvm/versions/node/v20.1.0/bin")
    env = {"PATH": str(tmp_path / "empty"), "HOME": str(home)}
    assert find_codex(None, env) == str(newer)  # the newest node's codex, not the alphabetically last
    older.unlink()
    npm_global = fake_codex(home / ".npm-global/bin")
    assert find_codex(None, env) == str(npm_global)
    on_path = fake_codex(tmp_path / "bin")
    assert find_codex(None, {**env, "PATH": str(on_path.parent)}) == str(on_path)


def test_missing_codex_names_the_install_command(tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path / "empty"), "HOME": str(tmp_path / "home")}
    with pytest.raises(UserError) as caught:
        find_codex(None, env)
    message = str(caught.value)
    assert f"npm install -g @openai/codex@{TESTED_CODEX_VERSION}" in message
    assert "\n" not in message


@pytest.mark.parametrize("source", ["CODEX_BIN", "codex.binary"])
def test_a_wrong_explicit_path_is_an_error_not_a_silent_fallback(tmp_path: Path, source: str) -> None:
    fake_codex(tmp_path / "bin")  # would be found on PATH, but the user asked for something else
    not_executable = tmp_path / "codex.txt"
    not_executable.write_text("", encoding="utf-8")
    env = {"PATH": str(tmp_path / "bin"), "HOME": str(tmp_path)}
    configured = None
    if source == "CODEX_BIN":
        env["CODEX_BIN"] = str(not_executable)
    else:
        configured = str(not_executable)
    with pytest.raises(UserError, match=f"{source}=.*not an executable"):
        find_codex(configured, env)
