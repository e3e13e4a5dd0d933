"""The protected-tests readers: one file before and after an edit, and the change the guard names."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_self_iter.checks.protected import ProtectedSnapshot, find_tampering
from codex_self_iter.checks.run import parse_check

PY_TEST = """import pytest
from calc import add


def check(x):
    assert x > 0


@pytest.mark.parametrize("a", [1, 2, 3])
def test_param(a):
    assert add(a, 0) == a


def test_add():
    assert add(1, 2) == 3
    assert add(2, 2) == 4


class TestMore:
    def test_neg(self):
        self.assertEqual(add(-1, -1), -2)
"""
JS_TEST = """describe('math', () => {
  it('adds', () => {
    expect(add(1, 2)).toBe(3);
  });
  test('subs', () => { expect(sub(2, 1)).toBe(1); });
});
"""
GO_TEST = """package calc

import "testing"

func TestAdd(t *testing.T) {
\tif Add(1, 2) != 3 {
\t\tt.Errorf("Add(1, 2) = %d", Add(1, 2))
\t}
}
"""
RUST_TEST = """pub fn add(a: i32, b: i32) -> i32 { a + b }

#[cfg(test)]
mod tests {
    #[test]
    fn adds() {
        assert_eq!(super::add(1, 2), 3);
    }
}
"""
MAKEFILE = "test:\n\tpython3 -m pytest -q\n"
PACKAGE = '{"scripts": {"test": "jest --ci"}}'
INI = "[pytest]\ntestpaths = tests\n"

WEAKENING = [
    ("tests/test_calc.py", PY_TEST, ("add(1, 2) == 3", "True"), "assertions in test test_add replaced by trivial"),
    ("tests/test_calc.py", PY_TEST, ("assert add(2, 2) == 4\n", ""), "assertions removed from test test_add (2 → 1)"),
    ("tests/test_calc.py", PY_TEST, ("    assert add(1, 2)", "    return\n    assert add(1, 2)"), "(2 → 0)"),
    ("tests/test_calc.py", PY_TEST, ("def test_add", "@pytest.mark.xfail\ndef test_add"), "skip added to test"),
    ("tests/test_calc.py", PY_TEST, ("    assert add(1, 2)", "    pytest.skip('later')\n    assert add(1, 2)"), "skip"),
    ("tests/test_calc.py", PY_TEST, ("class TestMore:", "@unittest.skip('x')\nclass TestMore:"), "TestMore.test_neg"),
    ("tests/test_calc.py", PY_TEST, ("def test_add", "def _test_add"), "test test_add removed or renamed away"),
    ("tests/test_calc.py", PY_TEST, ("[1, 2, 3]", "[1]"), "parametrized cases of test test_param cut (3 → 1)"),
    ("tests/test_calc.py", PY_TEST, ("assert x > 0", "pass"), "assertions removed from helper check"),
    ("tests/test_calc.py", PY_TEST, ("import pytest\n", "import pytest\npytestmark = pytest.mark.skip\n"), "skip"),
    ("tests/test_calc.py", PY_TEST, ("import pytest\n", "import pytest, os\nos._exit(0)\n"), "early exit added"),
    ("tests/test_calc.py", PY_TEST, ("self.assertEqual(add(-1, -1), -2)", "self.assertEqual(1, 1)"), "trivial"),
    ("test/math.test.js", JS_TEST, ("it('adds'", "it.skip('adds'"), "skip added to test math > adds"),
    ("test/math.test.js", JS_TEST, ("it('adds'", "xit('adds'"), "skip added"),
    ("test/math.test.js", JS_TEST, ("test('subs'", "test.only('subs'"), "focus (.only) added"),
    ("test/math.test.js", JS_TEST, ("describe('math'", "describe.skip('math'"), "math > subs"),
    ("test/math.test.js", JS_TEST, ("expect(add(1, 2)).toBe(3)", "expect(true).toBe(true)"), "trivial ones"),
    ("test/math.test.js", JS_TEST, ("  it('adds', () => {\n    expect(add(1, 2)).toBe(3);\n  });\n", ""), "removed"),
    ("calc_test.go", GO_TEST, ("\tif Add", '\tt.Skip("later")\n\tif Add'), "skip added to test TestAdd"),
    ("calc_test.go", GO_TEST, ("package calc", "//go:build ignore\n\npackage calc"), "build constraint added"),
    ("calc_test.go", GO_TEST, ("func TestAdd", "func testAdd"), "test TestAdd removed or renamed away"),
    ("src/lib.rs", RUST_TEST, ("    #[test]\n", "    #[test]\n    #[ignore]\n"), "skip added to test adds"),
    ("src/lib.rs", RUST_TEST, ("#[cfg(test)]", "#[cfg(any())]"), "build constraint added"),
    ("src/lib.rs", RUST_TEST, ("assert_eq!(super::add(1, 2), 3);", "let _ = 1;"), "assertions removed"),
    ("pytest.ini", INI, ("testpaths = tests", "testpaths = tests\naddopts = --deselect tests/x.py::t"), "addopts"),
    ("pytest.ini", INI, ("testpaths = tests", "testpaths = tests/unit"), "setting testpaths"),
    ("package.json", PACKAGE, ("jest --ci", "jest --ci --testPathIgnorePatterns calc"), "scripts.test"),
    ("package.json", PACKAGE, ("jest --ci", "echo ok"), "scripts.test"),
    ("Makefile", MAKEFILE, ("-q\n", "-q || true\n"), "setting test"),
]


def snapshot_then_edit(tmp_path: Path, rel: str, text: str, edit: tuple[str, str]) -> list[str]:
    target = tmp_path / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    snapshot = ProtectedSnapshot.take(tmp_path, [parse_check("python3 -m pytest")])
    assert edit[0] in text
    target.write_text(text.replace(edit[0], edit[1]))
    loaded = ProtectedSnapshot.load(_saved(snapshot, tmp_path))
    assert loaded is not None
    return [str(t) for t in find_tampering(loaded, tmp_path)]


def _saved(snapshot: ProtectedSnapshot, tmp_path: Path) -> Path:
    path = tmp_path.parent / f"{tmp_path.name}-protected.json"
    snapshot.save(path)
    return path


@pytest.mark.parametrize(("rel", "text", "edit", "expected"), WEAKENING)
def test_a_weakening_edit_is_named(tmp_path: Path, rel: str, text: str, edit: tuple[str, str], expected: str) -> None:
    found = snapshot_then_edit(tmp_path, rel, text, edit)
    assert any(line.startswith(f"{rel}: ") and expected in line for line in found), found


HARMLESS = [
    (
        "tests/test_calc.py",
        PY_TEST,
        ("class TestMore", "def test_new():\n    assert add(0, 0) == 0\n\n\nclass TestMore"),
    ),
    ("tests/test_calc.py", PY_TEST, ("assert add(2, 2) == 4", "assert add(2, 2) == 4\n    assert add(0, 1) == 1")),
    ("tests/test_calc.py", PY_TEST, ("from calc import add", "from calc import add  # the function under test")),
    ("test/math.test.js", JS_TEST, ("});\n", "  it('more', () => {\n    expect(add(0, 0)).toBe(0);\n  });\n});\n")),
    ("pytest.ini", INI, ("testpaths = tests", "testpaths = tests\naddopts = -ra --strict-markers")),
    ("package.json", PACKAGE, ("jest --ci", "jest --ci --runInBand")),
    ("Makefile", MAKEFILE, ("-q\n", "-q\n\tpython3 -m mypy\n")),
]


@pytest.mark.parametrize(("rel", "text", "edit"), HARMLESS)
def test_adding_tests_or_assertions_is_not_tampering(
    tmp_path: Path, rel: str, text: str, edit: tuple[str, str]
) -> None:
    assert snapshot_then_edit(tmp_path, rel, text, edit) == []


def test_new_files_that_narrow_or_shadow_are_tampering(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_calc.py").write_text(PY_TEST)
    snapshot = ProtectedSnapshot.take(tmp_path, [parse_check("python3 -m pytest")])
    (tmp_path / "tests" / "conftest.py").write_text("def pytest_collection_modifyitems(items):\n    items.clear()\n")
    (tmp_path / "pytest.ini").write_text('[pytest]\naddopts = -k "not test_add"\n')
    (tmp_path / "pytest").mkdir()
    (tmp_path / "pytest" / "__init__.py").write_text("")
    (tmp_path / "pytest" / ".gitignore").write_text("*\n")
    found = "\n".join(str(t) for t in find_tampering(snapshot, tmp_path))
    assert "tests/conftest.py: new file: test selection changed" in found
    assert "pytest.ini: new file: setting addopts" in found
    assert "pytest: created at the workspace root" in found


def test_a_moved_test_file_is_harmless_a_deleted_one_is_not(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_calc.py").write_text(PY_TEST)
    snapshot = ProtectedSnapshot.take(tmp_path, [])
    (tmp_path / "tests" / "test_calc.py").rename(tmp_path / "tests" / "test_arith.py")
    assert find_tampering(snapshot, tmp_path) == []
    moved = find_tampering(snapshot, tmp_path, include_harmless=True)
    assert [t.weakens for t in moved] == [False, False]
    (tmp_path / "tests" / "test_arith.py").unlink()
    assert [str(t) for t in find_tampering(snapshot, tmp_path)] == [
        "tests/test_calc.py: deleted with 3 test(s): test_param, test_add, TestMore.test_neg"
    ]


def test_protected_globs_and_check_programs_must_stay(tmp_path: Path) -> None:
    (tmp_path / "golden").mkdir()
    (tmp_path / "golden" / "out.json").write_text("{}")
    (tmp_path / "verify.sh").write_text("exit 1\n")
    snapshot = ProtectedSnapshot.take(tmp_path, [parse_check("sh verify.sh")], ["golden/*"])
    (tmp_path / "golden" / "out.json").write_text('{"x": 1}')
    (tmp_path / "golden" / "new.json").write_text("{}")
    (tmp_path / "verify.sh").write_text("exit 0\n")
    found = [str(t) for t in find_tampering(snapshot, tmp_path)]
    assert found == [
        "golden/new.json: created; it matches protected_paths",
        "golden/out.json: changed (it guards the checks and must stay as it was)",
        "verify.sh: changed (it guards the checks and must stay as it was)",
    ]
