"""Codex's hook trust in config.toml (`[hooks.state."<key>"] trusted_hash`): read it, and write ours on request."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

from codex_self_iter.errors import UserError
from codex_self_iter.state.fsio import atomic_write_text


def hook_state(config: Path, key: str) -> dict[str, Any]:
    """The [hooks.state."<key>"] table of a config.toml ({} when absent or unreadable)."""
    data = _load(config, strict=False)
    hooks = data.get("hooks")
    state = hooks.get("state") if isinstance(hooks, dict) else None
    entry = state.get(key) if isinstance(state, dict) else None
    return entry if isinstance(entry, dict) else {}


def trust_lines(key: str, trusted_hash: str) -> str:
    """The TOML that trusts one hook."""
    return f"[hooks.state.{json.dumps(key)}]\ntrusted_hash = {json.dumps(trusted_hash)}\n"


def write_trust(config: Path, key: str, trusted_hash: str) -> bool:
    """Record trusted_hash for key, editing only that table; False when it was already recorded."""
    if hook_state(config, key).get("trusted_hash") == trusted_hash:
        return False
    text = config.read_text(encoding="utf-8") if config.exists() else ""
    _load(config, strict=True)  # a config Codex cannot read is not ours to rewrite
    header = f"[hooks.state.{json.dumps(key)}]"
    line = f"trusted_hash = {json.dumps(trusted_hash)}"
    at = text.find(header + "\n")
    if at < 0:
        new = (
            text
            + ("\n" if text and not text.endswith("\n") else "")
            + ("\n" if text else "")
            + trust_lines(key, trusted_hash)
        )
    else:
        body_start = at + len(header) + 1
        nxt = re.search(r"^\s*\[", text[body_start:], re.MULTILINE)
        body_end = body_start + (nxt.start() if nxt else len(text) - body_start)
        body = re.sub(r"^trusted_hash\s*=.*\n?", "", text[body_start:body_end], flags=re.MULTILINE)
        new = text[:body_start] + line + "\n" + body + text[body_end:]
    try:
        tomllib.loads(new)
    except tomllib.TOMLDecodeError:
        raise UserError(
            f"{config}: cannot add the trust entry without rewriting the file; add these lines yourself:\n"
            + trust_lines(key, trusted_hash)
        ) from None
    atomic_write_text(config, new, mode=config.stat().st_mode & 0o777 if config.exists() else 0o600)
    if hook_state(config, key).get("trusted_hash") != trusted_hash:
        raise UserError(
            f"{config}: the trust entry did not take; add these lines yourself:\n" + trust_lines(key, trusted_hash)
        )
    return True


def _load(config: Path, strict: bool) -> dict[str, Any]:
    try:
        return tomllib.loads(config.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        if strict:
            raise UserError(f"{config}: unreadable ({exc}); fix it, then run install-hooks --trust again") from exc
        return {}
