"""A throwaway CODEX_HOME whose config points the real codex binary at the fake Responses server."""

from __future__ import annotations

from pathlib import Path

MOCK_MODEL = "gpt-5.5"  # a bundled slug: no "model metadata not found" warning, apply_patch offered


def write_codex_home(home: Path, base_url: str, *, model: str = MOCK_MODEL, extra_toml: str = "") -> Path:
    """Write config.toml for the fake provider into `home` (created) and return `home`."""
    home.mkdir(parents=True, exist_ok=True)
    # Top-level keys must come before any [table]: appended later they would land inside that table.
    config = f"""model = "{model}"
model_provider = "mock"
{extra_toml}
[features]
unbounded_connection_retries = false

[model_providers.mock]
name = "mock"
base_url = "{base_url}"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
"""
    (home / "config.toml").write_text(config, encoding="utf-8")
    return home
