"""A real loop started as `python -m codex_self_iter run` in a subprocess, for the commands that watch and stop it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from tests.support.loop_harness import fake_template

LOOP_CONFIG = {"checks": [], "backoff_base_sec": 1, "no_change_backoff_sec": 1, "heartbeat_sec": 1}


def loop_config(directory: Path, **settings: Any) -> Path:
    """A config file outside the workspace (so the agent's edits cannot touch it)."""
    path = directory / "bg-loop.toml"
    path.write_text(tomli_w.dumps({**LOOP_CONFIG, **settings}))
    return path


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `python -m codex_self_iter ARGS` to the end."""
    return subprocess.run(
        [sys.executable, "-m", "codex_self_iter", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def pid_alive(pid: int) -> bool:
    """True while pid runs (zombies count as gone)."""
    try:
        os.kill(pid, 0)
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (ProcessLookupError, FileNotFoundError):
        return False
    return stat.rsplit(")", 1)[-1].split()[:1] != ["Z"]


def wait_for(predicate: Callable[[], Any], timeout: float = 30, what: str = "condition") -> Any:
    """Poll until predicate returns something truthy; fail the test after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class BackgroundLoop:
    """One loop process this test started; `close` ends whatever of it is left."""

    workspace: Path
    config: Path
    proc: subprocess.Popen[str]
    log: Path
    agent_pids: set[int] = field(default_factory=set)

    @property
    def state_dir(self) -> Path:
        return self.workspace / ".codex-self-iter"

    def status(self) -> dict[str, Any]:
        try:
            data = json.loads((self.state_dir / "status.json").read_text())
        except (OSError, ValueError):
            return {}
        if isinstance(data.get("agent_pid"), int):
            self.agent_pids.add(data["agent_pid"])
        return data if isinstance(data, dict) else {}

    def wait_running(self, role: str = "executor", timeout: float = 30) -> dict[str, Any]:
        """Until status.json says an agent call of `role` is under way."""

        def ready() -> dict[str, Any] | None:
            if self.proc.poll() is not None:
                raise AssertionError(f"the loop exited {self.proc.returncode}: {self.output()}")
            status = self.status()
            return status if status.get("role") == role and status.get("agent_pid") else None

        result: dict[str, Any] = wait_for(ready, timeout, f"a running {role} call")
        return result

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def close(self) -> None:
        """Kill the loop (if still running) and any agent group it recorded: only processes this test started."""
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        for pid in self.agent_pids:
            if pid_alive(pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)


def start_loop(workspace: Path, directory: Path, *extra: str, **settings: Any) -> BackgroundLoop:
    """Start `python -m codex_self_iter run` on workspace with the fake agent (FAKE_AGENT_SCRIPT must be set)."""
    config = loop_config(directory, **settings)
    log = directory / "bg-loop.out"
    argv = [sys.executable, "-m", "codex_self_iter", "run", "-w", str(workspace), "--config", str(config)]
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [*argv, "--agent-command-template", fake_template(), *extra],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    return BackgroundLoop(workspace, config, proc, log)
