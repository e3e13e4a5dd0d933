"""The argv of one `codex exec` call (fresh or resumed thread), token by token, and a check that codex takes it."""

from __future__ import annotations

import json
from pathlib import Path

from codex_self_iter.codex import TESTED_CODEX_VERSION
from codex_self_iter.codex.binary import INSTALL_HINT
from codex_self_iter.codex.probe import CodexProbe
from codex_self_iter.codex.settings import CodexSettings
from codex_self_iter.errors import UserError

BYPASS_FLAG = "--dangerously-bypass-approvals-and-sandbox"
NO_CODEX_GOALS = "features.goals=false"  # Codex's own /goal continuation must never run inside the loop's threads
PROMPT_FROM_STDIN = "-"  # the prompt goes on stdin: no argv length limit, and exec never waits on an idle pipe


def fresh_argv(
    binary: str, settings: CodexSettings, *, workspace: Path, last_message: Path, schema: Path | None
) -> list[str]:
    """`codex exec --json -C <ws> -s <sandbox> -o <file> [--output-schema f] [...] -` for a new thread."""
    argv = [binary, "exec", "--json", "-C", str(workspace)]
    argv += [BYPASS_FLAG] if settings.bypass else ["-s", settings.sandbox]
    argv += ["-o", str(last_message)]
    if schema is not None:
        argv += ["--output-schema", str(schema)]
    argv += _model_args(settings)
    if settings.profile:
        argv += ["-p", settings.profile]
    argv += _config_args(settings, workspace)
    return [*argv, *settings.extra_args, PROMPT_FROM_STDIN]


def resume_argv(
    binary: str,
    settings: CodexSettings,
    thread_id: str,
    *,
    workspace: Path,
    last_message: Path,
    schema: Path | None,
) -> list[str]:
    """`codex exec resume <id> --json -o <file> ... -`, run with cwd = workspace (resume takes no -C or -s)."""
    argv = [binary, "exec"]
    if settings.profile:
        argv += ["-p", settings.profile]  # exec-level option: resume itself has no -p, but honours this one
    argv += ["resume", thread_id, "--json", "-o", str(last_message)]
    if schema is not None:
        argv += ["--output-schema", str(schema)]
    argv += _model_args(settings)
    argv += [BYPASS_FLAG] if settings.bypass else ["-c", f"sandbox_mode={json.dumps(settings.sandbox)}"]
    argv += _config_args(settings, workspace)
    return [*argv, *settings.extra_args, PROMPT_FROM_STDIN]


def _model_args(settings: CodexSettings) -> list[str]:
    argv = ["-m", settings.model] if settings.model else []
    if settings.skip_git_repo_check:
        argv.append("--skip-git-repo-check")
    return argv


def _config_args(settings: CodexSettings, workspace: Path) -> list[str]:
    argv: list[str] = ["-c", NO_CODEX_GOALS]
    if settings.writable_roots and not settings.unsandboxed:
        roots = [str((workspace / root).absolute()) for root in settings.writable_roots]
        # A TOML array of basic strings; JSON string syntax is valid TOML when non-ASCII stays raw.
        array = "[" + ", ".join(json.dumps(root, ensure_ascii=False) for root in roots) + "]"
        argv += ["-c", f"sandbox_workspace_write.writable_roots={array}"]
    for override in settings.config_overrides:
        argv += ["-c", override]
    return argv


def check_supported(settings: CodexSettings, probe: CodexProbe) -> None:
    """A UserError naming the first flag this run needs that the installed codex does not accept."""
    needed = ["--json", "-C", "-o", "-c", BYPASS_FLAG if settings.bypass else "-s"]
    needed += ["--output-schema"] if settings.output_schema else []
    needed += ["-m"] if settings.model else []
    needed += ["-p"] if settings.profile else []
    needed += ["--skip-git-repo-check"] if settings.skip_git_repo_check else []
    for flag in probe.missing(needed):
        raise UserError(_too_old(probe, f"`codex exec {flag}`"))
    for flag in probe.missing(_flags_of(settings.extra_args)):
        raise UserError(f"codex.extra_args: `{flag}` is not an option of `codex exec` in {_which(probe)}; remove it")
    if not settings.resume:
        return
    roles = ", ".join(settings.resume)
    if not probe.has_resume:
        raise UserError(_too_old(probe, f"`codex exec resume` (codex.resume is on for {roles})"))
    needed = ["--json", "-o", "-c"] + [flag for flag in needed if flag in (BYPASS_FLAG, "-m", "--skip-git-repo-check")]
    for flag in probe.missing(needed, resume=True):
        raise UserError(_too_old(probe, f"`codex exec resume {flag}` (codex.resume is on for {roles})"))
    for flag in probe.missing(_flags_of(settings.extra_args), resume=True):
        raise UserError(
            f"codex.extra_args: `{flag}` is not an option of `codex exec resume` in {_which(probe)}, "
            f"which codex.resume ({roles}) uses; remove the flag or turn off codex.resume"
        )


def _flags_of(args: list[str]) -> list[str]:
    return [arg.split("=", 1)[0] for arg in args if arg.startswith("-") and arg != PROMPT_FROM_STDIN]


def _which(probe: CodexProbe) -> str:
    return f"codex {probe.version or '(unknown version)'} at {probe.binary}"


def _too_old(probe: CodexProbe, what: str) -> str:
    return (
        f"{_which(probe)} does not support {what}, which codex-self-iter needs "
        f"(tested with {TESTED_CODEX_VERSION}); install it with `{INSTALL_HINT}`"
    )
