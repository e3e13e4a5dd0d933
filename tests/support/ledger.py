"""The ledger invariant of the journal and runtime.json, checked after kills and restarts."""

from __future__ import annotations

import itertools

import pytest

from tests.support.faults import LoopBench


def agent_calls(bench: LoopBench) -> list[dict[str, object]]:
    return [e for e in bench.journal() if e["event"] == "agent_call"]


def assert_ledger(bench: LoopBench) -> None:
    """One journal record per finished call; the saved totals are exactly the sums of the journal's records."""
    records = agent_calls(bench)
    calls = [(e["iteration"], e["role"]) for e in records]
    assert len(calls) == len(set(calls)), calls  # no finished call was asked again (these agents never fail)
    assert [e["seq"] for e in records] == list(itertools.accumulate(int(str(e["calls"])) for e in records))
    totals = bench.runtime()["totals"]
    assert totals["agent_calls"] == sum(int(str(e["calls"])) for e in records)
    assert totals["agent_seconds"] == pytest.approx(sum(float(str(e["duration_sec"])) for e in records), abs=1e-6)
    tokens = [e["usage"] for e in records if isinstance(e.get("usage"), dict)]
    for key in ("input_tokens", "output_tokens", "cached_input_tokens", "reasoning_output_tokens"):
        assert totals[key] == sum(int(u[key]) for u in tokens), key
