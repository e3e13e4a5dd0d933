"""Installing the plugin with the real codex CLI, offline, in the per-test CODEX_HOME of conftest."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from codex_self_iter import __version__
from codex_self_iter.codex.binary import COMMON_DIRS
from codex_self_iter.plugin.install import install_plugin, plugin_status
from codex_self_iter.plugin.marketplace import BUNDLE_DIR, MARKETPLACE_NAME, PLUGIN_ID, PLUGIN_NAME, MarketplaceLayout

pytestmark = pytest.mark.codex

REPO_ROOT = Path(__file__).resolve().parents[1]
SKILL_ENTRY = f"{PLUGIN_NAME}:{PLUGIN_NAME}: "


@pytest.fixture
def codex_home(codex_bin: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's CODEX_HOME (not created: install_plugin must create it), with CODEX_BIN naming the real codex."""
    monkeypatch.setenv("CODEX_BIN", codex_bin)
    return Path(os.environ["CODEX_HOME"])


def add_repo_marketplace_plugin(codex_home: Path) -> dict[str, Any]:
    """Install the plugin the way the README tells repository users to."""
    codex_home.mkdir(exist_ok=True)
    added = codex_json("plugin", "marketplace", "add", str(REPO_ROOT))
    assert added["marketplaceName"] == PLUGIN_NAME
    result: dict[str, Any] = codex_json("plugin", "add", f"{PLUGIN_NAME}@{PLUGIN_NAME}")
    return result


def codex(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [os.environ["CODEX_BIN"], *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def codex_json(*args: str) -> Any:
    return json.loads(codex(*args, "--json"))


def installed() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = codex_json("plugin", "list")["installed"]
    return rows


def marketplaces() -> list[str]:
    return [row["name"] for row in codex_json("plugin", "marketplace", "list")["marketplaces"]]


def skill_line(workspace: Path) -> str | None:
    """The plugin's skill entry in the model-visible prompt codex would send from workspace."""
    prompt = codex("debug", "prompt-input", "hello", cwd=workspace)
    return next((line for line in prompt.split("\\n") if SKILL_ENTRY in line), None)


def install(
    codex_home: Path | None = None, uninstall: bool = False, bundle: Path | None = None
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = install_plugin(codex_home, uninstall, out, err=err, bundle=bundle)
    return code, out.getvalue(), err.getvalue()


def bumped_bundle(tmp_path: Path, version: str) -> Path:
    bundle = tmp_path / "bundle"
    shutil.copytree(BUNDLE_DIR, bundle)
    manifest = bundle / ".codex-plugin" / "plugin.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    manifest.write_text(json.dumps({**data, "version": version}), encoding="utf-8")
    return bundle


def test_repo_checkout_is_a_marketplace_that_installs_only_the_bundle(codex_home: Path, git_repo: Path) -> None:
    result = add_repo_marketplace_plugin(codex_home)
    (row,) = installed()
    assert (row["pluginId"], row["version"], row["enabled"]) == (f"{PLUGIN_NAME}@{PLUGIN_NAME}", __version__, True)
    copied = sorted(p.relative_to(result["installedPath"]).as_posix() for p in Path(result["installedPath"]).rglob("*"))
    bundled = sorted(p.relative_to(BUNDLE_DIR).as_posix() for p in BUNDLE_DIR.rglob("*"))
    assert copied == bundled
    line = skill_line(git_repo)
    assert line is not None and "run the project's own checks" in line


def test_install_plugin_installs_an_enabled_plugin_codex_sees(codex_home: Path, git_repo: Path) -> None:
    code, out, err = install()
    assert (code, err) == (0, "")
    assert f"Installed {PLUGIN_NAME} {__version__} as {PLUGIN_ID}" in out
    (row,) = installed()
    assert (row["pluginId"], row["version"], row["installed"], row["enabled"]) == (PLUGIN_ID, __version__, True, True)
    assert skill_line(git_repo) is not None
    status = plugin_status(None)
    assert status.up_to_date and status.marketplace == MARKETPLACE_NAME and status.error is None


def test_install_plugin_twice_changes_nothing(codex_home: Path) -> None:
    assert install()[0] == 0
    config = (codex_home / "config.toml").read_text(encoding="utf-8")
    code, out, err = install()
    assert (code, err) == (0, "")
    assert "already installed and enabled" in out
    assert (codex_home / "config.toml").read_text(encoding="utf-8") == config
    assert [row["pluginId"] for row in installed()] == [PLUGIN_ID]


def test_install_plugin_re_enables_a_disabled_plugin(codex_home: Path) -> None:
    assert install()[0] == 0
    config = codex_home / "config.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("enabled = true", "enabled = false"), encoding="utf-8")
    assert not plugin_status(None).enabled
    code, out, _ = install()
    assert code == 0 and f"Re-enabled {PLUGIN_NAME}" in out
    assert plugin_status(None).up_to_date


def test_uninstall_removes_plugin_marketplace_and_files(codex_home: Path, git_repo: Path) -> None:
    assert install()[0] == 0
    code, out, err = install(uninstall=True)
    assert (code, err) == (0, "")
    assert f"removed plugin {PLUGIN_ID}" in out and f"removed marketplace {MARKETPLACE_NAME}" in out
    assert installed() == []
    assert MARKETPLACE_NAME not in marketplaces()
    assert not MarketplaceLayout(codex_home).root.exists()
    assert not MarketplaceLayout(codex_home).cache(__version__).exists()
    assert skill_line(git_repo) is None
    assert not plugin_status(None).installed
    code, out, _ = install(uninstall=True)
    assert code == 0 and "nothing to do" in out


def test_uninstall_works_after_the_marketplace_dir_was_deleted(codex_home: Path) -> None:
    assert install()[0] == 0
    shutil.rmtree(MarketplaceLayout(codex_home).root)
    code, out, err = install(uninstall=True)
    assert (code, err) == (0, "")
    assert f"removed plugin {PLUGIN_ID}" in out
    assert installed() == [] and MARKETPLACE_NAME not in marketplaces()


def test_new_version_replaces_the_installed_one(codex_home: Path, tmp_path: Path) -> None:
    assert install()[0] == 0
    code, out, err = install(bundle=bumped_bundle(tmp_path, "99.1.0"))
    assert (code, err) == (0, "")
    assert f"Updated {PLUGIN_NAME} from {__version__} to 99.1.0" in out
    assert [(row["pluginId"], row["version"]) for row in installed()] == [(PLUGIN_ID, "99.1.0")]
    layout = MarketplaceLayout(codex_home)
    assert layout.cache("99.1.0").is_dir() and not layout.cache(__version__).exists()
    assert not layout.backup.exists()


def test_plugin_installed_from_another_marketplace_is_refused(codex_home: Path) -> None:
    add_repo_marketplace_plugin(codex_home)
    code, out, err = install()
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and f"already installed from marketplace '{PLUGIN_NAME}'" in err
    assert f"codex plugin remove {PLUGIN_NAME}@{PLUGIN_NAME}" in err
    assert MARKETPLACE_NAME not in marketplaces()
    assert not MarketplaceLayout(codex_home).root.exists()


def test_failed_plugin_add_leaves_nothing_behind(codex_home: Path) -> None:
    (codex_home / "plugins").mkdir(parents=True)
    (codex_home / "plugins" / "cache").write_text("not a directory", encoding="utf-8")
    code, out, err = install()
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "codex plugin add" in err and "plugin cache directory" in err
    assert MARKETPLACE_NAME not in marketplaces()
    assert MARKETPLACE_NAME not in (codex_home / "config.toml").read_text(encoding="utf-8")
    assert not MarketplaceLayout(codex_home).root.exists()


def test_codex_bin_naming_nothing_is_one_clear_error(
    codex_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEX_BIN", str(tmp_path / "no-such-codex"))
    code, out, err = install()
    assert (code, out) == (1, "")
    assert err.startswith("codex-self-iter: error: CODEX_BIN=") and err.count("\n") == 1
    assert not codex_home.exists()
    status = plugin_status(None)
    assert not status.installed and status.error is not None and "CODEX_BIN" in status.error


def test_codex_missing_from_path_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if any(Path(place, "codex").exists() for place in COMMON_DIRS if not place.startswith("~")):
        pytest.skip("a codex is installed in a common place outside PATH, which the lookup finds on purpose")
    monkeypatch.delenv("CODEX_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    code, out, err = install()
    assert (code, out) == (1, "")
    assert err.startswith("codex-self-iter: error: codex CLI not found") and err.count("\n") == 1
    assert not Path(os.environ["CODEX_HOME"]).exists()


def test_status_of_a_codex_home_that_does_not_exist_yet(codex_home: Path) -> None:
    status = plugin_status(None)
    assert (status.installed, status.enabled, status.version, status.error) == (False, False, None, None)
    assert status.bundled_version == __version__
    assert not codex_home.exists()


def test_codex_home_that_is_a_file_is_one_clear_error(codex_home: Path, tmp_path: Path) -> None:
    not_a_dir = tmp_path / "codex-home-file"
    not_a_dir.write_text("", encoding="utf-8")
    code, out, err = install(not_a_dir)
    assert (code, out) == (1, "")
    assert f"CODEX_HOME {not_a_dir} is not a directory" in err and err.count("\n") == 1


def test_codex_home_that_cannot_be_created_is_one_clear_error(codex_home: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("", encoding="utf-8")
    code, out, err = install(blocker / "codex")
    assert (code, out) == (1, "")
    assert f"CODEX_HOME {blocker / 'codex'} is not writable" in err and err.count("\n") == 1


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes into read-only directories")
def test_read_only_codex_home_is_one_clear_error(codex_home: Path, tmp_path: Path) -> None:
    read_only = tmp_path / "read-only-home"
    read_only.mkdir(mode=0o500)
    try:
        code, out, err = install(read_only)
    finally:
        read_only.chmod(0o700)
    assert (code, out) == (1, "")
    assert "is not writable (Permission denied)" in err
    assert list(read_only.iterdir()) == []
