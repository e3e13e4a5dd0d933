"""Where everything of a loop lives: the workspace inputs and the state dir's files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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
        """Resolve the configured names against the workspace."""
        workspace = workspace.resolve()
        state = (workspace / state_dir).resolve()
        return cls(
            workspace=workspace,
            task_file=workspace / task_file,
            plan_file=workspace / plan_file,
            state_dir=state,
            stop_file=state / stop_file_name,
            global_stop_file=workspace / global_stop_file_name,
            lock_file=state / lock_file_name,
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
    def holder_file(self) -> Path:
        """Who holds the lock (pid, start time), for the message a second loop prints."""
        return self.state_dir / "lock-holder.json"

    @property
    def agent_file(self) -> Path:
        """The running agent's process group, so a later run can end one a killed loop left behind."""
        return self.state_dir / "agent.json"

    def run_dir(self, iteration: int, role: str) -> Path:
        """Artifacts of one agent call."""
        return self.runs_dir / f"{iteration:05d}" / role

    def relative_state_dir(self) -> str | None:
        """The state dir relative to the workspace, or None when it lies outside."""
        try:
            return str(self.state_dir.relative_to(self.workspace))
        except ValueError:
            return None
