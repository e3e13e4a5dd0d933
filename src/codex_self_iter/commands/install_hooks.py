"""`install-hooks [--codex-home DIR | --repo DIR] [--uninstall] [--trust]`: the Stop hook in a hooks.json."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from codex_self_iter.errors import UserError
from codex_self_iter.session.hookspec import identity_hash, trust_key
from codex_self_iter.session.install import install_hook, uninstall_hook
from codex_self_iter.session.trust import trust_lines, write_trust


def codex_home(given: str | None) -> Path:
    """--codex-home, else $CODEX_HOME, else ~/.codex (absolute)."""
    return Path(given or os.environ.get("CODEX_HOME") or Path.home() / ".codex").expanduser().absolute()


def hooks_file(args: argparse.Namespace) -> Path:
    """The hooks.json this invocation edits."""
    if args.repo:
        repo = Path(args.repo).expanduser().absolute()
        if not repo.is_dir():
            raise UserError(f"{repo}: --repo is not a directory; pass the repository's root")
        return repo / ".codex" / "hooks.json"
    return codex_home(args.codex_home) / "hooks.json"


def cmd_install_hooks(args: argparse.Namespace) -> int:
    """Install (or remove) the hook; print what changed and what trust it still needs."""
    path = hooks_file(args)
    config = codex_home(args.codex_home) / "config.toml"
    if args.uninstall:
        removed = uninstall_hook(path)
        print(
            f"codex-self-iter: removed {removed} Stop hook(s) from {path}" if removed else f"no hook of ours in {path}"
        )
        return 0
    changed, placed = install_hook(path)
    print(f"codex-self-iter: {'installed the Stop hook in' if changed else 'the Stop hook is already in'} {path}")
    print(f"  command: {placed.entry['command']} (timeout {placed.entry['timeout']}s)")
    key = trust_key(path, placed.group, placed.handler)
    digest = identity_hash("stop", placed.entry)
    if args.trust:
        wrote = write_trust(config, key, digest)
        print(f"  trusted in {config}" + ("" if wrote else " (already)"))
    else:
        print(
            "Codex skips untrusted hooks silently. Trust it in Codex (/hooks), or run again with --trust, "
            f"or add to {config}:\n" + trust_lines(key, digest).rstrip()
        )
    if args.repo:
        print(f"  note: {path} is loaded only while Codex trusts the project {Path(args.repo).absolute()}")
    return 0
