"""Hook input fuzzing: missing keys, nulls, wrong types, garbage and huge payloads never crash the hook and
never block a stop that is not the bound session's."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codex_self_iter.cli import main
from codex_self_iter.session.hook import run_stop_hook
from codex_self_iter.session.hook_input import MAX_INPUT_BYTES
from tests.support.loop_harness import private_state
from tests.support.session_ws import CHECK, make_workspace, stop_event

ALLOWED_KEYS = {"decision", "reason", "continue", "stopReason", "systemMessage", "suppressOutput"}
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def run(payload: bytes) -> dict[str, Any] | None:
    out = io.StringIO()
    assert run_stop_hook(io.BytesIO(payload), out) == 0
    text = out.getvalue()
    if not text:
        return None
    answer = json.loads(text)
    assert isinstance(answer, dict) and set(answer) <= ALLOWED_KEYS, answer
    if answer.get("decision") == "block":
        assert isinstance(answer.get("reason"), str) and answer["reason"].strip()
    return answer


@pytest.fixture(scope="module")
def bound_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, bytes]]:
    from tests.conftest import git

    repo = tmp_path_factory.mktemp("fuzz") / "ws"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    ws = make_workspace(repo)
    with pytest.MonkeyPatch.context() as patch:  # the contract's private state, for every test of the module
        patch.setenv("XDG_STATE_HOME", str(repo.parent / "state"))
        assert (
            main(["session", "start", "-w", str(ws), "--objective", "o", "--check", CHECK, "--max-iterations", "50"])
            == 0
        )
        run(stop_event(ws, "bind me", session="s1"))
        yield ws, private_state(ws).joinpath("session", "state.json").read_bytes()


def fresh(ws: Path, state: bytes) -> None:
    """The bound contract's state as it was after binding."""
    private_state(ws).joinpath("session", "state.json").write_bytes(state)


def payloads(ws: Path) -> st.SearchStrategy[bytes]:
    keys = {
        "session_id": st.sampled_from(["s1", "s2", "", None, 1, ["s1"]]),
        "cwd": st.sampled_from([str(ws), str(ws / "deep" / "er"), "/", "", None, 7, "relative/path"]),
        "stop_hook_active": st.sampled_from([True, False, None, "true", 1]),
        "turn_id": st.sampled_from(["t1", None, 3]),
        "transcript_path": st.sampled_from([None, "/nonexistent", str(ws / "calc.py"), 0]),
        "last_assistant_message": st.one_of(st.none(), st.text(max_size=200), JSON_VALUES),
    }
    partial = st.fixed_dictionaries({}, optional=keys)  # type: ignore[arg-type]
    extra = st.dictionaries(st.text(max_size=10), JSON_VALUES, max_size=3)
    objects = st.builds(lambda a, b: json.dumps({**b, **a}).encode(), partial, extra)
    return st.one_of(objects, st.binary(max_size=300), JSON_VALUES.map(lambda v: json.dumps(v).encode()))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_stop_events_never_crash_and_block_only_the_bound_session(
    bound_workspace: tuple[Path, bytes], data: st.DataObject
) -> None:
    ws, fresh_state = bound_workspace
    fresh(ws, fresh_state)
    payload = data.draw(payloads(ws))
    answer = run(payload)
    if answer is not None and answer.get("decision") == "block":
        sent = json.loads(payload)
        assert sent["session_id"] == "s1"
        assert sent["cwd"] in (str(ws), str(ws / "deep" / "er"))
    if answer is not None and "systemMessage" in answer:
        assert "failed" not in answer["systemMessage"], answer  # garbage is not an internal error


def test_huge_messages_are_judged_and_oversized_input_is_not_blocked(bound_workspace: tuple[Path, bytes]) -> None:
    ws, fresh_state = bound_workspace
    fresh(ws, fresh_state)
    huge = "x" * (4 * 1024 * 1024) + "\n<promise>DONE</promise>"
    answer = run(stop_event(ws, huge, session="s1"))
    assert answer is not None and answer["decision"] == "block"  # a real claim, with the test still failing
    oversized = stop_event(ws, "y" * MAX_INPUT_BYTES, session="s1")
    assert run(oversized) is None  # cut at the input limit: unreadable, so it cannot be the bound session's
    deep = b'{"session_id": "s1", "cwd": "' + str(ws).encode() + b'", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert run(deep) is None
