"""The argv of fresh and resumed codex calls, the [codex] settings, and the check that codex accepts them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from codex_self_iter.agent.kinds import Role
from codex_self_iter.codex import TESTED_CODEX_VERSION
from codex_self_iter.codex.argv import BYPASS_FLAG, NO_CODEX_GOALS, check_supported, fresh_argv, resume_argv
from codex_self_iter.codex.probe import CodexProbe
from codex_self_iter.codex.settings import CodexSettings
from codex_self_iter.errors import UserError

_EXEC_HELP_FLAGS = (
    "-c --config --enable --disable --strict-config -i --image -m --model --oss --local-provider -p --profile -s "
    "--sandbox --approve-for-me --dangerously-bypass-approvals-and-sandbox --dangerously-bypass-hook-trust -C --cd "
    "--worktree --add-dir --skip-git-repo-check --trust --ephemeral --ignore-user-config --ignore-rules "
    "--output-schema --color --json -o --output-last-message -h --help -V --version"
)
EXEC_FLAGS = frozenset(_EXEC_HELP_FLAGS.split())
_RESUME_HELP_FLAGS = (
    "-c --config --last --all -i --image --strict-config -m --model --dangerously-bypass-approvals-and-sandbox "
    "--dangerously-bypass-hook-trust --worktree --skip-git-repo-check --trust --ephemeral --ignore-user-config "
    "--ignore-rules --output-schema --json -o --output-last-message -h --help"
)
RESUME_FLAGS = frozenset(_RESUME_HELP_FLAGS.split())
PROBE = CodexProbe("/bin/codex", TESTED_CODEX_VERSION, EXEC_FLAGS, RESUME_FLAGS)
WS = Path("/srv/my ws")
LAST = Path("/state/runs/1/executor/last_message.txt")
SCHEMA = Path("/state/schemas/executor.json")


def test_fresh_argv_defaults() -> None:
    argv = fresh_argv("codex", CodexSettings(), workspace=WS, last_message=LAST, schema=SCHEMA)
    assert argv == [
        "codex", "exec", "--json", "-C", str(WS), "-s", "workspace-write",
        "-o", str(LAST), "--output-schema", str(SCHEMA), "-c", NO_CODEX_GOALS, "-",
    ]  # fmt: skip


def test_fresh_argv_with_everything() -> None:
    settings = CodexSettings(
        model="gpt-5.5",
        profile="deep",
        sandbox="read-only",
        config_overrides=['model_reasoning_effort="high"'],
        extra_args=["--dangerously-bypass-hook-trust"],
        writable_roots=[".git", "/abs/cache"],
        skip_git_repo_check=True,
    )
    argv = fresh_argv("codex", settings, workspace=WS, last_message=LAST, schema=None)
    assert argv == [
        "codex", "exec", "--json", "-C", str(WS), "-s", "read-only", "-o", str(LAST),
        "-m", "gpt-5.5", "--skip-git-repo-check", "-p", "deep", "-c", NO_CODEX_GOALS,
        "-c", f'sandbox_workspace_write.writable_roots=["{WS}/.git", "/abs/cache"]',
        "-c", 'model_reasoning_effort="high"',
        "--dangerously-bypass-hook-trust", "-",
    ]  # fmt: skip


def test_bypass_replaces_the_sandbox_flag_and_drops_writable_roots() -> None:
    settings = CodexSettings(bypass=True, writable_roots=[".git"])
    argv = fresh_argv("codex", settings, workspace=WS, last_message=LAST, schema=SCHEMA)
    assert BYPASS_FLAG in argv
    assert "-s" not in argv
    assert not any("writable_roots" in arg for arg in argv)
    assert settings.unsandboxed


def test_resume_argv_has_no_cd_or_sandbox_flag() -> None:
    settings = CodexSettings(profile="deep", model="gpt-5.5", writable_roots=["build"])
    argv = resume_argv("codex", settings, "th-1", workspace=WS, last_message=LAST, schema=SCHEMA)
    assert argv == [
        "codex", "exec", "-p", "deep", "resume", "th-1", "--json", "-o", str(LAST),
        "--output-schema", str(SCHEMA), "-m", "gpt-5.5",
        "-c", 'sandbox_mode="workspace-write"', "-c", NO_CODEX_GOALS,
        "-c", f'sandbox_workspace_write.writable_roots=["{WS}/build"]', "-",
    ]  # fmt: skip
    assert "-C" not in argv and "-s" not in argv


def test_resume_argv_in_bypass_mode() -> None:
    argv = resume_argv("codex", CodexSettings(bypass=True), "th-1", workspace=WS, last_message=LAST, schema=None)
    assert argv == [
        "codex", "exec", "resume", "th-1", "--json", "-o", str(LAST), BYPASS_FLAG, "-c", NO_CODEX_GOALS, "-"
    ]  # fmt: skip


def test_every_call_fresh_or_resumed_turns_off_codex_goals() -> None:
    for settings in (CodexSettings(), CodexSettings(bypass=True), CodexSettings(config_overrides=["x=1"])):
        fresh = fresh_argv("codex", settings, workspace=WS, last_message=LAST, schema=None)
        resumed = resume_argv("codex", settings, "th-1", workspace=WS, last_message=LAST, schema=None)
        for argv in (fresh, resumed):
            assert argv[argv.index(NO_CODEX_GOALS) - 1] == "-c"


def test_writable_roots_are_a_toml_array_even_with_quotes_and_unicode() -> None:
    settings = CodexSettings(writable_roots=['/data/we "quote"', "/données"])
    argv = fresh_argv("codex", settings, workspace=WS, last_message=LAST, schema=None)
    assert 'sandbox_workspace_write.writable_roots=["/data/we \\"quote\\"", "/données"]' in argv


def test_never_approval_or_full_auto_flags() -> None:
    for settings in (CodexSettings(), CodexSettings(bypass=True), CodexSettings(sandbox="danger-full-access")):
        argv = fresh_argv("codex", settings, workspace=WS, last_message=LAST, schema=SCHEMA)
        assert not {"-a", "--ask-for-approval", "--full-auto"} & set(argv)


def test_check_supported_accepts_the_tested_codex() -> None:
    check_supported(CodexSettings(resume=[Role.EXECUTOR], model="m", profile="p", bypass=True), PROBE)


@pytest.mark.parametrize(
    ("settings", "probe", "fragment"),
    [
        (CodexSettings(), CodexProbe("/x/codex", "0.40.0", EXEC_FLAGS - {"--output-schema"}, RESUME_FLAGS),
         "`codex exec --output-schema`"),
        (CodexSettings(model="m"), CodexProbe("/x/codex", "0.40.0", EXEC_FLAGS - {"-m"}, RESUME_FLAGS),
         "`codex exec -m`"),
        (CodexSettings(resume=[Role.EXECUTOR]), CodexProbe("/x/codex", "0.40.0", EXEC_FLAGS, frozenset()),
         "`codex exec resume`"),
        (CodexSettings(resume=[Role.EXECUTOR], bypass=True),
         CodexProbe("/x/codex", "0.40.0", EXEC_FLAGS, RESUME_FLAGS - {BYPASS_FLAG}),
         f"`codex exec resume {BYPASS_FLAG}`"),
        (CodexSettings(extra_args=["--bogus=1"]), PROBE, "codex.extra_args: `--bogus`"),
        (CodexSettings(extra_args=["--add-dir", "/x"], resume=[Role.REVIEWER]), PROBE,
         "`--add-dir` is not an option of `codex exec resume`"),
    ],
)  # fmt: skip
def test_check_supported_names_the_missing_flag(settings: CodexSettings, probe: CodexProbe, fragment: str) -> None:
    with pytest.raises(UserError) as caught:
        check_supported(settings, probe)
    message = str(caught.value)
    assert fragment in message
    assert "\n" not in message
    if "extra_args" not in fragment and "not an option" not in fragment:
        assert TESTED_CODEX_VERSION in message and "npm install -g @openai/codex@" in message


def test_resume_without_output_schema_support_is_not_an_error() -> None:
    probe = CodexProbe("/x/codex", "0.100.0", EXEC_FLAGS, RESUME_FLAGS - {"--output-schema"})
    check_supported(CodexSettings(resume=[Role.EXECUTOR]), probe)
    assert not probe.supports("--output-schema", resume=True)


def test_settings_reject_unknown_keys_and_bad_values() -> None:
    with pytest.raises(ValidationError):
        CodexSettings.model_validate({"sandbox_mode": "read-only"})
    with pytest.raises(ValidationError):
        CodexSettings.model_validate({"sandbox": "everything"})
    with pytest.raises(ValidationError):
        CodexSettings.model_validate({"resume": ["coder"]})
    with pytest.raises(ValidationError, match="key=value"):
        CodexSettings.model_validate({"config_overrides": ["no-equals-sign"]})
    with pytest.raises(ValidationError):
        CodexSettings.model_validate({"resume_max_turns": -1})


def test_settings_resume_all_and_roles() -> None:
    assert CodexSettings.model_validate({"resume": "all"}).resume == list(Role)
    assert CodexSettings.model_validate({"resume": ["executor"]}).resume == [Role.EXECUTOR]


def test_every_setting_has_a_default_and_a_one_line_description() -> None:
    CodexSettings()  # all defaults
    for name, field in CodexSettings.model_fields.items():
        assert field.description and "\n" not in field.description, name


def test_safety_warning_only_when_unsandboxed() -> None:
    assert CodexSettings().safety_warning() is None
    assert "bypass" in (CodexSettings(bypass=True).safety_warning() or "")
    assert "danger-full-access" in (CodexSettings(sandbox="danger-full-access").safety_warning() or "")
