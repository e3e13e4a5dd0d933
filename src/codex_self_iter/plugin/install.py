"""`install-plugin`: install the plugin shipped in this package into Codex, or remove it; and its status."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from codex_self_iter.outcome import EXIT_BAD_INPUT
from codex_self_iter.plugin.codex_cli import CodexPlugins, InstalledPlugin, PluginInstallError, locate_codex
from codex_self_iter.plugin.marketplace import (
    BUNDLE_DIR,
    MARKETPLACE_NAME,
    PLUGIN_ID,
    PLUGIN_NAME,
    MarketplaceLayout,
    bundle_version,
    drop_backup,
    materialise,
    same_tree,
)

EXIT_FAILED = EXIT_BAD_INPUT


@dataclass(frozen=True)
class PluginStatus:
    """Whether Codex has the codex-self-iter plugin, as `codex plugin list --json` reports it."""

    installed: bool
    enabled: bool
    version: str | None
    marketplace: str | None
    bundled_version: str | None
    error: str | None = None

    @property
    def up_to_date(self) -> bool:
        """True when installed, enabled and at the version this package ships."""
        return self.installed and self.enabled and self.version == self.bundled_version


def install_plugin(
    codex_home: Path | None,
    uninstall: bool,
    out: TextIO,
    *,
    err: TextIO | None = None,
    bundle: Path | None = None,
) -> int:
    """Install (uninstall=True: remove) the bundled plugin in CODEX_HOME; 0 on success, 1 after one error line."""
    try:
        codex = locate_codex()
        layout = MarketplaceLayout(resolve_codex_home(codex_home, create=not uninstall))
        plugins = CodexPlugins(codex, layout.codex_home)
        if uninstall:
            _uninstall(plugins, layout, out)
        else:
            _install(plugins, layout, bundle or BUNDLE_DIR, out)
    except PluginInstallError as exc:
        print(f"codex-self-iter: error: {exc}", file=err or sys.stderr)
        return EXIT_FAILED
    return 0


def plugin_status(codex_home: Path | None) -> PluginStatus:
    """What codex reports about the codex-self-iter plugin, from any marketplace (for `doctor`)."""
    try:
        bundled: str | None = bundle_version(BUNDLE_DIR)
    except PluginInstallError:
        bundled = None
    try:
        codex = locate_codex()
        home = resolve_codex_home(codex_home, create=False)
        rows = _ours(CodexPlugins(codex, home).installed()) if home.is_dir() else []
    except PluginInstallError as exc:
        return PluginStatus(False, False, None, None, bundled, str(exc))
    if not rows:
        return PluginStatus(False, False, None, None, bundled)
    row = next((r for r in rows if r.enabled), rows[0])
    return PluginStatus(True, row.enabled, row.version, row.marketplace, bundled)


def resolve_codex_home(codex_home: Path | None, create: bool = True) -> Path:
    """The given dir, else $CODEX_HOME, else ~/.codex; created and checked writable when create is set."""
    home = Path(codex_home or os.environ.get("CODEX_HOME") or Path.home() / ".codex").expanduser().absolute()
    if home.exists() and not home.is_dir():
        raise PluginInstallError(f"CODEX_HOME {home} is not a directory; pass --codex-home DIR")
    if not create:
        return home
    try:
        home.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".codex-self-iter-probe-", dir=home)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise PluginInstallError(
            f"CODEX_HOME {home} is not writable ({exc.strerror or exc}); fix its permissions or pass --codex-home DIR"
        ) from exc
    return home


def _ours(rows: list[InstalledPlugin]) -> list[InstalledPlugin]:
    return [row for row in rows if row.name == PLUGIN_NAME]


def _install(codex: CodexPlugins, layout: MarketplaceLayout, bundle: Path, out: TextIO) -> None:
    version = bundle_version(bundle)
    with contextlib.ExitStack() as undo:
        changed = materialise(bundle, layout, undo.callback)
        rows = _ours(codex.installed())
        for row in rows:
            if row.marketplace != MARKETPLACE_NAME:
                raise PluginInstallError(
                    f"{PLUGIN_NAME} is already installed from marketplace {row.marketplace!r}; "
                    f"keep that one, or remove it first with `codex plugin remove {row.plugin_id}`"
                )
        current = rows[0] if rows else None
        if not changed and _is_current(current, version, bundle, layout):
            undo.pop_all()
            print(f"{PLUGIN_NAME} {version} is already installed and enabled in {layout.codex_home}", file=out)
            return
        added = codex.run("marketplace", "add", str(layout.marketplace))
        if not added.get("alreadyAdded", False):
            undo.callback(_quietly, lambda: codex.run("marketplace", "remove", MARKETPLACE_NAME))
        codex.run("add", PLUGIN_ID)
        undo.pop_all()
    drop_backup(layout)
    print(_installed_message(current, version, layout), file=out)


def _is_current(row: InstalledPlugin | None, version: str, bundle: Path, layout: MarketplaceLayout) -> bool:
    if row is None or not row.enabled or row.version != version:
        return False
    return same_tree(bundle, layout.cache(version))


def _installed_message(previous: InstalledPlugin | None, version: str, layout: MarketplaceLayout) -> str:
    if previous is None:
        action = f"Installed {PLUGIN_NAME} {version}"
    elif previous.version != version:
        action = f"Updated {PLUGIN_NAME} from {previous.version} to {version}"
    elif not previous.enabled:
        action = f"Re-enabled {PLUGIN_NAME} {version}"
    else:
        action = f"Reinstalled {PLUGIN_NAME} {version}"
    return (
        f"{action} as {PLUGIN_ID} in {layout.codex_home}\n"
        f"  marketplace {MARKETPLACE_NAME}: {layout.marketplace}\n"
        f"  installed copy: {layout.cache(version)}\n"
        "Start a new Codex session to use it; `codex plugin list` shows it."
    )


def _uninstall(codex: CodexPlugins, layout: MarketplaceLayout, out: TextIO) -> None:
    nothing = f"{PLUGIN_NAME} is not installed in {layout.codex_home}; nothing to do"
    if not layout.codex_home.is_dir():
        print(nothing, file=out)
        return
    had_files = layout.root.exists()
    try:
        done = _unregister(codex, layout, out)
    except PluginInstallError:
        if not had_files:
            shutil.rmtree(layout.root, ignore_errors=True)
        raise
    shutil.rmtree(layout.root, ignore_errors=True)
    if had_files:
        done.append(f"deleted {layout.root}")
    print(f"Uninstalled {PLUGIN_NAME} from {layout.codex_home}: {'; '.join(done)}" if done else nothing, file=out)


def _unregister(codex: CodexPlugins, layout: MarketplaceLayout, out: TextIO) -> list[str]:
    # codex refuses to list anything while a configured local marketplace dir is missing: put ours back first.
    materialise(BUNDLE_DIR, layout, lambda *_: None)
    done: list[str] = []
    for row in _ours(codex.installed()):
        if row.marketplace == MARKETPLACE_NAME:
            codex.run("remove", PLUGIN_ID)
            done.append(f"removed plugin {PLUGIN_ID}")
        else:
            print(f"note: {row.plugin_id} was not installed by install-plugin; left in place", file=out)
    if MARKETPLACE_NAME in codex.marketplace_names():
        codex.run("marketplace", "remove", MARKETPLACE_NAME)
        done.append(f"removed marketplace {MARKETPLACE_NAME}")
    return done


def _quietly(action: Callable[[], object]) -> None:
    with contextlib.suppress(PluginInstallError):
        action()
