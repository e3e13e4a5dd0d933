"""`install-plugin [--codex-home DIR] [--uninstall]`: the Codex plugin shipped in this package."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from codex_self_iter.plugin.install import install_plugin


def cmd_install_plugin(args: argparse.Namespace) -> int:
    """Install (or with --uninstall remove) the plugin; 0 on success, 1 after one error line."""
    home = Path(args.codex_home).expanduser() if args.codex_home else None
    return install_plugin(home, args.uninstall, sys.stdout)
