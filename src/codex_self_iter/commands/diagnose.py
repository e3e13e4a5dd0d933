"""The probes behind `doctor`: each returns one Finding (ok / warn / fail, with the fix)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from codex_self_iter import __version__
from codex_self_iter.agent.types import FAIL, OK, WARN, Finding
from codex_self_iter.checks.run import CheckSpec
from codex_self_iter.commands.init import TASK_PLACEHOLDER
from codex_self_iter.errors import UserError
from codex_self_iter.plugin.install import plugin_status
from codex_self_iter.state.layout import Layout
from codex_self_iter.tasks.files import scan_tasks
from codex_self_iter.workspace.git import run_git

PROBE_TIMEOUT_SEC = 20.0


def python_finding() -> Finding:
    """The interpreter and this package."""
    version = ".".join(str(part) for part in sys.version_info[:3])
    package = Path(__file__).resolve().parents[1]
    return Finding(OK, f"python {version} ({sys.executable}); codex-self-iter {__version__} ({package})")


def git_finding(workspace: Path, codex_needs_it: bool) -> Finding:
    """git present, and whether the workspace is a work tree (codex refuses to run elsewhere; diffs need it)."""
    git = shutil.which("git")
    if git is None:
        level = FAIL if codex_needs_it else WARN
        return Finding(level, "git not found: codex needs a git repository, change detection falls back", "install git")
    done = run_git(workspace, ["rev-parse", "--is-inside-work-tree"], timeout=PROBE_TIMEOUT_SEC)
    if done.code is None or done.code < 0:
        why = done.error() or "timed out"
        return Finding(WARN, f"git does not answer in {workspace} ({why})", "check the git installation")
    if done.text().strip() == "true":
        return Finding(OK, f"git: {workspace} is a git work tree")
    fix = "git init && git add -A && git commit -m 'before the loop'"
    if codex_needs_it:
        return Finding(
            FAIL,
            f"{workspace} is not a git repository: codex refuses to run there",
            f"{fix} (or set [codex] skip_git_repo_check = true)",
        )
    return Finding(WARN, f"{workspace} is not a git work tree: the reviewer sees no diff", fix)


def state_dir_finding(state_dir: Path) -> Finding:
    """Whether the loop can create and write its state dir (run would stop with an error otherwise)."""
    fix = "make it writable, or pass --state-dir DIR (state_dir in the config)"
    if state_dir.exists():
        if not state_dir.is_dir():
            return Finding(FAIL, f"state dir {state_dir} is not a directory", f"remove or rename that file; or {fix}")
        try:
            handle, probe = tempfile.mkstemp(prefix=".doctor-", dir=state_dir)
            os.close(handle)
            os.unlink(probe)
        except OSError as exc:
            return Finding(FAIL, f"state dir {state_dir} is not writable ({exc.strerror})", fix)
        return Finding(OK, f"state dir: {state_dir} is writable")
    parent = state_dir.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return Finding(FAIL, f"state dir {state_dir} cannot be created: {parent} is a file", fix)
    if not os.access(parent, os.W_OK | os.X_OK):
        return Finding(FAIL, f"state dir {state_dir} cannot be created: {parent} is not writable", fix)
    return Finding(OK, f"state dir: {state_dir} (created by the first run)")


def inputs_findings(layout: Layout) -> list[Finding]:
    """plan.md (required) and TASK.md (optional)."""
    found = []
    plan, task = layout.plan_file, layout.task_file
    if plan.is_file():
        found.append(Finding(OK, f"plan: {plan}"))
    else:
        found.append(Finding(FAIL, f"plan file {plan} is missing", "codex-self-iter init (or pass --plan-file)"))
    if task.is_file() and TASK_PLACEHOLDER in task.read_text(encoding="utf-8", errors="replace"):
        fix = "describe the outcome you want in it (or `codex-self-iter init --goal TEXT --force`)"
        found.append(Finding(FAIL, f"task: {task} still holds the placeholder `init` wrote", fix))
    elif task.is_file():
        found.append(Finding(OK, f"task: {task}"))
    else:
        found.append(Finding(WARN, f"task file {task} is missing (optional)", "write the objective into it"))
    return found


def tasks_findings(folder: Path, workspace: Path) -> list[Finding]:
    """The task queue's files, validated as `run` validates them (none: no finding)."""
    try:
        tasks = scan_tasks(folder, workspace)
    except UserError as exc:
        return [Finding(FAIL, f"tasks: {exc}")]
    if tasks is None:
        return []
    return [Finding(OK, f"tasks: {len(tasks)} task file(s) in {folder}; `run` works through them in order")]


def checks_finding(checks: list[CheckSpec], source: str, workspace: Path, reviewer: bool = True) -> Finding:
    """The checks that decide success, and whether their programs exist."""
    fix = 'list the commands that prove the work is done: checks = ["python3 -m pytest -q"] in the config'
    if not checks and not reviewer:
        return Finding(FAIL, f"checks: {source} and reviewer = false: nothing verifies a completion claim", fix)
    if not checks:
        return Finding(WARN, f"checks: {source}: success rests on the reviewer alone", fix)
    for spec in checks:
        program = spec.argv[0]
        path = Path(program).expanduser()
        exists = shutil.which(program) is not None if "/" not in program else (workspace / path).exists()
        if not exists:
            return Finding(FAIL, f"check {spec.command!r}: {program} not found", "install it or fix `checks`")
    return Finding(OK, f"checks ({source}): " + "; ".join(spec.command for spec in checks))


def plugin_finding() -> Finding:
    """Whether Codex has the plugin, at the version this package ships."""
    status = plugin_status(None)
    fix = "codex-self-iter install-plugin"
    if status.error:
        return Finding(WARN, f"plugin: cannot tell ({status.error})", fix)
    if not status.installed:
        return Finding(WARN, "plugin not installed (optional: lets Codex start, watch and stop loops)", fix)
    if not status.enabled:
        return Finding(WARN, f"plugin {status.version} installed but disabled", fix)
    if not status.up_to_date:
        return Finding(WARN, f"plugin {status.version} installed; this package ships {status.bundled_version}", fix)
    return Finding(OK, f"plugin {status.version} installed from {status.marketplace}")


def hook_finding(binary: str, workspace: Path) -> Finding:
    """Will Codex run the in-session Stop hook here: installed, enabled, trusted (untrusted ones are skipped)."""
    from codex_self_iter.session.codex_hooks import our_hooks

    fix_trust = (
        "codex-self-iter install-hooks --trust (for hooks.json), or trust it in Codex with /hooks "
        "(a plugin hook needs trust again after every plugin update)"
    )
    home = Path(os.environ.get("CODEX_HOME") or Path.home() / ".codex").expanduser()
    if not home.is_dir():  # no Codex home yet: nothing installed, nothing trusted (and codex would refuse to start)
        rows = []
    else:
        try:
            rows = our_hooks(binary, workspace)
        except (OSError, ValueError) as exc:
            return Finding(WARN, f"in-session hook: cannot tell ({exc})", "run `codex app-server` yourself to see why")
    if not rows:
        return Finding(
            WARN,
            "in-session hook: not installed (optional: keeps a `session start` Codex session going until checks pass)",
            "codex-self-iter install-hooks --trust (or install-plugin, then trust its hook in Codex)",
        )
    described = "; ".join(
        f"{row.source} {row.key}: {'enabled' if row.enabled else 'disabled'}, {row.trust}" for row in rows
    )
    disabled = [row for row in rows if not row.enabled]
    untrusted = [row for row in rows if row.enabled and not row.runs]
    if disabled and not any(row.runs for row in rows):
        key = disabled[0].key
        return Finding(
            WARN,
            f"in-session hook disabled ({described})",
            f'remove enabled = false from [hooks.state."{key}"] in config.toml',
        )
    if untrusted and not any(row.runs for row in rows):
        return Finding(
            WARN, f"in-session hook installed but not trusted: Codex skips it silently ({described})", fix_trust
        )
    running = [row for row in rows if row.runs]
    if len(running) > 1:
        return Finding(
            WARN,
            f"in-session hook installed {len(running)} times ({described}); each stop is judged once",
            "codex-self-iter install-hooks --uninstall, or remove the plugin",
        )
    return Finding(OK, f"in-session hook: installed, enabled and trusted ({described})")
