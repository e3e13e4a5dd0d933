"""The real codex binary in one workspace with codex-self-iter's Stop hook installed and trusted by its hash."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from codex_self_iter.proc.process import run_process
from codex_self_iter.session.hookspec import identity_hash, trust_key
from codex_self_iter.session.install import install_hook
from codex_self_iter.session.trust import write_trust
from tests.support.codex_home import write_codex_home
from tests.support.fake_responses_server import FakeResponsesServer, RecordedRequest


@dataclass(frozen=True)
class CodexRun:
    """One finished `codex exec`."""

    exit_code: int | None
    events: list[dict[str, object]]
    stderr: str


def trusted_hook_home(codex_home: Path, server: FakeResponsesServer) -> Path:
    """CODEX_HOME pointing at the fake server, with our Stop hook in hooks.json and its trust hash in config.toml."""
    write_codex_home(codex_home, server.url)
    hooks = codex_home / "hooks.json"
    _, placed = install_hook(hooks)
    write_trust(
        codex_home / "config.toml", trust_key(hooks, placed.group, placed.handler), identity_hash("stop", placed.entry)
    )
    return codex_home


def run_codex(
    codex: str, workspace: Path, out_dir: Path, prompt: str = "Fix calc.add.", *, bypass_trust: bool = False
) -> CodexRun:
    """`codex exec --json` in workspace (workspace-write sandbox; hook trust bypassed only when asked), stdin closed."""
    argv = [codex, "exec", "--json", "-C", str(workspace), "-s", "workspace-write"]
    argv += ["--dangerously-bypass-hook-trust"] if bypass_trust else []
    argv.append(prompt)
    done = run_process(
        argv,
        cwd=workspace,
        stdout_path=out_dir / "events.jsonl",
        stderr_path=out_dir / "stderr.log",
        timeout_sec=150,
        env={**os.environ},
    )
    lines = (out_dir / "events.jsonl").read_text(encoding="utf-8", errors="replace").splitlines()
    events = [json.loads(line) for line in lines if line.startswith("{")]
    return CodexRun(done.exit_code, events, (out_dir / "stderr.log").read_text(encoding="utf-8", errors="replace"))


def hook_prompts(request: RecordedRequest) -> list[str]:
    """The <hook_prompt> user messages codex added to a request after Stop-hook blocks."""
    return [text for text in request.user_texts() if text.lstrip().startswith("<hook_prompt")]
