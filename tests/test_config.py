"""Config: the example documents every key with its default; errors name the file and key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from codex_self_iter.codex.settings import CodexSettings
from codex_self_iter.config import Settings, build_settings, load_config
from codex_self_iter.errors import UserError

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"


def test_example_documents_every_key_with_its_default() -> None:
    text = EXAMPLE.read_text()
    for name in [*Settings.model_fields, *CodexSettings.model_fields]:
        assert f"{name} =" in text or f"# {name} =" in text or f"[{name}]" in text, name
    loaded = build_settings(tomllib.loads(text), {}, "config.example.toml")
    assert loaded == Settings()


def test_original_tools_config_loads_with_the_same_meaning(tmp_path: Path) -> None:
    original = tmp_path / "config.toml"
    original.write_text(
        'agent_command_template = "scripts/invoke-codex-agent.sh {prompt_file} {workspace}"\n'
        "max_iterations = 0\nmax_stagnation = 4\ncommand_timeout_sec = 1200\n"
        'stop_file_name = "STOP"\nglobal_stop_file_name = ".codex-stop"\nhistory_tail = 8\nno_change_gate = true\n'
        "backoff_base_sec = 5\nbackoff_max_sec = 300\nno_change_backoff_sec = 60\n"
        "continue_false_backoff_sec = 300\nplanner_stop_backoff_sec = 600\n"
        'planner_model_hint = "balanced"\nreviewer_model_hint = "strict"\nlock_file_name = "loop.lock"\n'
        'completion_promise = "DONE"\n'
    )
    settings = build_settings(load_config(original), {}, str(original))
    assert settings.agent_command_template == "scripts/invoke-codex-agent.sh {prompt_file} {workspace}"
    assert settings.max_stagnation == 4 and settings.completion_promise == "DONE"


def test_command_line_beats_file_beats_default(tmp_path: Path) -> None:
    settings = build_settings({"max_iterations": 5, "history_tail": 3}, {"max_iterations": 9}, "f")
    assert (settings.max_iterations, settings.history_tail, settings.max_stagnation) == (9, 3, 4)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"nope": 1}, "f.toml: nope: unknown key"),
        ({"max_iterations": -1}, "f.toml: max_iterations:"),
        ({"codex": {"sandbox": "open"}}, "f.toml: codex.sandbox:"),
        ({"codex": {"modle": "x"}}, "f.toml: codex.modle: unknown key"),
    ],
)
def test_errors_name_file_and_key(raw: dict[str, object], expected: str) -> None:
    with pytest.raises(UserError) as caught:
        build_settings(raw, {}, "f.toml")
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)


def test_broken_toml_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("max_iterations = 3\nreviewer = maybe\n")
    with pytest.raises(UserError, match=r"bad.toml, line 2: invalid TOML"):
        load_config(bad)


@pytest.mark.parametrize("name", ["demo", "real-codex"])
def test_example_configs_are_valid(name: str) -> None:
    path = EXAMPLE.parent / "examples" / name / "codex-self-iter.toml"
    settings = build_settings(load_config(path), {}, str(path))
    assert settings.max_iterations > 0  # examples never run unbounded
