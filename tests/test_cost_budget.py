"""max_cost_usd with the real codex binary: dollars from the usage the (fake) model server reports, a price table
shipped in the package and overridable with [prices], the cost in status, history and the summary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomli_w

from codex_self_iter.cli import main
from codex_self_iter.codex.pricing import bundled_prices
from codex_self_iter.fleet.action import main as action_main
from codex_self_iter.outcome import EXIT_BAD_INPUT
from tests.support.codex_home import MOCK_MODEL, write_codex_home
from tests.support.e2e_loop import BASE_CONFIG, CodexLoop, agent_calls, usage

pytestmark = pytest.mark.codex

PLAN = {"next_goal": "write hello.txt saying hello", "summary": "one file to write", "stop": False}
ENV_DUMP = (
    "import json, os, sys; open(sys.argv[1], 'w').write(json.dumps("
    "{k: v for k, v in os.environ.items() if k.startswith('CODEX_SELF_ITER_')}))"
)
# 100k input tokens (20k of them cached) and 10k output per model response.
USAGE = usage(100_000, 20_000, 10_000, 2_000)


def step(block: dict[str, object]) -> list[dict[str, object]]:
    return [{"message_json": block}, {"usage": USAGE}]


def report(n: int) -> dict[str, object]:
    return {"status": "continue", "summary": f"step {n}", "next_goal": f"do step {n + 1}", "evidence": []}


def price_per_response(input_price: float, cached_price: float, output_price: float) -> float:
    return (80_000 * input_price + 20_000 * cached_price + 10_000 * output_price) / 1_000_000


def test_the_cost_budget_stops_the_run_before_the_call_that_would_exceed_it(
    loop: CodexLoop, capsys: pytest.CaptureFixture[str]
) -> None:
    price = bundled_prices()[MOCK_MODEL]  # the model codex uses, from $CODEX_HOME/config.toml
    each = price_per_response(price.input, price.cached_input or price.input, price.output)
    loop.server.add_turns(step(PLAN), step(report(1)), step(report(2)), step(report(3)), step(report(4)))
    budget = round(2.5 * each, 4)  # planner + executor 1 stay under it; executor 2 crosses it
    run = loop.run({"max_cost_usd": budget, "max_iterations": 10})

    assert run.exit_code == 2, run.output
    status = run.status
    assert (status["stop_reason"], status["exit_code"]) == ("cost_budget", 2)
    assert len(loop.requests()) == 3  # no call after the budget was spent
    assert status["cost_usd"] == pytest.approx(3 * each) and status["model"] == MOCK_MODEL
    assert status["stop_detail"] == f"${3 * each:.2f} spent of max_cost_usd={budget:g}"
    assert [call["cost_usd"] for call in agent_calls(run)] == [pytest.approx(each)] * 3
    err = capsys.readouterr().err
    assert f"cost: {MOCK_MODEL} at $1.25 / $0.125 / $10 per 1M input / cached input / output tokens" in err
    assert f"stopped: cost_budget (exit 2) — ${3 * each:.2f} spent" in run.output
    assert f"tokens: {3 * 110_000:,} · cost: ${3 * each:.2f}" in run.output

    assert main(["status", "-w", str(loop.workspace), "--json"]) == 0
    report_json = json.loads(capsys.readouterr().out)
    assert report_json["cost_usd"] == pytest.approx(3 * each) and report_json["stop_reason"] == "cost_budget"
    assert main(["status", "-w", str(loop.workspace)]) == 0
    assert f"cost: ${3 * each:.2f}" in capsys.readouterr().out
    assert main(["history", "-w", str(loop.workspace)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[7] == "cost" and sum(f" ${each:.3f}" in line for line in table) == 3, table
    body = ["pr-body", "--state-dir", str(run.state_dir), "--workspace", str(loop.workspace), "--base", "main"]
    assert action_main([*body, "--branch", "main"]) == 0  # the GitHub Action's pull request body
    assert f"| cost | ${3 * each:.2f} |" in capsys.readouterr().out


def test_a_model_without_a_price_is_one_warning_then_a_price_in_the_config_counts(
    loop: CodexLoop, capsys: pytest.CaptureFixture[str]
) -> None:
    loop.server.add_turns(step(PLAN), step(report(1)), step(PLAN), step(report(1)))
    run = loop.run({"max_iterations": 1, "codex": {"model": "house-model-7"}})
    assert run.exit_code == 2 and run.status["stop_reason"] == "max_iterations"
    err = capsys.readouterr().err
    assert err.count("no price for model 'house-model-7'") == 1
    assert 'its cost is not counted; add [prices."house-model-7"]' in err
    assert run.status["cost_usd"] is None and "cost: ? (no price for house-model-7)" in run.output
    assert [call["cost_usd"] for call in agent_calls(run)] == [None, None]  # unknown, never a silent 0

    prices = {"house-model-7": {"input": 2.0, "output": 8.0}}  # cached input at the input price
    run = loop.run({"max_iterations": 1, "codex": {"model": "house-model-7"}, "prices": prices, "max_cost_usd": 100})
    each = price_per_response(2.0, 2.0, 8.0)
    assert run.status["cost_usd"] == pytest.approx(2 * each)
    assert "house-model-7 at $2 / $2 / $8 per 1M" in capsys.readouterr().err
    assert "no price" not in run.output


@pytest.mark.parametrize("model", ["house-model-7", None])
def test_a_cost_budget_without_a_price_for_the_model_refuses_to_start(
    loop: CodexLoop, capsys: pytest.CaptureFixture[str], model: str | None
) -> None:
    config = loop.workspace.parent / "budget.toml"
    config.write_text(tomli_w.dumps({**BASE_CONFIG, "max_cost_usd": 5, "codex": {"model": model} if model else {}}))
    home = Path(os.environ["CODEX_HOME"])
    if model is None:  # the model comes from codex's own config.toml
        write_codex_home(home, loop.server.url, model="house-model-8")
    source = "[codex] model" if model else home / "config.toml"
    named = f"model '{model or 'house-model-8'}' (from {source})"
    line = (
        f"codex-self-iter: error: {config}: max_cost_usd = 5 cannot be enforced: {named} has no price; add "
        f'[prices."{model or "house-model-8"}"] with input, cached_input and output (US$ per 1M tokens) to the '
        "config, or unset max_cost_usd"
    )
    for dry in ([], ["--dry-run"]):
        assert main(["run", *dry, "-w", str(loop.workspace), "--config", str(config)]) == EXIT_BAD_INPUT
        out, err = capsys.readouterr()
        assert (out, err.strip()) == ("", line)  # one line, no traceback; the dry run says the same
    assert loop.requests() == [] and not (loop.workspace / ".codex-self-iter").exists()


@pytest.mark.timeout(120)
def test_the_cost_budget_as_a_subprocess(loop: CodexLoop) -> None:
    loop.server.add_turns(step(PLAN), step(report(1)), step(report(2)))
    config = loop.workspace.parent / "cost.toml"
    seen = loop.workspace.parent / "on_stop.env"
    on_stop = [sys.executable, "-c", ENV_DUMP, str(seen)]
    table = {"checks": [], "max_cost_usd": 0.001, "command_timeout_sec": 60, "hooks": {"on_stop": on_stop}}
    config.write_text(tomli_w.dumps(table))
    done = subprocess.run(
        [sys.executable, "-m", "codex_self_iter", "run", "-w", str(loop.workspace), "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=110,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert "stopped: cost_budget (exit 2)" in done.stdout
    assert len(loop.requests()) == 1, done.stderr  # the planner's call alone spent the budget
    env = json.loads(seen.read_text())  # the on_stop hook saw the outcome, cost included
    price = bundled_prices()[MOCK_MODEL]
    each = price_per_response(price.input, price.cached_input or price.input, price.output)
    assert (env["CODEX_SELF_ITER_REASON"], env["CODEX_SELF_ITER_EXIT_CODE"]) == ("cost_budget", "2")
    assert env["CODEX_SELF_ITER_COST_USD"] == f"{each:.4f}" and env["CODEX_SELF_ITER_TOKENS"] == "110000"
