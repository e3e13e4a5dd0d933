"""Opening files below a state dir without ever following a symbolic link the agent may have planted there.

The agent can write anything in its workspace, the state dir included. A link at `runs/00003` or at
`logs/iterations.jsonl` must not redirect the loop's writes to a file elsewhere. So every directory from the
guarded tree's trusted base down to the file is opened one component at a time with O_NOFOLLOW (a directory
link fails the open), and the file itself is opened with O_NOFOLLOW relative to its directory's descriptor.
Paths outside any guarded tree (e.g. the Codex home of `install-plugin`) are opened the ordinary way.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

from codex_self_iter.errors import StateError

PRIVATE_DIR_MODE = 0o700
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
# guarded root -> the trusted directory it is reached from (the workspace, or the root's parent when outside it)
_GUARDS: dict[Path, Path] = {}


def guard_tree(root: Path, trusted: Path) -> None:
    """From now on, nothing below root (root included) is reached through a symbolic link."""
    _GUARDS[Path(os.path.normpath(root))] = Path(os.path.normpath(trusted))


def guarded_base(path: Path) -> Path | None:
    """The trusted directory path's guarded tree is reached from, or None when path is in no guarded tree."""
    best: tuple[Path, Path] | None = None
    for root, trusted in _GUARDS.items():
        if (path == root or root in path.parents) and (best is None or len(root.parts) > len(best[0].parts)):
            best = (root, trusted)
    return best[1] if best else None


class LinkRefused(StateError):
    """A symbolic link (or another non-directory) where the loop keeps its own files."""


def refuse(path: Path) -> LinkRefused:
    """The one line for a planted link."""
    return LinkRefused(
        f"{path}: a symbolic link where the loop keeps its own files; refusing to write through it "
        "(remove the link; the agent must not touch the state dir)"
    )


def open_dir(directory: Path, create: bool) -> int:
    """A descriptor of directory; missing parts created owner-only when create. Raises OSError or LinkRefused."""
    directory = Path(os.path.abspath(directory))
    base = guarded_base(directory)
    if base is None:
        if create:
            _make_dirs_plain(directory)
        return os.open(directory, _DIR_FLAGS)
    fd = os.open(base, _DIR_FLAGS)
    here = base
    try:
        for part in directory.relative_to(base).parts:
            here = here / part
            child = _step(fd, part, here, create)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def _step(fd: int, name: str, path: Path, create: bool) -> int:
    """A descriptor of directory name below fd, never through a link (created when asked and missing)."""
    try:
        try:
            return os.open(name, _DIR_FLAGS | _NOFOLLOW, dir_fd=fd)
        except FileNotFoundError:
            if not create:
                raise
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, PRIVATE_DIR_MODE, dir_fd=fd)
            child = os.open(name, _DIR_FLAGS | _NOFOLLOW, dir_fd=fd)
            with contextlib.suppress(OSError):
                os.fchmod(child, PRIVATE_DIR_MODE)  # a umask may have taken owner bits away
            return child
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(fd, name):
            raise refuse(path) from None
        if exc.errno == errno.ENOTDIR:
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path)) from None
        raise


def _is_link(fd: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _make_dirs_plain(path: Path) -> None:
    missing: list[Path] = []
    here = path
    while not here.is_dir():
        missing.append(here)
        if here.parent == here:
            break
        here = here.parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, PRIVATE_DIR_MODE)
        except FileExistsError:
            if not directory.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(directory)) from None
            continue
        os.chmod(directory, PRIVATE_DIR_MODE)


def open_file(path: Path, flags: int, mode: int = 0o600, create_dirs: bool = False) -> int:
    """A descriptor of path opened with flags, never through a link; (dir fd stays internal). Raises OSError."""
    path = Path(os.path.abspath(path))
    dir_fd = open_dir(path.parent, create_dirs)
    try:
        try:
            return os.open(path.name, flags | _NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EMLINK) and _is_link(dir_fd, path.name):
                raise refuse(path) from None
            raise
    finally:
        os.close(dir_fd)


def open_regular(path: Path) -> int | None:
    """A read descriptor of path when it is a regular file; None when missing. Never blocks on a FIFO.

    A link, a FIFO or a device where the loop expects its own file is refused with one line (StateError);
    a directory raises IsADirectoryError, which readers treat like a corrupt file.
    """
    try:
        fd = open_file(path, os.O_RDONLY | os.O_NONBLOCK)
    except (FileNotFoundError, NotADirectoryError):
        return None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):  # unreadable as a file, but nothing blocks: callers treat it as corrupt
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        raise StateError(f"{path}: not a regular file (a FIFO or device?); remove it and run again")
    os.set_blocking(fd, True)
    return fd
