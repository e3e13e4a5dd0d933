"""The operating commands: each module one command, registered here."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

AddOptions = Callable[[argparse.ArgumentParser], None]
Lazy = Callable[[str, str], Any]


def register(sub: Any, add_loop_options: AddOptions, lazy: Lazy) -> None:
    """Add the commands other than `run` to the subparsers."""
