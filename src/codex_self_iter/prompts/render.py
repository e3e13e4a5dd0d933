"""Prompt templates (package data) rendered per iteration and role; a missing variable is an error."""

from __future__ import annotations

import string
from importlib import resources
from pathlib import Path
from typing import Any

from codex_self_iter.agent.kinds import Role
from codex_self_iter.state.fsio import atomic_write_text

INPUT_MAX_CHARS = 16_000
SHAPES = {
    Role.EXECUTOR: '{"status": "continue|complete|blocked", "summary": "...", "next_goal": "...", "evidence": ["..."]}',
    Role.REVIEWER: '{"verdict": "approve|reject", "reasons": ["..."], "next_goal": "...", "no_change_needed": false}',
    Role.PLANNER: '{"next_goal": "...", "summary": "...", "stop": false}',
    Role.AUDITOR: '{"verdict": "approve|reject", "reasons": ["..."], "gaps": [{"title": "...", "details": "...", '
    '"done_when": ["..."]}]}',
}


class TemplateError(Exception):
    """A template refers to a variable the loop does not provide."""


def load_template(name: str) -> string.Template:
    """A template shipped in the package's prompts/ directory."""
    text = resources.files("codex_self_iter").joinpath("prompts", f"{name}.md").read_text(encoding="utf-8")
    return string.Template(text)


def render(name: str, variables: dict[str, Any]) -> str:
    """Fill a template; every $variable must be given."""
    try:
        return load_template(name).substitute({key: str(value) for key, value in variables.items()})
    except KeyError as exc:
        raise TemplateError(f"prompt template {name}.md uses ${exc.args[0]}, which the loop does not provide") from exc
    except ValueError as exc:
        raise TemplateError(f"prompt template {name}.md: {exc}") from exc


def bounded(text: str, limit: int, what: str) -> str:
    """Text cut to limit characters with a note saying where the rest is."""
    text = text.strip()
    if len(text) <= limit:
        return text or "(empty)"
    return text[:limit] + f"\n[... {len(text) - limit} more characters: read {what} itself ...]"


def tail(text: str, limit: int) -> str:
    """The last `limit` characters of text."""
    return text if len(text) <= limit else "[...]\n" + text[-limit:]


def repair_prompt(original: str, role: Role, error: str, previous: str) -> str:
    """The one repair attempt's prompt: the original plus exactly what was wrong."""
    return render(
        "repair",
        {
            "original": original,
            "error": error,
            "previous": tail(previous.strip(), 1500) or "(nothing)",
            "shape": SHAPES[role],
        },
    )


def prompt_path(prompts_dir: Path, iteration: int, label: str) -> Path:
    """Where the prompt of that call is saved."""
    return prompts_dir / f"{iteration:05d}-{label}.md"


def write_prompt(prompts_dir: Path, iteration: int, role: str, text: str) -> Path:
    """Save a rendered prompt (owner-readable only) and return its path."""
    path = prompt_path(prompts_dir, iteration, role)
    atomic_write_text(path, text)
    return path
