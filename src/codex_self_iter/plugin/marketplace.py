"""The local marketplace dir under CODEX_HOME that carries the plugin bundle shipped as package data."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from codex_self_iter.plugin.codex_cli import PluginInstallError

PLUGIN_NAME = "codex-self-iter"
MARKETPLACE_NAME = "codex-self-iter-bundled"
PLUGIN_ID = f"{PLUGIN_NAME}@{MARKETPLACE_NAME}"
BUNDLE_DIR = Path(__file__).resolve().parents[1] / "plugin_bundle"
IGNORED_NAMES = frozenset({"__pycache__", ".DS_Store"})


@dataclass(frozen=True)
class MarketplaceLayout:
    """Where install-plugin keeps its marketplace, and where codex caches the installed plugin."""

    codex_home: Path

    @property
    def root(self) -> Path:
        """Everything install-plugin writes itself lives under this dir."""
        return self.codex_home / PLUGIN_NAME

    @property
    def marketplace(self) -> Path:
        """The marketplace root handed to `codex plugin marketplace add`."""
        return self.root / "marketplace"

    @property
    def backup(self) -> Path:
        """The previous marketplace, kept until the new one is installed."""
        return self.root / "marketplace.previous"

    def cache(self, version: str) -> Path:
        """Where codex copies the installed plugin (observed with codex-cli 0.169.0)."""
        return self.codex_home / "plugins" / "cache" / MARKETPLACE_NAME / PLUGIN_NAME / version


def bundle_version(bundle: Path) -> str:
    """The version in the bundle's plugin manifest; PluginInstallError when the bundle is broken."""
    manifest = bundle / ".codex-plugin" / "plugin.json"
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PluginInstallError(f"{manifest}: unreadable plugin manifest ({exc}); reinstall codex-self-iter") from exc
    if not isinstance(data, dict) or data.get("name") != PLUGIN_NAME or not isinstance(data.get("version"), str):
        raise PluginInstallError(f"{manifest}: not the {PLUGIN_NAME} manifest; reinstall codex-self-iter")
    return str(data["version"])


def materialise(bundle: Path, layout: MarketplaceLayout, on_undo: Callable[..., object]) -> bool:
    """Make the marketplace hold exactly the bundle, registering how to undo it; False when it already does."""
    index = layout.marketplace / ".agents" / "plugins" / "marketplace.json"
    if index.is_file() and same_tree(bundle, layout.marketplace / "plugins" / PLUGIN_NAME):
        return False
    created_root = not layout.root.exists()
    try:
        layout.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="marketplace.", dir=layout.root))
        _write_marketplace(bundle, staging)
        shutil.rmtree(layout.backup, ignore_errors=True)
        if layout.marketplace.exists():
            layout.marketplace.rename(layout.backup)
        staging.rename(layout.marketplace)
    except OSError as exc:
        raise PluginInstallError(f"cannot write {layout.marketplace} ({exc.strerror or exc})") from exc
    on_undo(_restore, layout, created_root)
    return True


def drop_backup(layout: MarketplaceLayout) -> None:
    """Forget the previous marketplace once the new one is installed."""
    shutil.rmtree(layout.backup, ignore_errors=True)


def _write_marketplace(bundle: Path, root: Path) -> None:
    index = {
        "name": MARKETPLACE_NAME,
        "interface": {"displayName": "codex-self-iter (installed package)"},
        "plugins": [
            {
                "name": PLUGIN_NAME,
                "source": {"source": "local", "path": f"./plugins/{PLUGIN_NAME}"},
                "policy": {"installation": "AVAILABLE", "authentication": "ON_INSTALL"},
                "category": "Developer Tools",
            }
        ],
    }
    (root / ".agents" / "plugins").mkdir(parents=True)
    (root / ".agents" / "plugins" / "marketplace.json").write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
    shutil.copytree(bundle, root / "plugins" / PLUGIN_NAME, ignore=shutil.ignore_patterns(*IGNORED_NAMES))


def _restore(layout: MarketplaceLayout, created_root: bool) -> None:
    shutil.rmtree(layout.marketplace, ignore_errors=True)
    if layout.backup.exists():
        layout.backup.rename(layout.marketplace)
    if created_root:
        shutil.rmtree(layout.root, ignore_errors=True)


def same_tree(left: Path, right: Path) -> bool:
    """True when both dirs hold the same files with the same bytes (caches ignored)."""
    files_left, files_right = _files(left), _files(right)
    if files_left is None or files_right is None or files_left.keys() != files_right.keys():
        return False
    return all(files_left[name].read_bytes() == files_right[name].read_bytes() for name in files_left)


def _files(root: Path) -> dict[str, Path] | None:
    if not root.is_dir():
        return None
    found: dict[str, Path] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [name for name in dirnames if name not in IGNORED_NAMES]
        for name in filenames:
            if name not in IGNORED_NAMES:
                path = Path(dirpath, name)
                found[path.relative_to(root).as_posix()] = path
    return found
