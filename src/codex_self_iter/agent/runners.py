"""Choosing the agent runner: the user's command template, or the built-in codex runner."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from codex_self_iter.agent.template import TemplateRunner
from codex_self_iter.agent.types import AgentRunner
from codex_self_iter.config import Settings
from codex_self_iter.state.layout import Layout


def make_runner(
    settings: Settings, layout: Layout, config_dir: Path | None, clock: Callable[[], float] = time.time
) -> AgentRunner:
    """A TemplateRunner when agent_command_template is set, else the codex runner (on the loop's clock)."""
    if settings.agent_command_template:
        search = [layout.workspace, *([config_dir] if config_dir else []), Path.cwd()]
        return TemplateRunner(settings.agent_command_template, search)
    from codex_self_iter.codex.runner import CodexRunner

    return CodexRunner(settings.codex, state_dir=layout.state_dir, clock=clock)


def codex_cli(settings: Settings) -> AgentRunner:
    """The codex runner, for what needs codex beside the agent (doctor: the plugin and the in-session hook)."""
    from codex_self_iter.codex.runner import CodexRunner

    return CodexRunner(settings.codex)
