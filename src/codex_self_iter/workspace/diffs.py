"""What changed since the baseline, bounded, for the reviewer and for runs/<n>/diff.patch."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from codex_self_iter.workspace.fingerprint import file_digest
from codex_self_iter.workspace.git import GIT_OUTPUT_LIMIT, run_git

UNTRACKED_PREVIEW_BYTES = 2000


def untouched(workspace: Path, preexisting: Mapping[str, str]) -> list[str]:
    """The paths that were already changed at the baseline and still have the same content."""
    return sorted(path for path, digest in preexisting.items() if file_digest(workspace / path).hex() == digest)


def diff_since(
    workspace: Path, base: str | None, exclude: str | None, max_chars: int, preexisting: Mapping[str, str] | None = None
) -> str:
    """`git diff <base>` plus untracked files, excluding the state dir and the files changed before the run that
    the run left alone; a note outside git."""
    kept = untouched(workspace, preexisting or {})
    spec = ["--", "."] + ([f":(exclude){exclude}"] if exclude else []) + [f":(exclude,literal){p}" for p in kept]
    target = [base] if base else []
    diff = _git(
        workspace,
        ["diff", "--no-color", "--no-ext-diff", "--no-textconv", *target, *spec],
        limit_bytes=max_chars * 4 + 1,
    )
    if diff is None:
        return "(not a git repository: no diff available; inspect the workspace directly)"
    untracked = _git(workspace, ["ls-files", "--others", "--exclude-standard", "-z", *spec]) or ""
    parts = [diff]
    size = len(diff)
    for name in [n for n in untracked.split("\0") if n]:
        if size > max_chars:
            break
        parts.append(f"--- new untracked file: {name}\n{_preview(workspace / name)}")
        size += len(parts[-1])
    text = "\n".join(part for part in parts if part.strip())
    if kept:
        shown = ", ".join(kept[:20]) + (f" and {len(kept) - 20} more" if len(kept) > 20 else "")
        note = f"(not shown: {len(kept)} file(s) already changed before the run and not touched since: {shown})"
        text = f"{text}\n{note}" if text else note
    if not text:
        return "(no changes since the baseline)"
    if len(text) > max_chars:
        text = text[:max_chars] + f"\n[... diff cut at {max_chars} characters; run git diff yourself ...]"
    return text


def changed_files(
    workspace: Path, base: str | None, exclude: str | None, preexisting: Mapping[str, str] | None = None
) -> int | None:
    """How many files the run changed since the baseline (tracked and untracked), or None outside git; files that
    were already changed at the baseline count only when their content changed since."""
    spec = ["--", "."] + ([f":(exclude){exclude}"] if exclude else [])
    tracked = _git(workspace, ["diff", "--name-only", "-z", *([base] if base else []), *spec])
    untracked = _git(workspace, ["ls-files", "--others", "--exclude-standard", "-z", *spec])
    if tracked is None or untracked is None:
        return None
    names = {n for n in (tracked + untracked).split("\0") if n}
    if preexisting:
        kept = set(untouched(workspace, preexisting))
        names = (names - kept) | (set(preexisting) - kept)  # a file reverted to HEAD was changed by the run too
    return len(names)


def _git(workspace: Path, args: list[str], limit_bytes: int = GIT_OUTPUT_LIMIT) -> str | None:
    """git's stdout, at most limit_bytes of it (a huge diff must not fill memory); None when git fails."""
    done = run_git(workspace, args, limit_bytes)
    return done.text() if done.ok else None


def _preview(path: Path) -> str:
    try:
        if not path.is_file():  # a FIFO the agent left behind would block open() forever
            return "(not a regular file)"
        with open(path, "rb") as handle:
            data = handle.read(UNTRACKED_PREVIEW_BYTES + 1)
    except OSError:
        return "(unreadable)"
    if b"\0" in data:
        return "(binary)"
    text = data[:UNTRACKED_PREVIEW_BYTES].decode("utf-8", errors="replace")
    return text + ("\n[...]" if len(data) > UNTRACKED_PREVIEW_BYTES else "")
