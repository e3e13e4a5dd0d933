"""`init --prompt TEXT`: Codex proposes TASK.md, plan.md, task files and checks; the user sees them and says yes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from codex_self_iter.config import Settings, build_settings, load_config
from codex_self_iter.errors import UserError
from codex_self_iter.state.layout import Layout
from codex_self_iter.tasks.proposal import proposal_files, show
from codex_self_iter.tasks.propose import ask_codex


def proposed_files(
    prompt: str, layout: Layout, config: Path, force: bool, yes: bool, out: TextIO | None = None
) -> tuple[dict[Path, str], list[str]]:
    """The files to write and the checks to store, once the user agreed; a UserError when nothing is to be written."""
    out = out or sys.stdout
    if not prompt.strip():
        raise UserError("--prompt is empty; describe the job, e.g. --prompt 'add a divide() function with tests'")
    settings = _settings(config)
    tasks_dir = layout.workspace / settings.tasks_dir
    existing = [p for p in (layout.task_file, layout.plan_file, config) if p.exists()]
    existing += sorted(tasks_dir.glob("*.md")) if tasks_dir.is_dir() else []
    if existing and not force:
        raise UserError(f"{existing[0]} exists; pass --force to replace it with a proposal (nothing was written)")
    print("codex-self-iter: asking Codex for a proposal (read-only sandbox) …", file=out, flush=True)
    proposal = ask_codex(prompt, layout.workspace, settings.codex, settings.command_timeout_sec)
    files = proposal_files(proposal, layout.task_file, layout.plan_file, tasks_dir)
    show(proposal, files, layout.workspace, out)
    if not yes and not _confirm(out):
        raise UserError("declined; nothing was written")
    if force and tasks_dir.is_dir():
        for old in tasks_dir.glob("*.md"):  # --force replaces the queue: stale task files would run after the new
            if old not in files:
                old.unlink()
    return files, proposal.checks


def _settings(config: Path) -> Settings:
    """The [codex] settings (binary, model, profile) and timeout of an existing config, else the defaults."""
    if not config.is_file():
        return Settings()
    return build_settings(load_config(config), {}, str(config))


def _confirm(out: TextIO) -> bool:
    print("Write these files? [y/N] ", end="", file=out, flush=True)
    try:
        answer = input()
    except EOFError:
        answer = ""
    return answer.strip().lower() in ("y", "yes")
