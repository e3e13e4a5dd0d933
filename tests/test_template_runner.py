"""Command templates: split into argv before substitution, relative programs resolved sensibly."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_self_iter.agent.kinds import Role
from codex_self_iter.agent.template import REPO_ROOT, TemplateRunner, split_template
from codex_self_iter.agent.types import AgentRequest
from codex_self_iter.errors import UserError

WRAPPER_TEMPLATE = "scripts/invoke-codex-agent.sh {prompt_file} {workspace}"


def request(tmp_path: Path, workspace: Path) -> AgentRequest:
    return AgentRequest(
        role=Role.EXECUTOR,
        iteration=3,
        prompt_file=tmp_path / "my prompts" / "p {workspace}.md",
        prompt_text="x",
        workspace=workspace,
        state_dir=workspace / ".codex-self-iter",
        run_dir=tmp_path / "run",
        schema_file=tmp_path / "schema.json",
        timeout_sec=5,
    )


def test_documented_wrapper_template_resolves_from_any_workspace(tmp_path: Path) -> None:
    elsewhere = tmp_path / "some other workspace"
    elsewhere.mkdir()
    runner = TemplateRunner(WRAPPER_TEMPLATE, [elsewhere])
    assert runner.executable == str((REPO_ROOT / "scripts" / "invoke-codex-agent.sh").resolve())


def test_a_workspace_copy_of_the_program_wins(tmp_path: Path) -> None:
    script = tmp_path / "scripts" / "invoke-codex-agent.sh"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    assert TemplateRunner(WRAPPER_TEMPLATE, [tmp_path]).executable == str(script.resolve())


def test_values_with_spaces_quotes_and_placeholders_stay_one_argument(tmp_path: Path) -> None:
    workspace = tmp_path / "a 'quoted' $(workspace)"
    workspace.mkdir()
    runner = TemplateRunner("echo --prompt={prompt_file} {workspace} {role}-{iteration}", [workspace])
    argv = runner.describe(request(tmp_path, workspace))
    assert argv == [
        "echo",
        f"--prompt={tmp_path}/my prompts/p {{workspace}}.md",
        str(workspace),
        "executor-3",
    ]


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("agent {workspace}", "must contain {prompt_file}"),
        ("agent {prompt_file} {wokspace}", "unknown placeholder {wokspace}"),
        ("agent '{prompt_file}", "cannot split"),
        ("   ", "empty"),
    ],
)
def test_bad_templates_are_one_line_errors(template: str, message: str) -> None:
    with pytest.raises(UserError, match=message.replace("{", r"\{").replace("}", r"\}")):
        split_template(template)


def test_missing_wrapper_suggests_the_builtin_runner(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="built-in codex runner"):
        TemplateRunner("/nowhere/invoke-codex-agent.sh {prompt_file}", [tmp_path])
