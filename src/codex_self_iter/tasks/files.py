"""Task files (`tasks/NNN-<slug>.md`): read, validate and write them; each names its own done criteria."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from codex_self_iter.errors import UserError
from codex_self_iter.state.fsio import atomic_write_text

NAME_RE = re.compile(r"^(\d{3,})-([a-z0-9][a-z0-9-]*)\.md$")
DONE_HEADING_RE = re.compile(r"^#{2,}\s*(done when|done criteria|acceptance criteria)\b.*$", re.IGNORECASE)
ITEM_RE = re.compile(r"^\s*[-*]\s+(?:\[[ xX]\]\s+)?(.+?)\s*$")
ORIGINS = ("user", "init", "audit")
IGNORED = ("README.md",)


@dataclass(frozen=True)
class TaskFile:
    """One task as its file says now."""

    id: str
    path: Path
    title: str
    done_when: tuple[str, ...]
    origin: str
    text: str
    digest: str

    @property
    def number(self) -> int:
        """The task's position in the queue."""
        return int(self.id)


def scan_tasks(tasks_dir: Path, workspace: Path) -> list[TaskFile] | None:
    """The task files in order, validated; None when there is no tasks directory (single-objective mode)."""
    if not tasks_dir.is_dir():
        return None
    shown = _shown(tasks_dir, workspace)
    files = sorted(p for p in tasks_dir.iterdir() if p.suffix == ".md" and p.name not in IGNORED)
    if not files:
        raise UserError(
            f"{shown}/: no task files; add {shown}/001-<slug>.md (a title and a '## Done when' list) "
            "or remove the directory"
        )
    tasks = [read_task(path, workspace) for path in files]
    seen: dict[str, TaskFile] = {}
    for task in tasks:
        if task.id in seen:
            first = _shown(seen[task.id].path, workspace)
            raise UserError(
                f"{first} and {_shown(task.path, workspace)}: both are task {task.id}; renumber one of them"
            )
        seen[task.id] = task
    return sorted(tasks, key=lambda t: t.number)


def read_task(path: Path, workspace: Path) -> TaskFile:
    """Parse one task file: optional `origin:` front matter, a `# Title`, a `## Done when` list."""
    shown = _shown(path, workspace)
    match = NAME_RE.match(path.name)
    if match is None:
        raise UserError(f"{shown}: not a task file name; name it NNN-<slug>.md (e.g. 001-add-divide.md)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{shown}: not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise UserError(f"{shown}: cannot read ({exc.strerror}); check its permissions") from exc
    origin, body = _front_matter(text, shown)
    done = _done_criteria(body)
    if not done:
        raise UserError(f"{shown}: no done criteria; add a '## Done when' section with at least one '- ' item")
    title = next((line[2:].strip() for line in body.splitlines() if line.startswith("# ")), "")
    number = f"{int(match.group(1)):03d}"
    return TaskFile(number, path, title or match.group(2).replace("-", " "), done, origin, text, text_digest(text))


def text_digest(text: str) -> str:
    """What tells one version of a task file from another."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def file_digest(path: Path) -> str:
    """The digest of a task file as it is now ("" when it cannot be read)."""
    try:
        return text_digest(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return ""


def _front_matter(text: str, shown: str) -> tuple[str, str]:
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return "user", text
    try:
        end = next(i for i, line in enumerate(lines[1:], 1) if line.strip() == "---")
    except StopIteration:
        raise UserError(f"{shown}: front matter starts with '---' but never ends; close it with a '---' line") from None
    origin = "user"
    for line in lines[1:end]:
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep or key.strip() != "origin":
            raise UserError(f"{shown}: front matter: {key.strip() or line.strip()}: unknown key; only 'origin' is read")
        origin = value.strip()
        if origin not in ORIGINS:
            raise UserError(f"{shown}: front matter: origin: {origin!r}; use one of {', '.join(ORIGINS)}")
    return origin, "\n".join(lines[end + 1 :])


def _done_criteria(body: str) -> tuple[str, ...]:
    items: list[str] = []
    inside = False
    for line in body.splitlines():
        if line.startswith("#"):
            inside = DONE_HEADING_RE.match(line) is not None
            continue
        item = ITEM_RE.match(line) if inside else None
        if item is not None:
            items.append(item.group(1))
    return tuple(items)


def task_markdown(title: str, details: str, done_when: list[str], origin: str) -> str:
    """The text of a task file."""
    head = f"---\norigin: {origin}\n---\n" if origin != "user" else ""
    body = f"\n{details.strip()}\n" if details.strip() else ""
    items = "".join(f"- {' '.join(item.split())}\n" for item in done_when)
    return f"{head}# {' '.join(title.split())}\n{body}\n## Done when\n\n{items}"


def slug(title: str) -> str:
    """A file-name slug for a title."""
    words = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return words[:48].rstrip("-") or "task"


def write_task(tasks_dir: Path, number: int, title: str, details: str, done_when: list[str], origin: str) -> Path:
    """Write tasks/NNN-<slug>.md and return its path."""
    path = tasks_dir / f"{number:03d}-{slug(title)}.md"
    atomic_write_text(path, task_markdown(title, details, done_when, origin), mode=0o644)
    return path


def _shown(path: Path, workspace: Path) -> str:
    try:
        return str(path.relative_to(workspace))
    except ValueError:
        return str(path)
