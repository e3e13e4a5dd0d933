"""A bug's crash report: the traceback, the versions and the argv, in a file; the terminal gets one line naming it."""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from codex_self_iter import __version__
from codex_self_iter.errors import StateError
from codex_self_iter.state.fsio import atomic_write_text

PACKAGES = ("pydantic", "filelock", "tomli-w")


def report_text(exc: BaseException, argv: Sequence[str], now: float) -> str:
    """What a maintainer needs: when, which versions, which command line, and the full traceback."""
    versions = [f"codex-self-iter {__version__}", f"python {platform.python_version()} ({sys.executable})"]
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    lines = [
        "codex-self-iter crash report: an unexpected error (a bug), not a problem with your input.",
        f"time: {time.strftime('%Y-%m-%dT%H:%M:%S%z', time.localtime(now))}",
        f"versions: {'; '.join(versions)}",
        f"platform: {platform.platform()}",
        f"argv: {list(argv)!r}",
        f"cwd: {os.getcwd()}",
        "",
        "".join(traceback.format_exception(exc)).rstrip(),
    ]
    return "\n".join(lines) + "\n"


def write_crash_report(exc: BaseException, argv: Sequence[str], state_dir: Path | None) -> Path | None:
    """Write the report into the state dir (or the temp dir when there is none); None when neither can be written."""
    now = time.time()
    name = f"crash-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}-{os.getpid()}.txt"
    text = report_text(exc, argv, now)
    places = [state_dir] if state_dir is not None and state_dir.is_dir() else []
    for directory in [*places, Path(tempfile.gettempdir())]:
        path = directory / (name if directory in places else f"codex-self-iter-{name}")
        try:
            atomic_write_text(path, text)
        except (OSError, StateError):
            continue
        return path
    return None


def crash_line(exc: BaseException, report: Path | None) -> str:
    """The one line the terminal shows."""
    what = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}".rstrip(": ")
    where = f"crash report: {report}" if report else "the crash report could not be written anywhere"
    return f"codex-self-iter: internal error (a bug; exit 70): {what}; {where}"
