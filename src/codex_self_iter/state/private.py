"""Where loop-private state lives: a per-user directory outside the workspace, keyed by real paths.

The agent can write anything in its workspace, the state dir included; what must not be forged or deleted (locks,
the running agent, the stop latch, the config record, protected-tests snapshots, in-session contracts) lives here.
Standard library and os.path only: the Stop hook's fast path computes these paths on every Codex turn.
"""

from __future__ import annotations

import os

KEY_CHARS = 20


def private_state_root() -> str:
    """$XDG_STATE_HOME/codex-self-iter, else ~/.local/state/codex-self-iter: where the agent's workspace is not."""
    base = os.environ.get("XDG_STATE_HOME", "")
    root = base if os.path.isabs(base) else os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(root, "codex-self-iter")


def path_key(path: str) -> str:
    """A short, stable name for an absolute path."""
    try:  # the built-in module: importing hashlib (OpenSSL) costs ~3 ms, on every Codex turn for the hook
        from _sha256 import sha256  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # Python 3.12+ (and builds without it)
        from hashlib import sha256
    digest: str = sha256(path.encode("utf-8", "surrogateescape")).hexdigest()
    return digest[:KEY_CHARS]


def state_dir_path(workspace: str, state_dir: str) -> str:
    """A state dir's absolute path (workspace: its real path), without following a link at the state dir itself.

    Inside the workspace the path is taken as written (the agent could plant a link there); outside it, its parent
    is resolved (a user's own links).
    """
    lexical = os.path.normpath(os.path.join(workspace, os.path.expanduser(state_dir)))
    if lexical.startswith(workspace.rstrip(os.sep) + os.sep):
        return lexical
    return os.path.join(os.path.realpath(os.path.dirname(lexical)), os.path.basename(lexical))


def private_dir_for(state_dir: str) -> str:
    """The loop-private state of one state dir (`rm -rf` of the state dir leaves it, and the lock in it, alone)."""
    return os.path.join(private_state_root(), path_key(state_dir))


def workspace_private_dir(workspace: str) -> str:
    """The loop-private state of one workspace, by its real path: shared by every loop on it, whatever its state dir."""
    return os.path.join(private_state_root(), "workspaces", path_key(os.path.realpath(workspace)))
