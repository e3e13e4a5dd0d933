"""The loop's boot line for fault-injection runs (see tests/support/faults.py for the CSI_FAULT kinds)."""

from __future__ import annotations

BOOT = r"""
import os, signal, sys
if os.environ.get("CSI_FSIZE"):  # a full disk: writes past this size fail with EFBIG (Python ignores SIGXFSZ)
    import resource
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(os.environ["CSI_FSIZE"]),) * 2)
spec = os.environ.get("CSI_FAULT")
if spec:
    kind, name, nth = spec.split(":")
    nth, seen = int(nth), [0]
    if kind in ("replace", "raise"):
        real_replace = os.replace
        def replace(src, dst, *args, **kwargs):
            if name == "*" or os.path.basename(os.fspath(dst)) == name:
                seen[0] += 1
                if seen[0] == nth and kind == "raise":
                    raise RuntimeError(f"injected fault at rename {nth} onto {name}")
                if seen[0] == nth:
                    os.kill(os.getpid(), signal.SIGKILL)
            return real_replace(src, dst, *args, **kwargs)
        os.replace = replace
    elif kind == "append":
        real_write = os.write
        def write(fd, data):
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                target = ""
            if os.path.basename(target) == name and len(data) > 1:
                seen[0] += 1
                if seen[0] == nth:
                    real_write(fd, bytes(data)[: len(data) // 2])
                    os.kill(os.getpid(), signal.SIGKILL)
            return real_write(fd, data)
        os.write = write
    elif kind == "record":
        real_write = os.write
        needle = f'"event": "{name}"'.encode()
        def write(fd, data):
            written = real_write(fd, data)
            if needle in bytes(data):
                seen[0] += 1
                if seen[0] == nth:
                    os.kill(os.getpid(), signal.SIGKILL)
            return written
        os.write = write
from codex_self_iter.cli import main
sys.exit(main(sys.argv[1:]))
"""
