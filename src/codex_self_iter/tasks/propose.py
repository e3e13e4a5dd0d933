"""`init --prompt`: ask Codex (read-only sandbox, schema-checked answer) for a proposal; writes nothing itself."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from codex_self_iter.agent.control import strict_schema
from codex_self_iter.agent.kinds import FailureKind, Role
from codex_self_iter.agent.types import AgentRequest
from codex_self_iter.checks.detect import detect_checks
from codex_self_iter.codex.runner import CodexRunner
from codex_self_iter.codex.settings import CodexSettings
from codex_self_iter.errors import UserError
from codex_self_iter.prompts.render import render
from codex_self_iter.tasks.proposal import Proposal, parse_proposal

MAX_LISTED_FILES = 60


def ask_codex(prompt: str, workspace: Path, settings: CodexSettings, timeout_sec: float) -> Proposal:
    """Run `codex exec -s read-only --output-schema …` once in the workspace and validate its proposal."""
    # Whatever the config says about the sandbox, this call only reads: it must not change the workspace.
    codex = settings.model_copy(update={"sandbox": "read-only", "bypass": False, "resume": [], "output_schema": True})
    text = render("init", {"prompt": prompt.strip(), "files": _listing(workspace), "checks": _checks(workspace)})
    # The call's own files (events, stderr, answer) go to a temporary directory: declining leaves no trace.
    with tempfile.TemporaryDirectory(prefix="codex-self-iter-init-") as scratch:
        root = Path(scratch)
        schema = root / "schema.json"
        schema.write_text(json.dumps(strict_schema(Proposal)), encoding="utf-8")
        (root / "prompt.md").write_text(text, encoding="utf-8")
        runner = CodexRunner(codex, state_dir=root)
        request = AgentRequest(
            role=Role.PLANNER,
            iteration=0,
            prompt_file=root / "prompt.md",
            prompt_text=text,
            workspace=workspace,
            state_dir=root,
            run_dir=root / "run",
            schema_file=schema,
            timeout_sec=timeout_sec,
        )
        result = runner.run(request)
    if result.failure is not FailureKind.NONE:
        detail = " ".join((result.failure_message or result.failure.value).split())[:300]
        raise UserError(f"codex could not make a proposal: {detail}; nothing was written")
    return parse_proposal(result.final_message)


def _listing(workspace: Path) -> str:
    names = sorted(p.name + ("/" if p.is_dir() else "") for p in workspace.iterdir() if not p.name.startswith("."))
    shown = names[:MAX_LISTED_FILES]
    more = f"\n… and {len(names) - len(shown)} more" if len(names) > len(shown) else ""
    return "\n".join(f"- {name}" for name in shown) + more if shown else "(empty)"


def _checks(workspace: Path) -> str:
    found = detect_checks(workspace)
    return "\n".join(f"- {spec.command}" for spec in found) if found else "(none detected)"
