"""The call reaper is forked from the loop, not executed: it must hold nothing of the loop, hand the command a clean
start, report the command's own status, and fork safely while other threads of the loop are busy."""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading
from pathlib import Path

from codex_self_iter.proc.process import ProcessHandle, ProcessResult, run_process


def run(tmp_path: Path, argv: list[str], **kwargs: object) -> ProcessResult:
    logs = tmp_path / "logs"
    return run_process(argv, cwd=tmp_path, stdout_path=logs / "out", stderr_path=logs / "err", timeout_sec=30, **kwargs)  # type: ignore[arg-type]


def status_field(text: str, name: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith(f"{name}:"))


def test_the_reaper_and_the_command_hold_none_of_the_loops_descriptors(tmp_path: Path) -> None:
    lock = tmp_path / "lock"
    held: dict[str, list[str]] = {}

    def look(handle: ProcessHandle) -> None:
        for who, pid in (("reaper", handle.reaper), ("command", handle.pid)):
            fds = Path(f"/proc/{pid}/fd")
            held[who] = sorted(os.readlink(fds / fd) for fd in os.listdir(fds))

    with open(lock, "w") as locked:
        fcntl.flock(locked, fcntl.LOCK_EX)  # as the loop holds its lock: a leftover reaper must not keep it
        result = run(tmp_path, ["sleep", "0.3"], on_start=look)
    assert result.ok, result
    assert str(lock) not in held["reaper"] and str(lock) not in held["command"]
    assert len(held["command"]) == 3, held  # stdin, stdout, stderr: no control or report pipe, no loop file
    # Its own: the command's three, the control and report pipes, the wake-up pipe of its signal handlers.
    assert len(held["reaper"]) <= 7, held


def test_the_command_starts_with_no_blocked_or_ignored_signals(tmp_path: Path) -> None:
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
    try:
        result = run(tmp_path, ["cat", "/proc/self/status"])
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    status = result.stdout_path.read_text()
    assert result.ok, result
    assert int(status_field(status, "SigBlk"), 16) == 0  # not the loop's mask, nor the reaper's
    ignored = int(status_field(status, "SigIgn"), 16)  # glibc's posix_spawn leaves its own two (32, 33) ignored
    for signum in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD):
        assert not ignored & 1 << (signum - 1), signum  # Python ignores SIGPIPE and SIGXFSZ: the command must not


def test_the_command_is_found_in_its_own_path_and_errors_are_one_line(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "hello-tool").write_text("#!/bin/sh\necho hello from the tool\n")
    (tools / "hello-tool").chmod(0o755)
    found = run(tmp_path, ["hello-tool"], env={**os.environ, "PATH": f"{tools}:/usr/bin:/bin"})
    assert found.ok and found.stdout_path.read_text() == "hello from the tool\n", found

    missing = run(tmp_path, ["no-such-tool-here"])
    assert missing.start_error == "No such file or directory" and missing.exit_code is None
    nowhere = run_process(
        ["true"], cwd=tmp_path / "gone", stdout_path=tmp_path / "o", stderr_path=tmp_path / "e", timeout_sec=5
    )
    assert nowhere.start_error == "No such file or directory", nowhere


def test_the_loop_sees_the_commands_own_exit_code_or_signal(tmp_path: Path) -> None:
    assert run(tmp_path, ["sh", "-c", "exit 7"]).exit_code == 7
    assert run(tmp_path, ["sh", "-c", "kill -TERM $$"]).exit_code == -signal.SIGTERM


def test_calls_fork_safely_while_other_threads_hold_locks(tmp_path: Path) -> None:
    """Threads holding a buffered file's lock and a logging handler's lock at the moment of each fork."""
    stop = threading.Event()
    log = logging.getLogger("test_call_reaper.busy")
    log.propagate = False
    handler = logging.FileHandler(tmp_path / "busy.log")
    log.addHandler(handler)

    def busy() -> None:
        with open(tmp_path / "busy.out", "w") as out:
            while not stop.is_set():
                out.write("x" * 4096)
                log.warning("busy")

    threads = [threading.Thread(target=busy) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        results = [run(tmp_path, ["sh", "-c", f"echo {n}"]) for n in range(40)]
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
        log.removeHandler(handler)
        handler.close()
    assert all(result.ok for result in results), [r for r in results if not r.ok]
    assert results[-1].stdout_path.read_text() == "39\n"
