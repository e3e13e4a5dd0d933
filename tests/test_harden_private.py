"""Loop-private state lives outside the workspace: what the agent deletes or forges there steers nothing."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import tomli_w

from codex_self_iter.cli import main
from tests.support.faults import AGENT_SH, LoopBench, wait_for
from tests.support.loop_harness import Agent, control, fake_template

# The executor deletes the whole state dir (lock file included, were it there), then hangs.
RM_RF_SH = r"""#!/bin/sh
echo "$$ $3 $4" >> "$AGENT_LOG"
case "$3" in
  planner) printf '{"next_goal": "goal %s", "summary": "plan"}\n' "$4"; exit 0 ;;
esac
rm -rf "$2/.codex-self-iter"
touch "$AGENT_MARK"
exec sleep 120
"""


def test_rm_rf_of_the_state_dir_does_not_let_a_second_loop_in(bench: LoopBench) -> None:
    bench.agent.write_text(RM_RF_SH)
    first = bench.start("--max-iterations", "2")
    assert wait_for(bench.mark.exists, 30), first.stderr
    # Gone (the loop's status write as the call starts may come after the rm and recreate the directory).
    assert not (bench.state_dir / "runtime.json").exists()
    code, second = bench.run("--max-iterations", "2", timeout=30)
    assert code == 4, second.stderr
    assert "another loop holds the lock" in second.stderr
    assert str(bench.private_dir) in second.stderr and str(bench.workspace) not in second.stderr.split(":")[0]
    first.proc.send_signal(signal.SIGTERM)
    assert first.wait(15) == 5


def test_a_template_the_agent_wrote_into_the_config_does_not_run_without_accept_config(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    config = git_repo / "codex-self-iter.toml"
    config.write_text(tomli_w.dumps({"agent_command_template": fake_template(), "checks": [], "reviewer": False}))
    evil = tomli_w.dumps({"agent_command_template": f"touch {marks}/pwned {{prompt_file}}", "checks": []})
    agent = Agent(tmp_path, monkeypatch).on("planner", [{"control": {"next_goal": "work", "summary": "plan"}}])
    agent.on("executor", [{"write": str(config), "content": evil}, {"control": control("continue", "more")}])
    argv = ["--workspace", str(git_repo), "--max-iterations", "1", "--quiet"]

    assert main(argv) == 2
    assert "changed during the run" in capsys.readouterr().err
    assert main(argv) == 1
    said = capsys.readouterr().err
    assert "changed while the previous run was going" in said and "--accept-config" in said
    assert f'+agent_command_template = "touch {marks}/pwned {{prompt_file}}"' in said  # the change is shown
    assert main(argv) == 1  # still refused: nothing was accepted
    capsys.readouterr()
    assert not (marks / "pwned").exists()

    main([*argv, "--accept-config"])  # the user looked and accepted: now it is the config
    assert (marks / "pwned").exists()


# The executor waits for the user's STOP, deletes it at once, and carries on as if nothing happened.
DELETE_STOP_SH = r"""#!/bin/sh
echo "$$ $3 $4" >> "$AGENT_LOG"
case "$3" in
  planner) printf '{"next_goal": "goal %s", "summary": "plan"}\n' "$4"; exit 0 ;;
esac
touch "$AGENT_MARK"
i=0
while [ ! -e "$2/.codex-self-iter/STOP" ] && [ "$i" -lt 300 ]; do sleep 0.02; i=$((i + 1)); done
rm -f "$2/.codex-self-iter/STOP"
echo "$4" >> "$2/work.txt"
printf '{"status": "continue", "summary": "step %s", "next_goal": "goal %s", "evidence": []}\n' "$4" "$4"
"""


def test_a_stop_the_agent_deletes_still_stops_the_loop(bench: LoopBench) -> None:
    bench.agent.write_text(DELETE_STOP_SH)
    loop = bench.start("--max-iterations", "5")
    assert wait_for(bench.mark.exists, 30), loop.stderr
    stop = [sys.executable, "-m", "codex_self_iter", "stop", "--workspace", str(bench.workspace)]
    done = subprocess.run([*stop, "--config", str(bench.config_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert loop.wait(60) == 5, loop.stdout + loop.stderr
    assert not (bench.state_dir / "STOP").exists()  # the agent did delete it
    assert [role for role, _ in bench.agent_calls()].count("executor") == 1
    assert bench.status()["stop_reason"] == "stop_file"
    code, again = bench.run("--max-iterations", "1")  # the request was used up: the next run starts normally
    assert code == 2, again.stderr


def test_a_second_state_dir_does_not_let_a_second_loop_drive_the_same_workspace(bench: LoopBench) -> None:
    bench.agent.write_text(RM_RF_SH)
    first = bench.start("--max-iterations", "2")
    assert wait_for(bench.mark.exists, 30), first.stderr
    link = bench.home / "same-tree"
    link.symlink_to(bench.workspace)  # another path to the same workspace: the lock follows the real path
    for workspace in (bench.workspace, link):
        argv, env = bench.command("--max-iterations", "2", "--state-dir", str(bench.home / "elsewhere"))
        argv[argv.index("--workspace") + 1] = str(workspace)
        second = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
        assert second.returncode == 4, second.stderr
        assert f"another loop works on {bench.workspace} (pid {first.proc.pid}" in second.stderr
        assert f"state dir {bench.state_dir})" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
    assert [role for role, _ in bench.agent_calls()].count("executor") == 1  # the second loop never called it
    first.proc.send_signal(signal.SIGTERM)
    assert first.wait(15) == 5
    bench.agent.write_text(AGENT_SH)  # a well-behaved agent now: the lock went with the first loop
    code, after = bench.run("--max-iterations", "1", "--state-dir", str(bench.home / "elsewhere"))
    assert code == 2, after.stderr
