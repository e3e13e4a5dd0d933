"""What `init --prompt` asks Codex for: TASK.md, plan.md, task files and check commands, validated before use."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TextIO

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from codex_self_iter.agent.control import last_json_object
from codex_self_iter.errors import UserError
from codex_self_iter.tasks.files import slug, task_markdown

MAX_TASKS = 30


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class ProposedTask(_Part):
    """One task of the proposal."""

    title: str = Field(description="A short title.")
    details: str = Field(description="What to change and where.")
    done_when: list[str] = Field(description="Checkable done criteria of this task (at least one).")


class Proposal(_Part):
    """The whole proposal."""

    objective: str = Field(description="What should be true when the whole job is done (TASK.md).")
    done_criteria: list[str] = Field(description="Checkable criteria for the whole job (at least one).")
    plan: list[str] = Field(description="The steps, in order (plan.md).")
    tasks: list[ProposedTask] = Field(description="The job in small tasks, done one after another.")
    checks: list[str] = Field(description="Commands that prove the work is done; [] when there are none.")


def parse_proposal(message: str) -> Proposal:
    """The proposal in codex's final message; a UserError (one line) saying what is wrong with it otherwise."""
    raw = last_json_object(message)
    if raw is None:
        raise UserError("codex's answer has no JSON proposal in it; run init --prompt again; nothing was written")
    try:
        proposal = Proposal.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        raise UserError(f"codex's proposal is malformed: {where}: {error['msg']}; nothing was written") from None
    problem = _problem(proposal)
    if problem:
        raise UserError(f"codex's proposal is malformed: {problem}; nothing was written")
    return proposal


def _problem(proposal: Proposal) -> str:
    if not proposal.objective:
        return "objective is empty"
    if not [c for c in proposal.done_criteria if c.strip()]:
        return "done_criteria is empty"
    if not proposal.tasks or len(proposal.tasks) > MAX_TASKS:
        return f"tasks: {len(proposal.tasks)} tasks; between 1 and {MAX_TASKS} are needed"
    for number, task in enumerate(proposal.tasks, 1):
        if not task.title or not [c for c in task.done_when if c.strip()]:
            return f"tasks.{number}: a task needs a title and at least one done_when criterion"
    for command in proposal.checks:
        try:
            if not shlex.split(command):
                return "checks: an empty command"
        except ValueError as exc:
            return f"checks: {command!r} cannot be split into arguments ({exc})"
    return ""


def proposal_files(proposal: Proposal, task_file: Path, plan_file: Path, tasks_dir: Path) -> dict[Path, str]:
    """The files the proposal becomes: TASK.md, plan.md and tasks/NNN-<slug>.md (origin: init)."""
    criteria = "".join(f"- {' '.join(c.split())}\n" for c in proposal.done_criteria if c.strip())
    files = {
        task_file: f"# Task\n\n{proposal.objective.strip()}\n\n## Done when\n\n{criteria}",
        plan_file: "# Plan\n\n"
        + "".join(f"- [ ] {' '.join(step.split())}\n" for step in proposal.plan if step.strip()),
    }
    for number, task in enumerate(proposal.tasks, 1):
        path = tasks_dir / f"{number:03d}-{slug(task.title)}.md"
        files[path] = task_markdown(task.title, task.details, [c for c in task.done_when if c.strip()], "init")
    return files


def show(proposal: Proposal, files: dict[Path, str], workspace: Path, out: TextIO) -> None:
    """Print every proposed file and the proposed checks."""
    print("codex-self-iter: Codex proposes these files:", file=out)
    for path, text in files.items():
        try:
            name = str(path.relative_to(workspace))
        except ValueError:
            name = str(path)
        print(f"\n--- {name}", file=out)
        print(text.rstrip("\n"), file=out)
    print("\nChecks (run by the loop in your workspace on every completion claim; stored in your config):", file=out)
    for command in proposal.checks or ["(none proposed: the reviewer alone decides)"]:
        print(f"  {command}", file=out)
