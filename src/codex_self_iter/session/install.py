"""`install-hooks`: merge the Stop hook into a hooks.json without touching anything else in it; or remove it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_self_iter.errors import UserError
from codex_self_iter.session.hookspec import hook_handler, is_ours
from codex_self_iter.session.json_spans import (
    Container,
    insert_member,
    member,
    parse_container,
    remove_element,
    root_start,
)
from codex_self_iter.state.fsio import atomic_write_text

FILE_MODE = 0o644


@dataclass(frozen=True)
class Placement:
    """Where our handler sits: the indexes Codex uses in its trust key."""

    group: int
    handler: int
    entry: dict[str, Any]


def find_ours(path: Path) -> list[Placement]:
    """Our Stop handlers in a hooks.json (none when the file is missing)."""
    text = _read(path)
    if text is None:
        return []
    data = _parse(path, text)
    groups = data.get("hooks", {}).get("Stop", []) if isinstance(data.get("hooks"), dict) else []
    found = []
    for g, group in enumerate(groups if isinstance(groups, list) else []):
        handlers = group.get("hooks", []) if isinstance(group, dict) else []
        for h, handler in enumerate(handlers if isinstance(handlers, list) else []):
            if is_ours(handler):
                found.append(Placement(g, h, handler))
    return found


def install_hook(path: Path, command: str | None = None) -> tuple[bool, Placement]:
    """Add our Stop hook (replacing an outdated one of ours); False when it was already there as wanted."""
    wanted = hook_handler(command)
    current = find_ours(path)
    if len(current) == 1 and current[0].entry == wanted:
        return False, current[0]
    text = _read(path)
    text = _without_ours(path, text) if text is not None else None
    group = {"hooks": [wanted]}
    if text is None or not text.strip():
        new = json.dumps({"hooks": {"Stop": [group]}}, indent=2) + "\n"
    else:
        new = _with_group(path, text, group)
    _write(path, new)
    (placed,) = find_ours(path)
    return True, placed


def uninstall_hook(path: Path) -> int:
    """Remove every handler of ours; returns how many (the file is left alone when there is none)."""
    count = len(find_ours(path))
    text = _read(path)
    if count and text is not None:
        _write(path, _without_ours(path, text))
    return count


def _with_group(path: Path, text: str, group: dict[str, Any]) -> str:
    root = _object(path, text, root_start(text), "the top level")
    hooks = member(root, "hooks")
    piece = json.dumps(group, indent=2)
    if hooks is None:
        return insert_member(text, root, '"hooks": ' + _indent(json.dumps({"Stop": [group]}, indent=2), "  "), "  ")
    hooks_obj = _object(path, text, hooks.start, '"hooks"')
    stop = member(hooks_obj, "Stop")
    if stop is None:
        return insert_member(text, hooks_obj, '"Stop": ' + _indent(json.dumps([group], indent=2), "    "), "    ")
    if not isinstance(stop.value, list):
        raise UserError(f'{path}: "hooks.Stop" is not a list; fix the file, then run install-hooks again')
    return insert_member(text, parse_container(text, stop.start), _indent(piece, "      "), "      ")


def _without_ours(path: Path, text: str) -> str:
    """text minus our handlers: a group left empty is removed whole."""
    while True:
        located = _locate_ours(path, text)
        if located is None:
            return text
        groups, g, handlers, h = located
        alone = len(handlers.members) == 1
        text = remove_element(text, groups, g) if alone else remove_element(text, handlers, h)


def _locate_ours(path: Path, text: str) -> tuple[Container, int, Container, int] | None:
    root = _object(path, text, root_start(text), "the top level")
    hooks = member(root, "hooks")
    if hooks is None or not isinstance(hooks.value, dict):
        return None
    stop = member(parse_container(text, hooks.start), "Stop")
    if stop is None or not isinstance(stop.value, list):
        return None
    groups = parse_container(text, stop.start)
    for g, group in enumerate(groups.members):
        if not isinstance(group.value, dict):
            continue
        inner = member(parse_container(text, group.start), "hooks")
        if inner is None or not isinstance(inner.value, list):
            continue
        handlers = parse_container(text, inner.start)
        for h, handler in enumerate(handlers.members):
            if is_ours(handler.value):
                return groups, g, handlers, h
    return None


def _object(path: Path, text: str, start: int, what: str) -> Container:
    if start >= len(text) or text[start] != "{":
        raise UserError(f"{path}: {what} is not a JSON object; fix the file, then run install-hooks again")
    try:
        return parse_container(text, start)
    except ValueError as exc:
        raise UserError(f"{path}: not valid JSON ({exc}); fix the file, then run install-hooks again") from exc


def _indent(text: str, indent: str) -> str:
    return text.replace("\n", "\n" + indent)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read ({exc}); fix its permissions or encoding") from exc


def _parse(path: Path, text: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UserError(f"{path}: not valid JSON ({exc}); fix the file, then run install-hooks again") from exc
    if not isinstance(data, dict):
        raise UserError(f"{path}: the top level is not a JSON object; fix the file, then run install-hooks again")
    return data


def _write(path: Path, text: str) -> None:
    _parse(path, text)  # never write a file Codex could not read
    mode = path.stat().st_mode & 0o777 if path.exists() else FILE_MODE
    os.makedirs(path.parent, exist_ok=True)
    atomic_write_text(path, text, mode=mode)
