"""Everything a hostile agent starts ends with its call: setsid, double fork + setsid, TERM ignored, pipes held.

Each test marks the processes its agent starts with a variable of its own in their environment (inherited by every
descendant, whatever argv it takes) and counts them in /proc; cleanup kills only those, by PID.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.faults import LoopBench, wait_for

# argv: <prompt_file> <workspace> <role> <iteration>. The executor leaves behind: a setsid child, a double-forked
# setsid grandchild, a setsid child that ignores TERM, and one that keeps appending to a file of the repository.
# Every one of them holds the agent's stdout open. HOSTILE_END=exit|hang decides how the agent itself ends.
HOSTILE_SH = r"""#!/bin/sh
echo "$$ $3 $4" >> "$AGENT_LOG"
case "$3" in
  planner) printf '{"next_goal": "goal %s", "summary": "plan"}\n' "$4"; exit 0 ;;
esac
setsid sh -c 'sleep 300' &
sh -c 'setsid sh -c "sleep 300 & sleep 300" & exit 0'
setsid sh -c 'trap "" TERM; while :; do sleep 1; done' &
setsid sh -c 'while :; do echo leak >> "$0/leak.txt"; sleep 0.05; done' "$2" &
sleep 0.3
touch "$AGENT_MARK"
if [ "$HOSTILE_END" = hang ]; then exec sleep 300; fi
echo "$4" >> "$2/work.txt"
printf '{"status": "continue", "summary": "step %s", "next_goal": "goal %s", "evidence": []}\n' "$4" "$4"
"""


def marked(token: str) -> list[int]:
    """PIDs whose environment carries HOSTILE_MARK=<token> (zombies have none left)."""
    needle = f"HOSTILE_MARK={token}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.fixture
def hostile(bench: LoopBench) -> Iterator[tuple[LoopBench, str]]:
    token = secrets.token_hex(8)
    bench.agent.write_text(HOSTILE_SH)
    bench.env.update({"HOSTILE_MARK": token})
    bench.config.update({"max_agent_failures": 1, "reviewer": False})
    yield bench, token
    for pid in marked(token):  # only what this test's agent started
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def assert_all_gone(bench: LoopBench, token: str, within: float) -> None:
    assert wait_for(lambda: not marked(token), within), f"still running: {marked(token)}"
    leak = bench.workspace / "leak.txt"
    size = leak.stat().st_size if leak.exists() else 0
    time.sleep(0.3)
    assert (leak.stat().st_size if leak.exists() else 0) == size  # nothing appends to the repository any more


def test_after_a_normal_exit_every_descendant_is_gone(hostile: tuple[LoopBench, str]) -> None:
    bench, token = hostile
    code, loop = bench.run("--max-iterations", "1", env={"HOSTILE_END": "exit"})
    assert code == 2, loop.stderr
    assert bench.mark.exists()
    assert_all_gone(bench, token, within=0.5)  # the call already ended them; nothing is left to wait for


def test_after_a_timeout_every_descendant_is_gone(hostile: tuple[LoopBench, str]) -> None:
    bench, token = hostile
    bench.config["command_timeout_sec"] = 1.5
    code, loop = bench.run("--max-iterations", "1", env={"HOSTILE_END": "hang"})
    assert code == 3, loop.stderr  # the timed-out call is a failure, and max_agent_failures = 1
    assert bench.mark.exists()
    assert_all_gone(bench, token, within=0.5)


def test_after_sigterm_of_the_loop_every_descendant_is_gone(hostile: tuple[LoopBench, str]) -> None:
    bench, token = hostile
    loop = bench.start("--max-iterations", "3", env={"HOSTILE_END": "hang"})
    assert wait_for(bench.mark.exists, 30), loop.stderr
    assert len(marked(token)) >= 6
    os.kill(loop.proc.pid, signal.SIGTERM)
    assert loop.wait(15) == 5, loop.stderr
    assert_all_gone(bench, token, within=0.5)


def test_after_kill_9_of_the_loop_every_descendant_is_gone(hostile: tuple[LoopBench, str]) -> None:
    bench, token = hostile
    loop = bench.start("--max-iterations", "3", env={"HOSTILE_END": "hang"})
    assert wait_for(bench.mark.exists, 30), loop.stderr
    assert len(marked(token)) >= 6
    os.kill(loop.proc.pid, signal.SIGKILL)
    assert loop.wait(10) == -signal.SIGKILL
    # The reaper sees its control pipe close: TERM at once, KILL for the one ignoring TERM after the grace period.
    assert_all_gone(bench, token, within=8)


def test_stop_now_with_pipe_holding_children_ends_the_loop_within_a_second(hostile: tuple[LoopBench, str]) -> None:
    bench, token = hostile
    bench.agent.write_text(HOSTILE_SH.replace("""setsid sh -c 'trap "" TERM; while :; do sleep 1; done' &\n""", ""))
    loop = bench.start("--max-iterations", "3", env={"HOSTILE_END": "hang"})
    assert wait_for(bench.mark.exists, 30), loop.stderr
    stop = [sys.executable, "-m", "codex_self_iter", "stop", "--now", "--workspace", str(bench.workspace)]
    stop += ["--config", str(bench.config_path)]
    started = time.monotonic()
    done = subprocess.run(stop, capture_output=True, text=True, timeout=30)
    took = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    assert loop.wait(1) == 5, loop.stderr
    assert_all_gone(bench, token, within=0.2)
    # The command itself: interpreter start-up, SIGTERM, and waiting for the loop to end.
    waited = float(done.stdout.rsplit("ended in ", 1)[1].split("s", 1)[0]) if "ended in " in done.stdout else took
    assert waited < 1.0, f"stop --now waited {waited:.2f}s for the loop ({took:.2f}s in all)\n{done.stdout}"
