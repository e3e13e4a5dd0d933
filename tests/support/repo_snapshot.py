"""Byte-level snapshots of what a worktree run must leave alone: the user's files, index, HEAD, refs and stash."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

SNAPSHOT_GIT_FILES = ("index", "HEAD", "ORIG_HEAD", "refs/heads/main", "refs/stash", "logs/refs/stash", "logs/HEAD")


def tree_digest(repo: Path) -> dict[str, str]:
    """sha256 of every file and symlink in the working tree (everything outside .git), by relative path."""
    found: dict[str, str] = {}
    for root, dirs, files in os.walk(repo):
        dirs[:] = [d for d in dirs if not (Path(root) == repo and d == ".git")]
        for name in files:
            path = Path(root) / name
            data = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
            found[str(path.relative_to(repo))] = hashlib.sha256(data).hexdigest()
        for name in dirs:
            found.setdefault(str((Path(root) / name).relative_to(repo)) + "/", "dir")
    return found


def repo_snapshot(repo: Path) -> dict[str, object]:
    """The tree, the bytes of index/HEAD/main/stash files, and what git says HEAD, status and stash are."""
    git_files = {}
    for name in SNAPSHOT_GIT_FILES:
        path = repo / ".git" / name
        git_files[name] = path.read_bytes() if path.exists() else None

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout

    return {
        "tree": tree_digest(repo),
        "git_files": git_files,
        "head": git("rev-parse", "HEAD"),
        "branch": git("symbolic-ref", "HEAD"),
        "stash": git("stash", "list", "--format=%H %gs"),
        "status": git("--no-optional-locks", "status", "--porcelain=v1", "--untracked-files=all"),
    }
