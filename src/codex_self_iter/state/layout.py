"""Where everything of a loop lives: the workspace inputs and the state dir's files."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from codex_self_iter.errors import UserError
from codex_self_iter.state import private
from codex_self_iter.state.nofollow import guard_tree

# The settings a Layout is made of, in create()'s order.
LAYOUT_KEYS = ("task_file", "plan_file", "state_dir", "stop_file_name", "global_stop_file_name", "lock_file_name")


@dataclass(frozen=True)
class Layout:
    """Paths of one loop's workspace and state dir (DESIGN §6)."""

    workspace: Path
    task_file: Path
    plan_file: Path
    state_dir: Path
    stop_file: Path
    global_stop_file: Path
    lock_file: Path
    private_dir: Path
    context_file: Path | None = None  # the whole objective, shown beside a queued task's own file

    @classmethod
    def from_names(cls, workspace: Path, names: Mapping[str, str]) -> Layout:
        """create() from a mapping with the LAYOUT_KEYS (the settings, or a config read as far as it goes)."""
        return cls.create(workspace, *(names[key] for key in LAYOUT_KEYS))

    @classmethod
    def create(
        cls,
        workspace: Path,
        task_file: str,
        plan_file: str,
        state_dir: str,
        stop_file_name: str = "STOP",
        global_stop_file_name: str = ".codex-stop",
        lock_file_name: str = "loop.lock",
    ) -> Layout:
        """Resolve the configured names against the workspace; the state dir is guarded against planted links."""
        workspace = workspace.resolve()
        for key, name in (
            ("stop_file_name", stop_file_name),
            ("global_stop_file_name", global_stop_file_name),
            ("lock_file_name", lock_file_name),
        ):
            check_plain_name(key, name)
        for key, name in (("task_file", task_file), ("plan_file", plan_file)):
            if not name or "\0" in name:
                raise UserError(f"{key} = {name!r}: not a usable file name; fix the config or the flag")
        if (workspace / global_stop_file_name) in (workspace / task_file, workspace / plan_file):
            raise UserError(
                f"global_stop_file_name = {global_stop_file_name!r}: is the task or plan file, which "
                "`run --clear-stop` would delete; pick a name of its own (default .codex-stop)"
            )
        state = state_dir_path(workspace, state_dir)
        guard_tree(state, workspace if workspace in state.parents else state.parent)
        private = private_dir_for(state)
        return cls(
            workspace=workspace,
            task_file=workspace / task_file,
            plan_file=workspace / plan_file,
            state_dir=state,
            stop_file=state / stop_file_name,
            global_stop_file=workspace / global_stop_file_name,
            lock_file=private / lock_file_name,
            private_dir=private,
        )

    @property
    def prompts_dir(self) -> Path:
        """Rendered prompts, one file per iteration and role."""
        return self.state_dir / "prompts"

    @property
    def runs_dir(self) -> Path:
        """Per-iteration artifacts: agent output, control blocks, checks, diffs."""
        return self.state_dir / "runs"

    @property
    def journal(self) -> Path:
        """One JSON line per agent call or decision."""
        return self.state_dir / "logs" / "iterations.jsonl"

    @property
    def loop_log(self) -> Path:
        """Output of a detached loop."""
        return self.state_dir / "logs" / "loop.log"

    @property
    def status_file(self) -> Path:
        """The current snapshot, for `status` and for people."""
        return self.state_dir / "status.json"

    @property
    def runtime_file(self) -> Path:
        """Persisted counters, goal and backoff, from which a restarted loop resumes."""
        return self.state_dir / "runtime.json"

    @property
    def queue_file(self) -> Path:
        """The task queue's state: which task files are done, in progress, blocked or pending."""
        return self.state_dir / "tasks.json"

    @property
    def holder_file(self) -> Path:
        """Who holds the lock (pid, start time), for the message a second loop prints (private state)."""
        return self.private_dir / "lock-holder.json"

    @property
    def workspace_lock(self) -> Path:
        """Held with lock_file, keyed by the workspace's real path: another state dir does not let a second loop in."""
        return workspace_private_dir(self.workspace) / "loop.lock"

    @property
    def workspace_holder(self) -> Path:
        """Who holds workspace_lock, and with which state dir (private state)."""
        return workspace_private_dir(self.workspace) / "lock-holder.json"

    @property
    def agent_file(self) -> Path:
        """The running agent's process group and marker, so a later run can end what a killed loop left (private)."""
        return self.private_dir / "agent.json"

    @property
    def stop_latch(self) -> Path:
        """A stop request the loop has seen or `stop` has sent: deleting the STOP file does not undo it (private)."""
        return self.private_dir / "stop.json"

    @property
    def config_record(self) -> Path:
        """The config file a run started with, and whether it changed while the run went on (private)."""
        return self.private_dir / "config.json"

    @property
    def protected_file(self) -> Path:
        """The protected-tests snapshot taken at the baseline (private: an agent must not bless its own edits)."""
        return self.private_dir / "protected.json"

    @property
    def session_dir(self) -> Path:
        """In-session mode's contract, state and journal (session/layout.py names its files)."""
        return self.state_dir / "session"

    def run_dir(self, iteration: int, role: str) -> Path:
        """Artifacts of one agent call."""
        return self.runs_dir / f"{iteration:05d}" / role

    def relative_state_dir(self) -> str | None:
        """The state dir relative to the workspace, or None when it lies outside."""
        try:
            return str(self.state_dir.relative_to(self.workspace))
        except ValueError:
            return None


def check_plain_name(key: str, name: str) -> None:
    """A file name the loop creates or deletes: one plain name, no directory part."""
    if not name or "\0" in name or "/" in name or name in (".", "..") or (os.sep != "/" and os.sep in name):
        raise UserError(f"{key} = {name!r}: must be a plain file name (no '/', not '.' or '..'); fix the config")


def state_dir_path(workspace: Path, state_dir: str) -> Path:
    """The state dir's absolute path, without following a link at the state dir itself (the agent could plant one).

    Inside the workspace the path is taken as written; outside it, its parent is resolved (a user's own links).
    """
    if not state_dir or "\0" in state_dir:
        raise UserError(f"state_dir = {state_dir!r}: not a usable directory name; see config.example.toml")
    lexical = Path(os.path.normpath(workspace / Path(state_dir).expanduser()))
    if lexical == workspace or lexical in workspace.parents:
        raise UserError(
            f"state_dir = {state_dir!r}: is the workspace or one of its parents, where the loop would mix its files "
            "with yours; use a directory of its own (default .codex-self-iter)"
        )
    return Path(private.state_dir_path(str(workspace), state_dir))


def private_state_root() -> Path:
    """$XDG_STATE_HOME/codex-self-iter, else ~/.local/state/codex-self-iter: where the agent's workspace is not."""
    return Path(private.private_state_root())


def private_dir_for(state_dir: Path) -> Path:
    """The loop-private state of one state dir, keyed by its path (so `rm -rf` of the state dir keeps the lock)."""
    return Path(private.private_dir_for(str(state_dir)))


def workspace_private_dir(workspace: Path) -> Path:
    """The loop-private state of one workspace (its real path): what every loop on it shares, whatever its state dir."""
    return Path(private.workspace_private_dir(str(workspace)))
