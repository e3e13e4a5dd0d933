"""What the codex-self-iter Stop hook looks like in a hooks.json, and how Codex hashes a hook to trust it."""

from __future__ import annotations

import hashlib
import json
import shlex
import sys
from pathlib import Path
from typing import Any

HOOK_TIMEOUT_SEC = 600
DEFAULT_TIMEOUT_SEC = 600  # Codex's default when a handler gives none
MARKERS = ("codex_self_iter hook stop", "codex-self-iter hook stop", "hooks/stop-hook.sh")


def hook_command(python: str | None = None) -> str:
    """The command line: this interpreter runs the hook, so it works without the package on PATH."""
    return f"{shlex.quote(python or sys.executable)} -m codex_self_iter hook stop"


def hook_handler(command: str | None = None) -> dict[str, Any]:
    """One command handler, as hooks.json holds it."""
    return {"type": "command", "command": command or hook_command(), "timeout": HOOK_TIMEOUT_SEC}


def is_ours(handler: object) -> bool:
    """True for a handler that runs the codex-self-iter Stop hook (any interpreter, plugin or not)."""
    if not isinstance(handler, dict) or handler.get("type", "command") != "command":
        return False
    command = handler.get("command")
    return isinstance(command, str) and any(marker in command for marker in MARKERS)


def identity_hash(event_snake: str, handler: dict[str, Any], matcher: str | None = None) -> str:
    """Codex's trust hash of a hooks.json/config hook (codex-cli.md §8.5; checked against `hooks/list`)."""
    entry: dict[str, Any] = {
        "type": "command",
        "command": handler.get("command", ""),
        "timeout": handler.get("timeout", DEFAULT_TIMEOUT_SEC),
        "async": bool(handler.get("async", False)),
    }
    if handler.get("statusMessage") is not None:
        entry["statusMessage"] = handler["statusMessage"]
    identity: dict[str, Any] = {"event_name": event_snake, "hooks": [entry]}
    if matcher is not None:
        identity["matcher"] = matcher
    payload = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()


def trust_key(hooks_json: Path, group: int, handler: int) -> str:
    """The key of a Stop handler in config.toml's [hooks.state]."""
    return f"{hooks_json}:stop:{group}:{handler}"
