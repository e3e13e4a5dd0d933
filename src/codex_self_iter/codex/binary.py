"""Finding the codex executable: CODEX_BIN, the configured path, PATH, then the usual install places."""

from __future__ import annotations

import glob
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from codex_self_iter.codex import TESTED_CODEX_VERSION
from codex_self_iter.errors import UserError

INSTALL_HINT = f"npm install -g @openai/codex@{TESTED_CODEX_VERSION}"

# Service managers (launchd, cron, systemd) often run with a PATH that lacks the user's node bin dirs.
COMMON_DIRS = (
    "~/.npm-global/bin",
    "~/.nvm/versions/node/*/bin",
    "~/.volta/bin",
    "~/.local/bin",
    "/opt/homebrew/bin",
    "/usr/local/bin",
)


def find_codex(configured: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """Absolute path of the codex executable to run; a UserError with the install command when there is none."""
    env = os.environ if env is None else env
    explicit = env.get("CODEX_BIN", "").strip()
    if explicit:
        return _must_be_executable(explicit, "CODEX_BIN", env)
    if configured:
        return _must_be_executable(configured, "codex.binary", env)
    found = shutil.which("codex", path=env.get("PATH", os.defpath))
    if found:
        return os.path.abspath(found)
    for candidate in _common_candidates(env):
        if _is_executable(candidate):
            return str(candidate)
    raise UserError(
        f"codex CLI not found (looked at CODEX_BIN, codex.binary, PATH, {', '.join(COMMON_DIRS)}); "
        f"install it with `{INSTALL_HINT}` or set CODEX_BIN to its path"
    )


def _must_be_executable(value: str, source: str, env: Mapping[str, str]) -> str:
    if os.sep not in value:  # a bare command name: look it up on PATH
        resolved = shutil.which(value, path=env.get("PATH", os.defpath))
        if resolved:
            return os.path.abspath(resolved)
    path = Path(os.path.expanduser(value))
    if not _is_executable(path):
        raise UserError(f"{source}={value}: not an executable file; fix it or install codex with `{INSTALL_HINT}`")
    return str(path.absolute())


def _common_candidates(env: Mapping[str, str]) -> list[Path]:
    home = env.get("HOME") or os.path.expanduser("~")
    candidates: list[Path] = []
    for pattern in COMMON_DIRS:
        expanded = pattern.replace("~", home, 1) if pattern.startswith("~") else pattern
        # Newest nvm node first: glob order is alphabetical, so sort by version numbers descending.
        matches = sorted(glob.glob(expanded), key=_version_key, reverse=True)
        candidates.extend(Path(match) / "codex" for match in matches)
    return candidates


def _version_key(path: str) -> tuple[int, ...]:
    numbers = []
    for part in path.replace("-", ".").split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        numbers.append(int(digits) if digits else 0)
    return tuple(numbers)


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)
