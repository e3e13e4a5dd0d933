"""install-hooks: the Stop hook merged into an existing hooks.json, every other byte kept; idempotent; removable."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from codex_self_iter.cli import main
from codex_self_iter.session.hookspec import hook_command, identity_hash, trust_key

EXISTING = """{
\t"description": "my hooks \\u00e9",
\t"hooks": {
\t\t"PreToolUse": [ { "matcher": "Bash", "hooks": [ {"type":"command","command":"echo pre","timeout":5} ] } ],
\t\t"Stop": [
\t\t\t{"hooks": [{"type": "command", "command": "notify-send done"}]}
\t\t]
\t}
}
"""


def install(*args: str) -> int:
    return main(["install-hooks", *args])


def removed_insertion(before: str, after: str) -> str:
    """after with the one contiguous chunk that install added taken out."""
    start = next(i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b)
    end = len(after) - (len(before) - start)
    return after[:start] + after[end:]


@pytest.mark.parametrize(
    "original",
    [
        EXISTING,
        '{"hooks": {"PreToolUse": []}}',
        '{"description": "none yet"}\n',
        '{"hooks": {"Stop": []}}',
    ],
)
def test_install_keeps_every_other_byte_and_uninstall_restores_them(tmp_path: Path, original: str) -> None:
    path = tmp_path / "hooks.json"
    path.write_text(original, encoding="utf-8")
    assert install("--codex-home", str(tmp_path)) == 0
    after = path.read_text(encoding="utf-8")
    assert removed_insertion(original, after) == original
    data = json.loads(after)
    ours = data["hooks"]["Stop"][-1]["hooks"]
    assert ours == [{"type": "command", "command": hook_command(), "timeout": 600}]
    assert install("--codex-home", str(tmp_path), "--uninstall") == 0
    if '"Stop"' in original:
        assert path.read_text(encoding="utf-8") == original
    else:
        assert json.loads(path.read_text(encoding="utf-8"))["hooks"]["Stop"] == []


def test_install_is_idempotent_and_replaces_an_outdated_command(tmp_path: Path) -> None:
    path = tmp_path / "hooks.json"
    assert install("--codex-home", str(tmp_path)) == 0
    first = path.read_bytes()
    assert install("--codex-home", str(tmp_path)) == 0
    assert path.read_bytes() == first
    old = json.loads(first)
    old["hooks"]["Stop"][0]["hooks"][0]["command"] = "/old/python -m codex_self_iter hook stop"
    path.write_text(json.dumps(old), encoding="utf-8")
    assert install("--codex-home", str(tmp_path)) == 0
    groups = json.loads(path.read_text())["hooks"]["Stop"]
    assert [h["command"] for g in groups for h in g["hooks"]] == [hook_command()]


def test_trust_writes_the_hash_codex_expects_and_keeps_the_config(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('model = "gpt-5.5"  # mine\n\n[features]\nhooks = true\n', encoding="utf-8")
    assert install("--codex-home", str(tmp_path), "--trust") == 0
    text = config.read_text(encoding="utf-8")
    assert text.startswith('model = "gpt-5.5"  # mine\n\n[features]\nhooks = true\n')
    key = trust_key(tmp_path / "hooks.json", 0, 0)
    handler = {"type": "command", "command": hook_command(), "timeout": 600}
    assert tomllib.loads(text)["hooks"]["state"][key]["trusted_hash"] == identity_hash("stop", handler)
    assert install("--codex-home", str(tmp_path), "--trust") == 0
    assert config.read_text(encoding="utf-8") == text


def test_repo_layer_and_bad_files_get_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert install("--repo", str(tmp_path)) == 0
    assert (tmp_path / ".codex" / "hooks.json").is_file()
    bad = tmp_path / "home"
    bad.mkdir()
    (bad / "hooks.json").write_text("{broken", encoding="utf-8")
    capsys.readouterr()
    assert install("--codex-home", str(bad)) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(bad / "hooks.json") in err and "not valid JSON" in err
    assert (bad / "hooks.json").read_text() == "{broken"


@pytest.mark.codex
@pytest.mark.timeout(120)
def test_doctor_asks_codex_whether_the_hook_is_installed_enabled_and_trusted(
    codex_bin: str, git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import os

    from codex_self_iter.commands.diagnose import OK, WARN, hook_finding
    from codex_self_iter.plugin.install import install_plugin

    home = Path(os.environ["CODEX_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("CODEX_BIN", codex_bin)
    assert "not installed" in hook_finding(codex_bin, git_repo).what
    assert install("--codex-home", str(home)) == 0
    untrusted = hook_finding(codex_bin, git_repo)
    assert untrusted.level == WARN and "not trusted: Codex skips it silently" in untrusted.what
    assert "install-hooks --trust" in untrusted.fix
    assert install("--codex-home", str(home), "--trust") == 0  # the hash we compute is the one codex expects
    trusted = hook_finding(codex_bin, git_repo)
    assert (trusted.level, trusted.what.split(" (")[0]) == (OK, "in-session hook: installed, enabled and trusted")
    assert install_plugin(home, False, io.StringIO()) == 0
    both = hook_finding(codex_bin, git_repo)
    assert both.level == OK and "plugin codex-self-iter@" in both.what and "untrusted" in both.what
