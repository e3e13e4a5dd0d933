"""Loop-private state lives outside the workspace: what the agent deletes or forges there steers nothing."""

from __future__ import annotations

import signal

from tests.support.faults import LoopBench, wait_for

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
    assert not bench.state_dir.exists()
    code, second = bench.run("--max-iterations", "2", timeout=30)
    assert code == 4, second.stderr
    assert "another loop holds the lock" in second.stderr
    assert str(bench.private_dir) in second.stderr and str(bench.workspace) not in second.stderr.split(":")[0]
    first.proc.send_signal(signal.SIGTERM)
    assert first.wait(15) == 5
