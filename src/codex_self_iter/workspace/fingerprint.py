"""A cheap content fingerprint of the workspace: did an agent turn change anything at all?"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from codex_self_iter.workspace.git import run_git

STATUS_LIMIT_BYTES = 256 << 20
HASH_LIMIT_BYTES = 1 << 20  # huge files: hash the first MiB plus size and mtime, so time stays bounded
WALK_LIMIT_FILES = 50_000
SKIP_DIRS = {".git", "node_modules", ".venv", "__pycache__"}


@dataclass(frozen=True)
class Fingerprint:
    """A digest over HEAD, tracked changes and untracked content; `dirty` counts changed paths."""

    digest: str
    head: str | None
    dirty: int
    is_git: bool


def take_fingerprint(workspace: Path, exclude: str | None) -> Fingerprint:
    """Fingerprint the workspace, excluding the state dir; falls back to a file walk outside git."""
    status = _git_status(workspace, exclude)
    if status is None:
        return _walk_fingerprint(workspace, exclude)
    head, paths = status
    digest = hashlib.sha256((head or "").encode())
    for path in sorted(paths):
        digest.update(path.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(file_digest(workspace / path))
    return Fingerprint(digest.hexdigest(), head, len(paths), True)


def _git_status(workspace: Path, exclude: str | None) -> tuple[str | None, set[str]] | None:
    # --no-optional-locks: a look must not take index.lock (or rewrite the index) under the user's or agent's git.
    args = ["--no-optional-locks", "status", "--porcelain=v2", "-z", "--branch", "--untracked-files=all", "--", "."]
    if exclude:
        args.append(f":(exclude){exclude}")
    done = run_git(workspace, args, STATUS_LIMIT_BYTES)
    if done.code != 0:  # also when cut at the limit: a partial list must not pass for the whole
        return None
    head: str | None = None
    paths: set[str] = set()
    entries = done.stdout.split(b"\0")
    index = 0
    while index < len(entries):
        entry = entries[index].decode("utf-8", "surrogateescape")
        index += 1
        if entry.startswith("# branch.oid "):
            oid = entry.split(" ", 2)[2]
            head = None if oid == "(initial)" else oid
        elif entry.startswith("1 "):
            paths.add(entry.split(" ", 8)[8])
        elif entry.startswith("2 "):
            paths.add(entry.split(" ", 9)[9])
            index += 1  # the rename's original path follows as its own entry
        elif entry.startswith("u "):
            paths.add(entry.split(" ", 10)[10])
        elif entry.startswith("? "):
            paths.add(entry[2:])
    return head, paths


def dirty_digests(workspace: Path, exclude: str | None, limit: int) -> dict[str, str]:
    """The paths that already differ from HEAD (edited or untracked), with their content digests, at most limit;
    {} outside git. The baseline keeps them so that what was there before a run is not counted as its work."""
    status = _git_status(workspace, exclude)
    if status is None:
        return {}
    return {path: file_digest(workspace / path).hex() for path in sorted(status[1])[:limit]}


def file_digest(path: Path) -> bytes:
    """A digest of one file's type, size and content (the first MiB of a huge file, plus its mtime)."""
    try:
        info = path.lstat()
    except OSError:
        return b"<missing>"
    if path.is_symlink():
        return b"link:" + os.readlink(path).encode("utf-8", "surrogateescape")
    if not path.is_file():
        return b"<other>"
    digest = hashlib.blake2b(f"{info.st_size}:{info.st_mode}".encode(), digest_size=16)
    try:
        with open(path, "rb") as handle:
            digest.update(handle.read(HASH_LIMIT_BYTES))
    except OSError:
        return b"<unreadable>"
    if info.st_size > HASH_LIMIT_BYTES:
        digest.update(str(info.st_mtime_ns).encode())
    return digest.digest()


def _walk_fingerprint(workspace: Path, exclude: str | None) -> Fingerprint:
    digest = hashlib.sha256(b"walk")
    excluded = (workspace / exclude).resolve() if exclude else None
    count = 0
    for root, dirs, files in os.walk(workspace):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and (here / d).resolve() != excluded)
        for name in sorted(files):
            path = here / name
            try:
                info = path.lstat()
            except OSError:
                continue
            rel = str(path.relative_to(workspace))
            digest.update(f"{rel}\0{info.st_size}\0{info.st_mtime_ns}\0".encode("utf-8", "surrogateescape"))
            count += 1
            if count >= WALK_LIMIT_FILES:
                return Fingerprint(digest.hexdigest(), None, count, False)
    return Fingerprint(digest.hexdigest(), None, count, False)
