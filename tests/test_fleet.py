"""`fleet run / status / stop`: real loop processes on real repositories with the scripted agent."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codex_self_iter.agent.kinds import TokenUsage
from codex_self_iter.codex.pricing import bundled_prices
from tests.conftest import git
from tests.support.background_loop import pid_alive, wait_for
from tests.support.codex_home import MOCK_MODEL
from tests.support.e2e_loop import usage
from tests.support.fake_codex_exec import write_fake_codex
from tests.support.fake_responses_server import FakeResponsesServer
from tests.support.fleet_repos import agent_calls, completing, failing, make_repo, max_overlap, slow

USAGE = usage(100_000, 20_000, 10_000, 2_000)  # what each fake model response reports


def fleet_cli(*args: str, cwd: Path, timeout: float = 100) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codex_self_iter", "fleet", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def fleet_json(cwd: Path) -> dict[str, Any]:
    done = fleet_cli("status", "--json", cwd=cwd)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def record(cwd: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((cwd / ".codex-self-iter-fleet" / "fleet.json").read_text())
    return data


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[str]]]:
    """Fleet runners a test starts in the background; whatever of them (and their loops) is left is killed."""
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def start_fleet(cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "codex_self_iter", "fleet", "run", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def end_loops(cwd: Path) -> None:
    """Kill every loop process and agent group the fleet recorded that still lives (test clean-up)."""
    path = cwd / ".codex-self-iter-fleet" / "fleet.json"
    if not path.exists():
        return
    for loop in json.loads(path.read_text())["loops"]:
        status_file = Path(loop["state_dir"] or "/nonexistent") / "status.json"
        agent = json.loads(status_file.read_text()).get("agent_pid") if status_file.exists() else None
        for pid, group in ((loop["pid"], False), (agent, True)):
            if isinstance(pid, int) and pid_alive(pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    (os.killpg if group else os.kill)(pid, signal.SIGKILL)


@pytest.mark.timeout(180)
def test_six_repositories_three_at_a_time_each_on_its_own_branch_and_a_failure_stops_no_other(tmp_path: Path) -> None:
    repos = tmp_path / "repos"
    names = ["bad", "r1", "r2", "r3", "r4", "r5"]  # the failing loop first: the others still start and finish
    for name in names:
        make_repo(repos, name, failing() if name == "bad" else completing(sleep=0.5))
    done = fleet_cli("run", *(str(repos / n) for n in names), "--parallel", "3", cwd=tmp_path, timeout=170)
    assert done.returncode == 3, done.stdout + done.stderr  # 3: a loop did not complete

    report = fleet_json(tmp_path)
    rows = {row["id"]: row for row in report["loops"]}
    assert report["counts"] == {"complete": 5, "failed": 1}
    assert (rows["01-bad"]["state"], rows["01-bad"]["stop_reason"], rows["01-bad"]["exit_code"]) == (
        "failed",
        "agent_failure",
        3,
    )
    spans = [span for loop in record(tmp_path)["loops"] for span in loop["spans"]]
    assert len(spans) == 6 and all(end > start for start, end in spans)
    assert max_overlap(spans) == 3  # measured from the fleet's own start/end times: never more than 3, and 3 used
    for number, name in enumerate(names, 1):
        row = rows[f"{number:02d}-{name}"]
        assert row["starts"] == 1
        branch = row["branch"]
        assert branch.startswith(f"codex-self-iter/{name}-")  # `run --worktree`: a branch from the task's title
        assert git(repos / name, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"  # the user's tree untouched
        assert git(repos / name, "status", "--porcelain") == ""
        if name == "bad":
            assert [c["role"] for c in agent_calls(repos, name)] == ["planner", "executor"]
            continue
        assert (row["state"], row["stop_reason"], row["exit_code"], row["iteration"]) == ("complete", "complete", 0, 1)
        assert git(repos / name, "show", f"{branch}:done.txt") == "done\n"  # the work is on the loop's branch
    assert len({row["branch"] for row in rows.values()}) == 6

    table = fleet_cli("status", cwd=tmp_path).stdout.splitlines()
    assert table[0].startswith("codex-self-iter fleet: not running · 5 complete · 1 failed")
    assert table[1].split() == [
        "loop",
        "repository",
        "task",
        "state",
        "iter",
        "tokens",
        "cost",
        "branch",
        "stop",
        "reason",
    ]
    assert table[2].split()[:4] == ["01-bad", str(repos / "bad"), "TASK.md", "failed"]
    assert table[2].split()[-1] == "agent_failure" and len(table) == 8


@pytest.mark.timeout(120)
def test_fleet_stop_now_ends_every_loop_and_every_agent_process_group(
    tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    repos = tmp_path / "repos"
    for name in ("a", "b", "c", "d"):
        make_repo(repos, name, slow(60))
    proc = start_fleet(tmp_path, *(str(repos / n) for n in "abcd"), "--parallel", "3")
    started.append(proc)
    try:

        def three_agents() -> list[int] | None:
            if not (tmp_path / ".codex-self-iter-fleet" / "fleet.json").exists():
                return None
            rows = [row for row in fleet_json(tmp_path)["loops"] if row["state"] == "running"]
            files = [Path(row["state_dir"], "status.json") for row in rows if row["state_dir"]]
            pids = [json.loads(path.read_text()).get("agent_pid") for path in files if path.exists()]
            executors = [pid for pid in pids if isinstance(pid, int)]
            calls = sum(1 for n in "abcd" for c in agent_calls(repos, n) if c["role"] == "executor")
            return executors if len(executors) == 3 and calls == 3 else None

        agents = wait_for(three_agents, 60, "three executors running")
        done = fleet_cli("stop", "--now", cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "every loop has ended (3 signalled)" in done.stdout
        assert proc.wait(timeout=30) == 5
        for pgid in agents:
            with pytest.raises(ProcessLookupError):
                os.killpg(pgid, 0)  # the agent's whole process group is gone
        report = fleet_json(tmp_path)
        assert report["stop_reason"] == "signal" and report["running"] is False
        assert sorted(row["state"] for row in report["loops"]) == [
            "interrupted",
            "interrupted",
            "interrupted",
            "skipped",
        ]
        again = fleet_cli("run", cwd=tmp_path)
        assert again.returncode == 1 and "a fleet STOP is present" in again.stderr
    finally:
        end_loops(tmp_path)


@pytest.mark.timeout(180)
def test_kill_9_of_the_fleet_then_run_again_finishes_the_rest_and_redoes_nothing(
    tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    repos = tmp_path / "repos"
    scripts = {"f1": completing(0.1), "f2": completing(0.1), "s1": slow(4), "s2": slow(4), "q1": completing(0.1)}
    for name, script in scripts.items():
        make_repo(repos, name, script)
    proc = start_fleet(tmp_path, *(str(repos / n) for n in scripts), "--parallel", "2")
    started.append(proc)
    try:

        def slow_pair_running() -> bool:
            if not (tmp_path / ".codex-self-iter-fleet" / "fleet.json").exists():
                return False
            states = {loop["id"]: loop["state"] for loop in record(tmp_path)["loops"]}
            executing = [n for n in ("s1", "s2") if any(c["role"] == "executor" for c in agent_calls(repos, n))]
            return states["01-f1"] == states["02-f2"] == "complete" and len(executing) == 2

        wait_for(slow_pair_running, 90, "f1 and f2 complete, s1 and s2 executing")
        proc.kill()  # kill -9 of the fleet runner: s1 and s2 run on (their own sessions)
        proc.wait(timeout=10)
        s1 = next(loop for loop in record(tmp_path)["loops"] if loop["id"] == "03-s1")
        os.kill(s1["pid"], signal.SIGKILL)  # and s1 dies with it: an interrupted loop the next run continues

        done = fleet_cli("run", cwd=tmp_path, timeout=150)
        assert done.returncode == 0, done.stdout
        assert "04-s2 is still running from before" in done.stdout
        loops = {loop["id"]: loop for loop in record(tmp_path)["loops"]}
        assert {name: loop["state"] for name, loop in loops.items()} == dict.fromkeys(loops, "complete")
        assert [loops[i]["starts"] for i in ("01-f1", "02-f2", "03-s1", "04-s2", "05-q1")] == [1, 1, 2, 1, 1]
        for name in ("f1", "f2", "s2", "q1"):  # finished loops were not run again: one planner call each
            assert [c["role"] for c in agent_calls(repos, name)] == ["planner", "executor", "reviewer"]
        s1_roles = [c["role"] for c in agent_calls(repos, "s1")]
        assert s1_roles.count("planner") == 1  # s1 continued with its goal; its killed executor call ran again
        assert s1_roles == ["planner", "executor", "executor", "reviewer"]
    finally:
        end_loops(tmp_path)


@pytest.mark.timeout(150)
def test_the_fleet_budget_stops_new_starts_and_the_running_loops(tmp_path: Path) -> None:
    fake_codex = write_fake_codex(tmp_path)
    log = tmp_path / "codex-calls.jsonl"
    repos = tmp_path / "repos"
    for name in ("a", "b", "c", "d"):  # the built-in runner with a stand-in codex that reports 110 tokens per call
        make_repo(repos, name, {}, agent_command_template=None, checks=[], max_iterations=3)
    env = {**os.environ, "CODEX_BIN": str(fake_codex), "FAKE_CODEX_LOG": str(log)}
    argv = [sys.executable, "-m", "codex_self_iter", "fleet", "run", *(str(repos / n) for n in "abcd")]
    done = subprocess.run(
        [*argv, "--parallel", "1", "--max-total-tokens", "500"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=140,
    )
    assert done.returncode == 2, done.stdout + done.stderr  # 2: the fleet budget is spent
    assert "fleet budget spent" in done.stdout
    report = fleet_json(tmp_path)
    rows = {row["id"][3:]: row for row in report["loops"]}
    assert report["stop_reason"] == "fleet_budget" and report["tokens"] >= 500
    assert (rows["a"]["state"], rows["a"]["stop_reason"], rows["a"]["tokens"]) == ("stopped", "max_iterations", 440)
    assert rows["b"]["state"] in ("interrupted", "stopped") and rows["b"]["starts"] == 1
    for name in ("c", "d"):
        assert (rows[name]["state"], rows[name]["starts"], rows[name]["note"]) == (
            "skipped",
            0,
            "not started: fleet_budget",
        )
    argvs = [json.loads(line)["argv"] for line in log.read_text().splitlines()]
    workspaces = {Path(argv[argv.index("-C") + 1]).parents[3].name for argv in argvs}  # <repo>/.git/codex-self-iter/…
    assert workspaces == {"a", "b"}  # codex never ran for c or d


@pytest.mark.codex
@pytest.mark.timeout(150)
def test_the_fleet_dollar_budget_stops_new_starts_with_the_real_codex(
    server: FakeResponsesServer, tmp_path: Path
) -> None:
    each = bundled_prices()[MOCK_MODEL].cost(TokenUsage(100_000, 20_000, 10_000))  # one model response
    plan = {"next_goal": "write done.txt", "summary": "one file", "stop": False}
    report = {"status": "continue", "summary": "working", "next_goal": "write done.txt", "evidence": []}
    for _ in range(2):  # at most two loops call codex: planner and one executor turn each
        server.add_turns([{"message_json": plan}, {"usage": USAGE}], [{"message_json": report}, {"usage": USAGE}])
    repos = tmp_path / "repos"
    for name in ("a", "b", "c"):  # the built-in runner, the real codex; the model is priced (bundled table)
        make_repo(repos, name, {}, agent_command_template=None, checks=[], max_iterations=1, command_timeout_sec=60)
    budget = round(2.5 * each, 4)  # loop a's two calls stay under it, loop b's first crosses it
    done = fleet_cli(
        "run",
        *(str(repos / n) for n in "abc"),
        "--parallel",
        "1",
        "--max-cost-usd",
        str(budget),
        cwd=tmp_path,
        timeout=140,
    )
    assert done.returncode == 2, done.stdout + done.stderr  # 2: the fleet budget is spent
    spent = re.search(r"fleet budget spent \(([\d,]+) tokens, \$([\d.]+)\)", done.stdout)
    assert spent is not None and float(spent[2]) >= round(budget, 2), done.stdout
    report_json = fleet_json(tmp_path)
    rows = {row["id"][3:]: row for row in report_json["loops"]}
    assert report_json["stop_reason"] == "fleet_budget" and report_json["cost_usd"] >= budget
    assert (rows["a"]["state"], rows["a"]["stop_reason"]) == ("stopped", "max_iterations")
    assert rows["a"]["cost_usd"] == pytest.approx(2 * each)  # the loop's own status.json, priced
    assert rows["b"]["starts"] == 1 and rows["b"]["cost_usd"] >= each
    assert (rows["c"]["state"], rows["c"]["starts"], rows["c"]["note"]) == ("skipped", 0, "not started: fleet_budget")
    assert 3 <= len(server.responses_requests()) <= 4  # nothing after loop b: codex never ran for c


def test_bad_specs_get_one_line_each(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repos", "r", completing())
    (tmp_path / "plain").mkdir()
    cases = {
        (str(tmp_path / "missing"),): "no repository at",
        (str(tmp_path / "plain"),): "not a git repository",
        (f"{repo}:007",): "no task file 007",
        (str(repo), str(repo)): "named twice with the same task",
        (): "no fleet here; name its loops",
    }
    for specs, message in cases.items():
        done = fleet_cli("run", *specs, cwd=tmp_path)
        assert done.returncode == 1 and message in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
    assert fleet_cli("status", cwd=tmp_path).returncode == 1


@pytest.mark.timeout(90)
def test_a_task_spec_runs_that_one_task_of_the_repositorys_queue(tmp_path: Path) -> None:
    repos = tmp_path / "repos"
    repo = make_repo(repos, "q", completing(0.1))
    (repo / "tasks").mkdir()
    for number, title in ((1, "first"), (2, "second")):
        text = f"# {title} task\n\nWrite done.txt for the {title} task.\n\n## Done when\n- done.txt exists\n"
        (repo / "tasks" / f"{number:03d}-{title}.md").write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "tasks")
    done = fleet_cli("run", f"{repo}:002", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    row = fleet_json(tmp_path)["loops"][0]
    assert (row["id"], row["task"], row["state"]) == ("01-q-002-second", "tasks/002-second.md", "complete")
    prompts = [call["prompt"] for call in agent_calls(repos, "q")]
    assert all("for the second task" in p and "for the first task" not in p for p in prompts)
    assert not (Path(row["state_dir"]) / "tasks.json").exists()  # the one task, not the queue
