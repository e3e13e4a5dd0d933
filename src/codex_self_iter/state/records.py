"""What the state files keep of a check run and of a review: typed, shared by runtime.json and status.json."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

from codex_self_iter.agent.control import ReviewerVerdict


class CheckExcerpt(BaseModel):
    """What people see of a check that did not pass: its outcome, the last lines of its output, its log files."""

    model_config = ConfigDict(extra="ignore")

    outcome: str = ""
    tail: list[str] = []
    logs: list[str] = []


class CheckLine(BaseModel):
    """One check of a run, as the state files keep it (the full result is in runs/NNNNN/checks/checks.json)."""

    model_config = ConfigDict(extra="ignore")

    name: str
    status: str
    exit_code: int | None = None
    duration_sec: float = 0.0
    excerpt: CheckExcerpt | None = None  # only for a check that did not pass

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if self.excerpt is None:
            data.pop("excerpt", None)
        return data


class ChecksSummary(BaseModel):
    """A check run as `status --json` and the journal show it."""

    model_config = ConfigDict(extra="ignore")

    iteration: int = 0
    all_passed: bool = False
    summary: str = ""
    checks: list[CheckLine] = []


class ChecksRecord(ChecksSummary):
    """The latest check run as runtime.json and status.json keep it: the summary plus the text the prompts show."""

    prompt_text: str = ""


class ReviewRecord(ReviewerVerdict):
    """The latest review: the reviewer's verdict, when it was given, and whether it was a periodic one."""

    iteration: int = 0
    periodic: bool = False

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A claim review is written without the key, as it always was; only periodic reviews say so.
        data: dict[str, Any] = handler(self)
        if not self.periodic:
            data.pop("periodic", None)
        return data
