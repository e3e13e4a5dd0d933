"""Helpers of the GitHub Action's run step (scripts/action-run.sh): the run's config and the pull request body.

`python -m codex_self_iter.fleet.action config ...` writes the config the loop runs with: the repository's own
config (if any) with the action's inputs on top. `... pr-body ...` prints the loop's summary as Markdown.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tomli_w

from codex_self_iter.config import load_config
from codex_self_iter.errors import UserError
from codex_self_iter.fleet.text import clean
from codex_self_iter.state.fsio import atomic_write_text
from codex_self_iter.state.snapshot import StatusSnapshot, read_snapshot
from codex_self_iter.text import shorten
from codex_self_iter.workspace.git import run_git

MAX_BODY_CHARS = 60_000  # GitHub refuses a pull request body over 65,536 characters
MAX_TASK_CHARS = 4_000


def run_config(base: Path | None, inputs: dict[str, str]) -> dict[str, Any]:
    """The base config's table with the non-empty inputs on top (checks: one command per line)."""
    table = load_config(base if base is not None and base.is_file() else None)
    if inputs.get("checks", "").strip():
        table["checks"] = [line.strip() for line in inputs["checks"].splitlines() if line.strip()]
    for key in ("max_iterations", "max_total_tokens"):
        if inputs.get(key, "").strip():
            table[key] = _number(key, inputs[key], int)
    if inputs.get("max_wall_clock_sec", "").strip():
        table["max_wall_clock_sec"] = _number("max_wall_clock_sec", inputs["max_wall_clock_sec"], float)
    if inputs.get("agent_command_template", "").strip():
        table["agent_command_template"] = inputs["agent_command_template"].strip()
    if inputs.get("model", "").strip():
        table.setdefault("codex", {})["model"] = inputs["model"].strip()
    return table


def _number(key: str, text: str, kind: type[int] | type[float]) -> int | float:
    try:
        value = kind(text.strip())
    except ValueError:
        raise UserError(f"input {key.replace('_', '-')}: {text.strip()!r} is not a number") from None
    if value < 0:
        raise UserError(f"input {key.replace('_', '-')}: must not be negative")
    return value


def pr_body(state_dir: Path, workspace: Path, base: str, branch: str, task_file: Path | None) -> str:
    """The loop's outcome as a pull request body: the verdict, the evidence, the goals and the diff's stat."""
    found, _ = read_snapshot(state_dir / "status.json")
    snap = found or StatusSnapshot()
    reason = snap.stop_reason or "did not run"
    verdict = "complete: checks pass and the reviewer approved" if reason == "complete" else f"stopped: {reason}"
    lines = [f"## codex-self-iter: {verdict} (exit {snap.exit_code})", ""]
    if snap.stop_detail and reason != "complete":
        lines += [clean(snap.stop_detail, 500), ""]
    rows: list[tuple[str, str]] = [
        ("branch", f"`{branch}` from `{base}`"),
        ("iterations", str(snap.iteration)),
        ("agent calls", str(snap.totals.agent_calls)),
        ("tokens", f"{snap.totals.tokens:,}"),
    ]
    if snap.cost_usd is not None:  # unknown (no usage, or no price for the model): no row rather than a false $0
        rows.append(("cost", f"${snap.cost_usd:.2f}"))
    if snap.last_checks is not None:
        rows.append(("checks", f"{clean(snap.last_checks.summary, 200)} (iteration {snap.last_checks.iteration})"))
    if snap.last_review is not None:
        reasons = "; ".join(snap.last_review.reasons)
        rows.append(("review", f"{snap.last_review.verdict}: {clean(reasons, 400)}"))
    lines += ["| | |", "|---|---|", *[f"| {key} | {_cell(value)} |" for key, value in rows], ""]
    goals = [clean(goal, 300) for goal in snap.goal_history]
    if goals:
        lines += ["### Goals", "", *[f"- {goal}" for goal in goals[-5:]], ""]
    stat = _git(workspace, "diff", "--stat", f"{base}..HEAD")
    lines += ["### Changes", "", "```", shorten(stat.strip("\n") or "(no changes)", 8_000), "```", ""]
    if task_file is not None and task_file.is_file():
        task = task_file.read_text(encoding="utf-8", errors="replace")
        lines += ["<details><summary>Task</summary>", "", shorten(task.strip(), MAX_TASK_CHARS), "", "</details>", ""]
    lines.append("The loop's state dir (status, journal, prompts, agent output) is attached to the workflow run.")
    return shorten("\n".join(lines), MAX_BODY_CHARS) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _git(workspace: Path, *args: str) -> str:
    done = run_git(workspace, list(args))
    return done.text() if done.code == 0 else f"(git {args[0]} failed: {done.error()[:200]})"


def main(argv: Sequence[str] | None = None) -> int:
    """`config --out FILE [--base FILE] [--INPUT VALUE ...]` or `pr-body --state-dir ... --workspace ...`."""
    parser = argparse.ArgumentParser(prog="python -m codex_self_iter.fleet.action")
    sub = parser.add_subparsers(dest="command", required=True)
    config = sub.add_parser("config")
    config.add_argument("--out", required=True)
    config.add_argument("--base")
    for key in ("checks", "max_iterations", "max_total_tokens", "max_wall_clock_sec", "model"):
        config.add_argument(f"--{key.replace('_', '-')}", dest=key, default="")
    config.add_argument("--agent-command-template", dest="agent_command_template", default="")
    body = sub.add_parser("pr-body")
    body.add_argument("--state-dir", required=True)
    body.add_argument("--workspace", required=True)
    body.add_argument("--base", required=True)
    body.add_argument("--branch", required=True)
    body.add_argument("--task-file")
    args = parser.parse_args(argv)
    try:
        if args.command == "config":
            inputs = {k: v for k, v in vars(args).items() if isinstance(v, str) and k not in ("out", "base")}
            table = run_config(Path(args.base) if args.base else None, inputs)
            atomic_write_text(Path(args.out), tomli_w.dumps(table))
        else:
            task = Path(args.task_file) if args.task_file else None
            sys.stdout.write(pr_body(Path(args.state_dir), Path(args.workspace), args.base, args.branch, task))
    except UserError as exc:
        print(f"codex-self-iter action: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
