"""The control block every agent answer ends with: extraction, validation, and the promise tag."""

from __future__ import annotations

import copy
import functools
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from codex_self_iter.agent.kinds import Role

MAX_GOAL_CHARS = 2000


class _Block(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class ExecutorReport(_Block):
    """The executor's report on its iteration."""

    status: Literal["continue", "complete", "blocked"] = Field(description="continue | complete | blocked")
    summary: str = Field(description="What was done this iteration.")
    next_goal: str = Field(default="", description="The concrete next goal; mandatory unless status is complete.")
    evidence: list[str] = Field(default_factory=list, description="Short facts that support the status.")


class ReviewerVerdict(_Block):
    """The reviewer's decision on a completion claim."""

    verdict: Literal["approve", "reject"] = Field(description="approve | reject")
    reasons: list[str] = Field(default_factory=list, description="Why.")
    next_goal: str = Field(default="", description="The next goal; mandatory when rejecting.")
    no_change_needed: bool = Field(
        default=False, description="True only when the task needed no change to the workspace at all."
    )


class AuditGap(_Block):
    """One gap the final audit found: it becomes a follow-up task file."""

    title: str = Field(description="A short title for the follow-up task.")
    details: str = Field(default="", description="What is missing or wrong, and where.")
    done_when: list[str] = Field(description="Checkable done criteria of the follow-up task (at least one).")


class AuditVerdict(_Block):
    """The reviewer's final audit of a task queue against the whole objective."""

    verdict: Literal["approve", "reject"] = Field(description="approve | reject")
    reasons: list[str] = Field(default_factory=list, description="Why.")
    gaps: list[AuditGap] = Field(default_factory=list, description="Each gap as a follow-up task (when rejecting).")


class PlannerResult(_Block):
    """The planner's next goal."""

    next_goal: str = Field(default="", description="The concrete next goal; mandatory unless stop is true.")
    summary: str = Field(default="", description="What the plan now is.")
    stop: bool = Field(default=False, description="True when there is nothing left the agent can do.")


ControlBlock = ExecutorReport | ReviewerVerdict | PlannerResult | AuditVerdict
MODELS: dict[Role, type[_Block]] = {
    Role.EXECUTOR: ExecutorReport,
    Role.REVIEWER: ReviewerVerdict,
    Role.PLANNER: PlannerResult,
    Role.AUDITOR: AuditVerdict,
}


@dataclass(frozen=True)
class ParseResult:
    """A validated block, or the exact reason there is none (told to the agent in the repair attempt)."""

    block: ControlBlock | None
    error: str = ""
    raw: dict[str, Any] | None = None


_PROMISE_RE = re.compile(r"<promise>(.*?)</promise>\s*\Z", re.DOTALL)
_OBJECT_START_RE = re.compile(r"\{(?=\s*[\"}])")
MAX_OBJECT_STARTS = 500


def promise_claimed(message: str, promise: str) -> bool:
    """True only when the message ends with exactly <promise>PROMISE</promise> (whitespace normalised)."""
    if not promise:
        return False
    match = _PROMISE_RE.search(message.strip())
    return match is not None and " ".join(match.group(1).split()) == " ".join(promise.split())


def last_json_object(message: str) -> dict[str, Any] | None:
    """The last top-level JSON object in the message (fenced or not); nested objects are not mistaken for it."""
    decoder = json.JSONDecoder(strict=False)
    best: tuple[int, int, dict[str, Any]] | None = None
    # Only where an object can start, and only the last few hundred such places: each failed decode costs O(position)
    # (json's error message counts lines), so trying every "{" of 200 KB of garbage would take many seconds.
    starts = [match.start() for match in _OBJECT_START_RE.finditer(message)]
    for position in reversed(starts[-MAX_OBJECT_STARTS:]):
        try:
            value, end = decoder.raw_decode(message, position)
        except (ValueError, RecursionError):  # deep nesting exhausts the parser's stack: not a block either
            value = None
        if isinstance(value, dict):
            if best is None or end >= best[1]:
                best = (position, end, value)  # the first found, or an object enclosing it
            elif end <= best[0]:
                if message[end : best[0]].lstrip()[:1] in (",", "]", "}"):
                    continue  # both sit inside a list or object: the one enclosing them starts further back
                break  # a complete object before the best one: the best one is the last
    return best[2] if best else None


def parse_control_block(role: Role, message: str, max_goal_chars: int = MAX_GOAL_CHARS) -> ParseResult:
    """Validate the final message's control block for the role."""
    raw = last_json_object(message)
    if raw is None:
        return ParseResult(None, "no JSON control block found at the end of your final message")
    try:
        block = MODELS[role].model_validate(raw)
    except ValidationError as exc:
        return ParseResult(None, _describe(exc), raw)
    problem = _goal_problem(block, max_goal_chars)
    if problem:
        return ParseResult(None, problem, raw)
    return ParseResult(block, "", raw)  # type: ignore[arg-type]


def _goal_problem(block: _Block, max_goal_chars: int) -> str:
    if isinstance(block, AuditVerdict):
        if block.verdict == "reject" and not block.gaps:
            return '"gaps" is empty; a rejection must name each gap as a follow-up task with done_when criteria'
        if any(not gap.title or not [c for c in gap.done_when if c.strip()] for gap in block.gaps):
            return 'every gap needs a non-empty "title" and at least one "done_when" criterion'
    goal = getattr(block, "next_goal", "")
    needs_goal = (
        (isinstance(block, ExecutorReport) and block.status != "complete")
        or (isinstance(block, ReviewerVerdict) and block.verdict == "reject")
        or (isinstance(block, PlannerResult) and not block.stop)
    )
    if needs_goal and not goal:
        return '"next_goal" is missing or empty; it is mandatory here'
    if len(goal) > max_goal_chars:
        return f'"next_goal" is {len(goal)} characters long; keep it under {max_goal_chars}'
    return ""


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "(block)"
        parts.append(f'"{where}": {error["msg"]}')
    return "; ".join(parts)


def json_schema(role: Role) -> dict[str, Any]:
    """A strict JSON schema for the role's block, for `codex exec --output-schema`."""
    return strict_schema(MODELS[role])


def strict_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A strict JSON schema of a model (every field required, no other keys), for `--output-schema`."""
    return copy.deepcopy(_strict_schema(model))


@functools.cache
def _strict_schema(model: type[BaseModel]) -> dict[str, Any]:
    # Generating the schema takes pydantic about a millisecond; the loop writes one per agent call.
    schema = model.model_json_schema()
    for part in [schema, *schema.get("$defs", {}).values()]:  # nested objects must be strict too
        props: dict[str, Any] = part["properties"]
        for prop in props.values():
            prop.pop("default", None)
            prop.pop("title", None)
        part.pop("title", None)
        part["required"] = sorted(props)
        part["additionalProperties"] = False
    return schema
