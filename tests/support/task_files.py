"""Task files for queue tests, written into a real git workspace."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import git


def add_tasks(workspace: Path, *titles: str, commit: bool = True) -> list[Path]:
    """tasks/001-<slug>.md, 002-… with a title and one done criterion each; committed like a user would."""
    folder = workspace / "tasks"
    folder.mkdir(exist_ok=True)
    paths = []
    for number, title in enumerate(titles, 1):
        slug = title.lower().replace(" ", "-").replace(".", "-")
        path = folder / f"{number:03d}-{slug}.md"
        path.write_text(f"# {title}\n\nPart {number} of the job.\n\n## Done when\n\n- {title} is done\n")
        paths.append(path)
    (workspace / "TASK.md").write_text("# Task\nWrite a.txt, b.txt and c.txt.\n\n## Done when\n- all three exist\n")
    if commit:
        git(workspace, "add", "-A")
        git(workspace, "commit", "-q", "-m", "tasks")
    return paths


def plan(goal: str) -> dict[str, Any]:
    """A planner step."""
    return {"control": {"next_goal": goal, "summary": "plan"}}


def review(verdict: str = "approve", goal: str = "") -> dict[str, Any]:
    """A reviewer step."""
    return {"control": {"verdict": verdict, "reasons": [f"{verdict}d"], "next_goal": goal}}


def audit(verdict: str = "approve", *gaps: dict[str, Any]) -> dict[str, Any]:
    """An auditor step."""
    return {"control": {"verdict": verdict, "reasons": [f"audit {verdict}"], "gaps": list(gaps)}}


def gap(title: str, *done_when: str) -> dict[str, Any]:
    """One gap of an audit rejection."""
    return {"title": title, "details": f"{title}: missing", "done_when": list(done_when) or [f"{title} holds"]}


def queue_state(state_dir: Path) -> dict[str, dict[str, Any]]:
    """tasks.json as {id: record}."""
    data = json.loads((state_dir / "tasks.json").read_text())
    return {record["id"]: record for record in data["tasks"]}


def events(records: list[dict[str, Any]], *names: str) -> list[tuple[str, Any]]:
    """(event, task) of the journal records with those event names, in order."""
    return [(r["event"], r.get("task")) for r in records if r["event"] in names]
