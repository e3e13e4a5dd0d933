"""What Codex itself says about the Stop hook: `codex app-server` → `hooks/list` (source, enabled, trust)."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_self_iter.session.hookspec import is_ours

LIST_TIMEOUT_SEC = 10.0
TRUSTED = ("trusted", "managed")


@dataclass(frozen=True)
class HookRow:
    """One of our Stop hooks as Codex lists it."""

    key: str
    source: str  # user | project | plugin | ...
    enabled: bool
    trust: str  # untrusted | trusted | modified | managed
    current_hash: str

    @property
    def runs(self) -> bool:
        """True when Codex will actually run it."""
        return self.enabled and self.trust in TRUSTED


def our_hooks(codex: str, cwd: Path, codex_home: Path | None = None) -> list[HookRow]:
    """Our Stop hooks for cwd, as `hooks/list` reports them; OSError/ValueError when Codex does not answer."""
    env = {**os.environ, **({"CODEX_HOME": str(codex_home)} if codex_home else {})}
    requests = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"clientInfo": {"name": "codex-self-iter", "version": "0"}},
        },
        {"jsonrpc": "2.0", "method": "initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "hooks/list", "params": {"cwds": [str(cwd)]}},
    ]
    process = subprocess.Popen(
        [codex, "app-server"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=cwd,
        env=env,
        start_new_session=True,
    )
    try:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write("".join(json.dumps(r) + "\n" for r in requests).encode())
        process.stdin.flush()
        result = _answer(process.stdout, 2)
    finally:
        process.kill()
        process.wait(timeout=10)
    rows = []
    for entry in result.get("data", []):
        for hook in entry.get("hooks", []) if isinstance(entry, dict) else []:
            if isinstance(hook, dict) and hook.get("eventName") == "stop" and is_ours({"command": hook.get("command")}):
                rows.append(
                    HookRow(
                        key=str(hook.get("key", "")),
                        source=str(hook.get("source", "")),
                        enabled=bool(hook.get("enabled", False)),
                        trust=str(hook.get("trustStatus", "")),
                        current_hash=str(hook.get("currentHash", "")),
                    )
                )
    return rows


def _answer(stream: Any, ident: int) -> dict[str, Any]:
    """The result of the JSON-RPC response with this id, read line by line within LIST_TIMEOUT_SEC."""
    deadline = time.monotonic() + LIST_TIMEOUT_SEC
    selector = selectors.DefaultSelector()
    selector.register(stream, selectors.EVENT_READ)
    buffer = b""
    while time.monotonic() < deadline:
        if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
            break
        chunk = os.read(stream.fileno(), 65536)
        if not chunk:
            break
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict) and message.get("id") == ident:
                if "error" in message:
                    raise ValueError(f"hooks/list failed: {message['error']}")
                result = message.get("result")
                return result if isinstance(result, dict) else {}
    raise ValueError(f"codex app-server gave no hooks/list answer within {LIST_TIMEOUT_SEC:g}s")
