"""What a fleet runs: `REPO[:TASK]` specs, each a repository and optionally a task file or task id in it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from codex_self_iter.errors import UserError

TASKS_DIR = "tasks"


@dataclass(frozen=True)
class LoopSpec:
    """One loop of a fleet: a repository and the task file it works on (None = the repository's TASK.md)."""

    repo: Path
    task: str | None

    @property
    def key(self) -> str:
        """Identity of the spec, to match a resumed fleet's loops with the command line's."""
        return f"{self.repo}:{self.task or ''}"


def parse_spec(text: str) -> LoopSpec:
    """`REPO` or `REPO:TASK` (TASK: a file in the repository, or a task id such as 002 for tasks/002-*.md)."""
    repo_text, task = text, None
    if not Path(text).expanduser().is_dir() and ":" in text:
        repo_text, task = text.rsplit(":", 1)
    repo = Path(repo_text).expanduser()
    if not repo.is_dir():
        raise UserError(f"{text}: no repository at {repo}; a SPEC is REPO or REPO:TASK (a task file or a task id)")
    repo = repo.resolve()
    if not (repo / ".git").exists():
        raise UserError(f"{repo}: not a git repository; each fleet loop runs on its own branch of one")
    return LoopSpec(repo, _task_file(repo, task, text) if task else None)


def _task_file(repo: Path, task: str, text: str) -> str:
    path = Path(task)
    candidate = path if path.is_absolute() else repo / path
    if candidate.is_file():
        try:
            return candidate.resolve().relative_to(repo).as_posix()
        except ValueError:
            raise UserError(f"{text}: the task file {task} lies outside the repository {repo}") from None
    if re.fullmatch(r"[0-9]+", task):
        found = sorted((repo / TASKS_DIR).glob(f"{task}-*.md")) + sorted((repo / TASKS_DIR).glob(f"{task}.md"))
        if len(found) == 1:
            return found[0].relative_to(repo).as_posix()
        if len(found) > 1:
            raise UserError(f"{text}: task id {task} matches {len(found)} files in {repo / TASKS_DIR}; name the file")
    raise UserError(f"{text}: no task file {task} in {repo} (nor {TASKS_DIR}/{task}-*.md for a task id)")


def parse_specs(texts: list[str]) -> list[LoopSpec]:
    """Every spec, in order; the same repository and task twice is an error."""
    specs = [parse_spec(text) for text in texts]
    seen: set[str] = set()
    for spec in specs:
        if spec.key in seen:
            raise UserError(f"{spec.repo}: named twice with the same task; each loop needs its own task or repository")
        seen.add(spec.key)
    return specs
