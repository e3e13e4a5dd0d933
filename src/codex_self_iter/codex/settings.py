"""The `[codex]` config table: how the built-in runner invokes `codex exec`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from codex_self_iter.agent.kinds import Role

SandboxMode = Literal["read-only", "workspace-write", "danger-full-access"]


class CodexSettings(BaseModel):
    """Settings of the built-in Codex runner; unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")

    binary: str | None = Field(
        default=None, description="Path of the codex executable; CODEX_BIN wins, then this, then PATH."
    )
    model: str | None = Field(default=None, description="Model passed as `-m`; unset uses codex's own default.")
    profile: str | None = Field(default=None, description="Codex profile passed as `-p` (layers <name>.config.toml).")
    sandbox: SandboxMode = Field(default="workspace-write", description="Sandbox for the agent's shell commands.")
    bypass: bool = Field(
        default=False,
        description="Use --dangerously-bypass-approvals-and-sandbox (no sandbox at all; only inside an outer one).",
    )
    config_overrides: list[str] = Field(
        default_factory=list, description='Extra `-c key=value` overrides, e.g. "model_reasoning_effort=\\"high\\"".'
    )
    extra_args: list[str] = Field(
        default_factory=list, description="Extra codex exec arguments, appended before the prompt (checked at start)."
    )
    writable_roots: list[str] = Field(
        default_factory=list,
        description="Extra writable dirs for workspace-write (e.g. the repo's .git so the agent can commit).",
    )
    skip_git_repo_check: bool = Field(
        default=False, description="Pass --skip-git-repo-check so codex runs in a workspace that is not a git repo."
    )
    output_schema: bool = Field(
        default=True, description="Pass the role's control-block JSON schema as --output-schema."
    )
    resume: list[Role] = Field(
        default_factory=list, description='Roles whose calls continue one Codex thread, e.g. ["executor"].'
    )
    resume_max_turns: int = Field(
        default=20, ge=0, description="Start a fresh thread after this many resumed turns (0 = no limit)."
    )
    resume_max_tokens: int = Field(
        default=2_000_000,
        ge=0,
        description="Start a fresh thread once the thread has used this many tokens (0 = no limit).",
    )
    turn_grace_sec: float = Field(
        default=5.0, ge=0, description="After turn.completed and the last message: wait this long for codex to exit."
    )
    stall_timeout_sec: float = Field(
        default=300.0, ge=0, description="End a call when codex emits no --json event for this long (0 = never)."
    )
    probe_timeout_sec: float = Field(
        default=30.0, gt=0, description="Timeout of each `codex --version` / `--help` call made at start."
    )

    @field_validator("config_overrides")
    @classmethod
    def _overrides_are_assignments(cls, value: list[str]) -> list[str]:
        for item in value:
            key, sep, _ = item.partition("=")
            if not sep or not key.strip():
                raise ValueError(f'"{item}" is not of the form key=value')
        return value

    @field_validator("resume", mode="before")
    @classmethod
    def _resume_accepts_all(cls, value: object) -> object:
        if value == "all" or value == ["all"]:
            return [role.value for role in Role]
        return value

    @property
    def unsandboxed(self) -> bool:
        """True when the agent's commands run without any Codex sandbox."""
        return self.bypass or self.sandbox == "danger-full-access"

    def safety_warning(self) -> str | None:
        """The loud one-line warning to print when the agent runs unsandboxed, else None."""
        if self.bypass:
            what = "--dangerously-bypass-approvals-and-sandbox: NO sandbox, NO approvals"
        elif self.sandbox == "danger-full-access":
            what = "sandbox danger-full-access: NO sandbox"
        else:
            return None
        return f"codex runs with {what}; the agent can change anything this user can. Use only inside an outer sandbox."
