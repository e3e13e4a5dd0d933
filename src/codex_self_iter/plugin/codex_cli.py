"""The `codex plugin ...` commands install-plugin needs, run through the real codex CLI with JSON output."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_self_iter.codex.binary import find_codex
from codex_self_iter.errors import UserError
from codex_self_iter.proc.process import run_process

CODEX_TIMEOUT_SEC = 60.0


class PluginInstallError(UserError):
    """Installing or removing the plugin failed; nothing was left half-done."""


@dataclass(frozen=True)
class InstalledPlugin:
    """One row of `codex plugin list --json`'s installed list."""

    plugin_id: str
    name: str
    marketplace: str
    version: str | None
    enabled: bool


def locate_codex() -> str:
    """The codex executable (CODEX_BIN, PATH, usual install places); a PluginInstallError when there is none."""
    try:
        return find_codex()
    except UserError as exc:
        raise PluginInstallError(str(exc)) from exc


class CodexPlugins:
    """Runs `codex plugin ...` against one CODEX_HOME, stdin closed, with a timeout."""

    def __init__(self, codex: str, codex_home: Path) -> None:
        self.codex = codex
        self.codex_home = codex_home

    def run(self, *args: str) -> dict[str, Any]:
        """Run `codex plugin <args> --json` and return its JSON object; PluginInstallError on any failure."""
        argv = [self.codex, "plugin", *args, "--json"]
        command = "codex plugin " + " ".join(args)
        env = {**os.environ, "CODEX_HOME": str(self.codex_home)}
        with tempfile.TemporaryDirectory(prefix="codex-self-iter-plugin-") as tmp:
            out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
            result = run_process(
                argv, cwd=self.codex_home, stdout_path=out, stderr_path=err, timeout_sec=CODEX_TIMEOUT_SEC, env=env
            )
            stdout = out.read_text(encoding="utf-8", errors="replace")
            stderr = err.read_text(encoding="utf-8", errors="replace")
        if result.start_error is not None:
            raise PluginInstallError(f"cannot run {self.codex}: {result.start_error}; see `codex-self-iter doctor`")
        if result.timed_out:
            raise PluginInstallError(f"`{command}` did not finish within {CODEX_TIMEOUT_SEC:.0f} s")
        if result.exit_code != 0:
            raise PluginInstallError(f"`{command}` failed: {error_summary(stderr, result.exit_code)}")
        try:
            data = json.loads(stdout)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise PluginInstallError(f"`{command}` printed no JSON object; is {self.codex} codex-cli >= 0.169?")
        return data

    def installed(self) -> list[InstalledPlugin]:
        """The installed plugins (all marketplaces)."""
        rows = self.run("list").get("installed")
        return [_installed_row(row) for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []

    def marketplace_names(self) -> list[str]:
        """Names of the configured marketplaces."""
        rows = self.run("marketplace", "list").get("marketplaces")
        if not isinstance(rows, list):
            return []
        return [str(row["name"]) for row in rows if isinstance(row, dict) and "name" in row]


def _installed_row(row: dict[str, Any]) -> InstalledPlugin:
    version = row.get("version")
    return InstalledPlugin(
        plugin_id=str(row.get("pluginId", "")),
        name=str(row.get("name", "")),
        marketplace=str(row.get("marketplaceName", "")),
        version=str(version) if version is not None else None,
        enabled=bool(row.get("enabled", False)),
    )


def error_summary(stderr: str, exit_code: int | None) -> str:
    """codex's own `Error: ...` line(s) from stderr, without the backtrace; else its last line."""
    lines = [line.rstrip() for line in stderr.splitlines()]
    for index, line in enumerate(lines):
        if line.startswith("Error:"):
            picked = [line.removeprefix("Error:").strip()]
            picked += [nxt.strip() for nxt in lines[index + 1 : index + 4] if nxt.startswith("- ")]
            return " ".join(picked)
    tail = [line for line in lines if line.strip()]
    return tail[-1].strip() if tail else f"exit code {exit_code}"
