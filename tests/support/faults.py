"""Run the real loop as a separate process, inject faults into it, and inspect what it leaves behind.

The loop runs as `python -c BOOT …`, where BOOT may install one fault before calling the CLI's main():
`CSI_FAULT=replace:<name>:<n>` SIGKILLs the loop at the n-th atomic rename onto a file called <name> (`*` = any
file), i.e. with the new content complete in its temp file but not yet in place; `CSI_FAULT=append:<name>:<n>`
writes half of the n-th JSONL record appended to <name> and then SIGKILLs the loop (a torn line);
`CSI_FAULT=record:<event>:<n>` SIGKILLs the loop right after the n-th journal line of that event is written whole;
`CSI_FAULT=raise:<name>:<n>` raises an unexpected RuntimeError from the n-th rename onto <name>: a bug inside the loop.
`CSI_FSIZE=<bytes>` sets RLIMIT_FSIZE in the loop: any file write beyond that size fails with EFBIG, which is how
these tests simulate a full disk without privileges (no loop mount, no tmpfs, and chmod does not stop root).
The agent is a small shell script (fast, and it logs its pid so a test can prove it is gone).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from tests.support.fake_codex_exec import write_fake_codex
from tests.support.fault_boot import BOOT

# argv: <prompt_file> <workspace> <role> <iteration>. Behaviour from the environment:
#   AGENT_HANG="<role>:<iteration>" -> touch $AGENT_MARK, start a child, and sleep (the call hangs)
#   AGENT_FAIL=1 -> exit 1 (a failed call: the loop backs off)
#   AGENT_FLOOD=<megabytes> -> print that much output before the control block
AGENT_SH = r"""#!/bin/sh
echo "$$ $3 $4" >> "$AGENT_LOG"
if [ "${AGENT_HANG:-}" = "$3:$4" ]; then
  sleep 120 &
  echo "$! child" >> "$AGENT_LOG"
  touch "$AGENT_MARK"
  exec sleep 120
fi
if [ -n "${AGENT_FLOOD:-}" ]; then
  yes 'flooding the output with a long line of text' | head -c "${AGENT_FLOOD}000000"; echo
fi
if [ "${AGENT_FAIL:-}" = 1 ]; then echo "agent failed" >&2; exit 1; fi
case "$3" in
  planner) printf '{"next_goal": "goal number %s", "summary": "plan"}\n' "$4" ;;
  reviewer) printf '{"verdict": "approve", "reasons": ["fine"], "next_goal": ""}\n' ;;
  *) echo "$4" >> "$2/work.txt"
     printf '{"status": "continue", "summary": "step %s", "next_goal": "goal number %s", "evidence": []}\n' "$4" "$4" ;;
esac
"""

BASE_CONFIG: dict[str, Any] = {
    "checks": [],
    "max_stagnation": 1000,
    "backoff_base_sec": 1,
    "backoff_jitter": 0,
    "no_change_backoff_sec": 1,
    "heartbeat_sec": 3600,
}


def pid_alive(pid: int) -> bool:
    """True while pid runs (a zombie waiting for its reaper is dead)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    """Poll until predicate() is true or timeout passes; returns the last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def read_json_file(path: Path) -> Any:
    """Parsed JSON of path, or None when it is missing or not (yet) complete."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@dataclass
class LoopProc:
    """One loop process and the files its output went to."""

    proc: subprocess.Popen[bytes]
    out_path: Path
    err_path: Path
    started: float

    def wait(self, timeout: float = 60) -> int:
        """The exit code (negative for a signal)."""
        return self.proc.wait(timeout=timeout)

    @property
    def stdout(self) -> str:
        return self.out_path.read_text(encoding="utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return self.err_path.read_text(encoding="utf-8", errors="replace")


@dataclass
class LoopBench:
    """A workspace, the shell agent and everything needed to start loops on it as separate processes."""

    workspace: Path
    home: Path
    config: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    procs: list[LoopProc] = field(default_factory=list)
    runs: int = 0
    codex: bool = False  # True: the built-in codex runner with the fake codex, instead of the shell agent

    def __post_init__(self) -> None:
        self.agent = self.home / "agent.sh"
        self.agent.write_text(AGENT_SH)
        self.agent.chmod(0o755)
        self.agent_log = self.home / "agent.log"
        self.mark = self.home / "agent-started"
        self.config_path = self.home / "loop.toml"
        self.codex_bin = write_fake_codex(self.home)
        self.codex_log = self.home / "codex.log"

    @property
    def state_dir(self) -> Path:
        return self.workspace / ".codex-self-iter"

    @property
    def private_dir(self) -> Path:
        """Lock, lock holder and agent.json: loop-private state outside the workspace (HOME is the test's own)."""
        from tests.support.loop_harness import private_state

        return private_state(self.workspace)

    def template(self) -> str:
        return f"{self.agent} {{prompt_file}} {{workspace}} {{role}} {{iteration}}"

    def command(
        self,
        *args: str,
        fault: str | None = None,
        env: dict[str, str] | None = None,
        config: dict[str, Any] | None = None,
    ) -> tuple[list[str], dict[str, str]]:
        """argv and environment of `codex-self-iter run` on the workspace (the config file is written now)."""
        self.config_path.write_text(tomli_w.dumps({**BASE_CONFIG, **self.config, **(config or {})}))
        full_env = {**os.environ, "AGENT_LOG": str(self.agent_log), "AGENT_MARK": str(self.mark), **self.env}
        full_env.update({"CODEX_BIN": str(self.codex_bin), "FAKE_CODEX_LOG": str(self.codex_log)})
        full_env.update(env or {})
        full_env.pop("CSI_FAULT", None)
        if fault:
            full_env["CSI_FAULT"] = fault
        argv = [sys.executable, "-c", BOOT, "--workspace", str(self.workspace), "--config", str(self.config_path)]
        if not self.codex:
            argv += ["--agent-command-template", self.template()]
        argv += ["--quiet", *args]
        return argv, full_env

    def start(self, *args: str, **kwargs: Any) -> LoopProc:
        """Start a loop; returns at once. Its output goes to files (see run_piped for a full disk)."""
        argv, env = self.command(*args, **kwargs)
        self.runs += 1
        out = self.home / f"run-{self.runs}.out"
        err = self.home / f"run-{self.runs}.err"
        with open(out, "wb") as out_file, open(err, "wb") as err_file:
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out_file, stderr=err_file, env=env, start_new_session=True
            )
        loop = LoopProc(proc, out, err, time.monotonic())
        self.procs.append(loop)
        return loop

    def run_piped(self, *args: str, timeout: float = 60, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """Run a loop with its output on pipes, which a file-size limit cannot block."""
        argv, env = self.command(*args, **kwargs)
        return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=timeout)

    def run(self, *args: str, timeout: float = 60, **kwargs: Any) -> tuple[int, LoopProc]:
        """Start a loop and wait for it."""
        loop = self.start(*args, **kwargs)
        return loop.wait(timeout), loop

    def agent_pids(self) -> list[int]:
        """Every process the agents logged (shell agents, the children they started, fake codex calls)."""
        pids = []
        if self.agent_log.exists():
            pids += [int(line.split()[0]) for line in self.agent_log.read_text().splitlines() if line.strip()]
        return pids + [int(call["pid"]) for call in self.codex_calls()]

    def codex_calls(self) -> list[dict[str, Any]]:
        """What the fake codex logged per call: argv, role, names of the secret variables it saw, pid."""
        if not self.codex_log.exists():
            return []
        return [json.loads(line) for line in self.codex_log.read_text().splitlines() if line.strip()]

    def agent_calls(self) -> list[tuple[str, int]]:
        """(role, iteration) of every agent call, in order."""
        calls = []
        for line in self.agent_log.read_text().splitlines() if self.agent_log.exists() else []:
            parts = line.split()
            if len(parts) == 3:
                calls.append((parts[1], int(parts[2])))
        return calls

    def runtime(self) -> dict[str, Any]:
        data = read_json_file(self.state_dir / "runtime.json")
        assert isinstance(data, dict), "runtime.json is missing or does not parse"
        return data

    def status(self) -> dict[str, Any]:
        data = read_json_file(self.state_dir / "status.json")
        assert isinstance(data, dict), "status.json is missing or does not parse"
        return data

    def journal(self) -> list[dict[str, Any]]:
        path = self.state_dir / "logs" / "iterations.jsonl"
        records = []
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if path.exists() else []:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                records.append(record)
        return records

    def cleanup(self) -> None:
        """End every loop this bench started and every agent process they logged (by pid, nothing else)."""
        for loop in self.procs:
            if loop.proc.poll() is None:
                loop.proc.kill()
                loop.proc.wait(timeout=10)
        for pid in self.agent_pids():
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)


def state_file_problems(state_dir: Path) -> list[str]:
    """What in the state dir does not parse: JSON files, and JSONL lines other than one torn line per crash."""
    problems: list[str] = []
    for path in sorted(state_dir.rglob("*.json")):
        if path.name.startswith(".") or path.is_dir():
            continue
        if read_json_file(path) is None:
            problems.append(f"{path.relative_to(state_dir)} does not parse")
    for path in sorted(state_dir.rglob("*.jsonl")):
        if path.parent.name != "logs":
            continue  # agent event streams are the agent's output, not the loop's state
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            problems.append(f"{path.relative_to(state_dir)} ends in an unterminated line")
        for number, line in enumerate(data.splitlines(), start=1):
            try:
                json.loads(line)
            except ValueError:
                problems.append(f"{path.relative_to(state_dir)}:{number} torn")
    return problems


def leftover_temp_files(state_dir: Path) -> Iterator[Path]:
    """Temp files of atomic writes that never got renamed into place."""
    return (path for path in state_dir.rglob(".*.tmp") if path.is_file())
