"""What codex calls cost: the model a run uses, its price per million tokens, and the dollars of one call."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from codex_self_iter.agent.kinds import TokenUsage
from codex_self_iter.codex import TESTED_CODEX_VERSION
from codex_self_iter.codex.settings import CodexSettings

CODEX_DEFAULT_MODEL = "gpt-6.1-sol"  # the model codex-cli TESTED_CODEX_VERSION uses when nothing names one
PER_TOKENS = 1_000_000


class ModelPrice(BaseModel):
    """One model's price in US dollars per million tokens."""

    model_config = ConfigDict(extra="forbid")

    input: float = Field(ge=0, description="Per 1M input tokens that were not cached.")
    cached_input: float | None = Field(default=None, ge=0, description="Per 1M cached input tokens; unset = input.")
    output: float = Field(ge=0, description="Per 1M output tokens (reasoning tokens included).")

    def cost(self, usage: TokenUsage) -> float:
        """Dollars for this usage (codex counts cached tokens inside input_tokens)."""
        cached = min(usage.cached_input_tokens, usage.input_tokens)
        cached_price = self.input if self.cached_input is None else self.cached_input
        fresh = usage.input_tokens - cached
        return (fresh * self.input + cached * cached_price + usage.output_tokens * self.output) / PER_TOKENS

    def describe(self) -> str:
        """'$1.25 / $0.125 / $10 per 1M input / cached input / output tokens'."""
        cached = self.input if self.cached_input is None else self.cached_input
        return f"${self.input:g} / ${cached:g} / ${self.output:g} per 1M input / cached input / output tokens"


@cache
def bundled_prices() -> dict[str, ModelPrice]:
    """The price table shipped in the package (codex/prices.toml)."""
    text = resources.files("codex_self_iter.codex").joinpath("prices.toml").read_text(encoding="utf-8")
    return {name: ModelPrice.model_validate(entry) for name, entry in tomllib.loads(text)["models"].items()}


def find_price(model: str, overrides: Mapping[str, ModelPrice]) -> tuple[ModelPrice | None, str]:
    """The price of model and where it comes from: the config's [prices], else the bundled estimate."""
    if model in overrides:
        return overrides[model], "[prices] in the config"
    bundled = bundled_prices().get(model)
    return bundled, "bundled estimate" if bundled else ""


def codex_model(settings: CodexSettings, env: Mapping[str, str]) -> tuple[str, str]:
    """The model codex will use and what says so: [codex] model, a `-c model=` override, codex's own config, or
    codex's default."""
    if settings.model:
        return settings.model, "[codex] model"
    for override in settings.config_overrides:
        key, _, value = override.partition("=")
        if key.strip() == "model" and value.strip():
            return value.strip().strip("\"'"), "[codex] config_overrides"
    home = Path(env.get("CODEX_HOME") or Path(env.get("HOME") or Path.home()) / ".codex")
    config = _read_toml(home / "config.toml")
    profiles = config.get("profiles")
    profile = profiles.get(settings.profile) if settings.profile and isinstance(profiles, dict) else None
    if isinstance(profile, dict) and isinstance(profile.get("model"), str):
        return profile["model"], f"profile {settings.profile} in {home / 'config.toml'}"
    model = config.get("model")
    if isinstance(model, str):
        return model, str(home / "config.toml")
    return CODEX_DEFAULT_MODEL, f"the default of codex {TESTED_CODEX_VERSION}"


def _read_toml(path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}  # codex itself reports a broken config; the price lookup just falls back
