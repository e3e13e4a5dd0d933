"""The built-in runner for the real Codex CLI (`codex exec --json`)."""

from __future__ import annotations

TESTED_CODEX_VERSION = "0.169.0"
"""The @openai/codex version the end-to-end suite runs against; CI installs exactly this one."""
