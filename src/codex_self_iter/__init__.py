"""codex-self-iter: a self-iterating goal loop for the Codex CLI."""

from __future__ import annotations

__version__ = "0.2.0"
