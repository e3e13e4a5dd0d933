"""Where each member of a JSON object or array sits in its text, so a file can be edited without reformatting it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

_WS = " \t\n\r"
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class Span:
    """One member: its key (objects) or index (arrays), the value, and where the value starts and ends."""

    key: str | int
    value: Any
    start: int
    end: int


@dataclass(frozen=True)
class Container:
    """An object or array: its members and the offset of its closing bracket."""

    members: list[Span]
    close: int


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WS:
        pos += 1
    return pos


def parse_container(text: str, start: int) -> Container:
    """The members of the object or array whose opening bracket is at text[start]; ValueError when malformed."""
    opening = text[start]
    if opening not in "{[":
        raise ValueError(f"expected an object or array at offset {start}")
    closing = "}" if opening == "{" else "]"
    members: list[Span] = []
    pos = _skip(text, start + 1)
    if pos < len(text) and text[pos] == closing:
        return Container(members, pos)
    while True:
        key: str | int = len(members)
        if opening == "{":
            if pos >= len(text) or text[pos] != '"':
                raise ValueError(f"expected a key at offset {pos}")
            key, pos = json.decoder.scanstring(text, pos + 1)  # type: ignore[attr-defined]
            pos = _skip(text, pos)
            if pos >= len(text) or text[pos] != ":":
                raise ValueError(f"expected ':' at offset {pos}")
            pos = _skip(text, pos + 1)
        value, end = _DECODER.raw_decode(text, pos)
        members.append(Span(key, value, pos, end))
        pos = _skip(text, end)
        if pos < len(text) and text[pos] == ",":
            pos = _skip(text, pos + 1)
            continue
        if pos < len(text) and text[pos] == closing:
            return Container(members, pos)
        raise ValueError(f"expected ',' or {closing!r} at offset {pos}")


def root_start(text: str) -> int:
    """Offset of the top-level value."""
    return _skip(text, 0)


def member(container: Container, key: str) -> Span | None:
    """The member named key (the last one, as JSON parsers keep), or None."""
    found = [span for span in container.members if span.key == key]
    return found[-1] if found else None


def insert_member(text: str, container: Container, piece: str, indent: str) -> str:
    """text with piece (a member's text) added as the container's last member, keeping everything else."""
    if container.members:
        last_end = container.members[-1].end
        return text[:last_end] + ",\n" + indent + piece + text[last_end:]
    return text[: container.close] + "\n" + indent + piece + "\n" + text[container.close :]


def remove_element(text: str, array: Container, index: int) -> str:
    """text without the array's element at index (and the comma that separated it), keeping everything else."""
    elements = array.members
    target = elements[index]
    if len(elements) == 1:
        return text[: _after_open(text, target.start)] + text[array.close :]
    if index + 1 < len(elements):
        return text[: target.start] + text[elements[index + 1].start :]
    return text[: elements[index - 1].end] + text[target.end :]


def _after_open(text: str, start: int) -> int:
    pos = start - 1
    while pos >= 0 and text[pos] != "[":
        pos -= 1
    return pos + 1
