"""Read a Python test file by its syntax tree: tests, their real assertions, skips, exits and selection hooks."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from codex_self_iter.checks.tamper_reading import FunctionFacts, Reading
from codex_self_iter.text import clip

SKIP_NAMES = frozenset(
    {"skip", "skipif", "xfail", "skipIf", "skipUnless", "expectedFailure", "skipTest", "importorskip", "SkipTest"}
)
EXIT_NAMES = frozenset({"_exit", "exit", "quit", "abort"})
# Hooks that can decide which tests run or what their outcome is: a conftest that gains one can empty a suite.
SELECTION_HOOKS = frozenset(
    {
        "pytest_collection_modifyitems",
        "pytest_ignore_collect",
        "pytest_collect_file",
        "pytest_pycollect_makeitem",
        "pytest_generate_tests",
        "pytest_collection",
        "pytest_runtestloop",
        "pytest_runtest_protocol",
        "pytest_runtest_setup",
        "pytest_runtest_call",
        "pytest_runtest_makereport",
        "pytest_report_teststatus",
        "pytest_sessionfinish",
        "pytest_deselected",
    }
)
COLLECT_IGNORE = frozenset({"collect_ignore", "collect_ignore_glob", "pytest_plugins"})


def read_python(text: str) -> Reading:
    """The facts of one Python file that matter for tampering (empty with `error` set when it does not parse)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError) as exc:
        return Reading(error=f"does not parse ({exc.__class__.__name__}: {clip(str(exc), 80)})")
    reading = Reading(marks=_module_marks(tree))
    for name, node, outer in _functions(tree.body, "", []):
        facts = _function_facts(node, outer)
        target = reading.tests if node.name.startswith("test") else reading.helpers
        target[name] = facts
    return reading


def _functions(
    body: list[ast.stmt], prefix: str, outer: list[ast.expr]
) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef, list[ast.expr]]]:
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield prefix + node.name, node, outer
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node.body, f"{prefix}{node.name}.", [*outer, *node.decorator_list])


def _module_marks(tree: ast.Module) -> list[str]:
    marks: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in SELECTION_HOOKS:
            marks.append(f"select:defines the {node.name} hook")
            continue
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        targets = _assigned_names(node)
        if targets & COLLECT_IGNORE:
            marks.append(f"select:{clip(ast.unparse(node), 120)}")
        if "pytestmark" in targets and _mentions(node, SKIP_NAMES):
            marks.append(f"skip:{clip(ast.unparse(node), 120)}")
            continue
        marks.extend(_call_marks(node))
    return marks


def _assigned_names(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AugAssign | ast.AnnAssign):
        targets = [node.target]
    else:
        return set()
    return {t.id for t in targets if isinstance(t, ast.Name)}


def _call_marks(node: ast.AST) -> list[str]:
    marks: list[str] = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call | ast.Raise):
            name = _callee(sub.func) if isinstance(sub, ast.Call) else _raised(sub)
            if name in SKIP_NAMES:
                marks.append(f"skip:{clip(ast.unparse(sub), 120)}")
            elif name in EXIT_NAMES:
                marks.append(f"exit:{clip(ast.unparse(sub), 120)}")
    return marks


def _function_facts(node: ast.FunctionDef | ast.AsyncFunctionDef, outer: list[ast.expr]) -> FunctionFacts:
    facts = FunctionFacts()
    for decorator in [*outer, *node.decorator_list]:
        if _mentions(decorator, SKIP_NAMES):
            facts.marks.append(f"skip:@{clip(ast.unparse(decorator), 120)}")
        facts.cases += _parametrize_cases(decorator)
    for statement in node.body:
        facts.marks.extend(m for m in _call_marks(statement) if not _nested_def(statement))
    _count_block(node.body, facts)
    return facts


def _nested_def(node: ast.stmt) -> bool:
    return isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)


def _count_block(body: list[ast.stmt], facts: FunctionFacts) -> None:
    """Count the assertions that can run: statements after a return, raise or skip in a block cannot."""
    for statement in body:
        if _nested_def(statement):
            continue
        if isinstance(statement, ast.If) and _constant_false(statement.test):
            _count_block(statement.orelse, facts)
            continue
        if isinstance(statement, ast.Assert):
            _add_assertion(facts, statement, _trivial(statement.test))
        elif isinstance(statement, ast.With | ast.AsyncWith):
            for item in statement.items:
                _count_calls(item.context_expr, facts)
        elif not isinstance(statement, ast.If | ast.For | ast.AsyncFor | ast.While | ast.Try | ast.Match):
            _count_calls(statement, facts)
        for block in _blocks(statement):
            _count_block(block, facts)
        if _ends_block(statement):
            return


def _blocks(statement: ast.stmt) -> list[list[ast.stmt]]:
    if isinstance(statement, ast.Match):
        return [case.body for case in statement.cases]
    blocks = [getattr(statement, name, None) for name in ("body", "orelse", "finalbody")]
    handlers = [h.body for h in getattr(statement, "handlers", [])]
    return [b for b in blocks if isinstance(b, list)] + handlers


def _ends_block(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Return | ast.Raise | ast.Continue | ast.Break):
        return True
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Call)
        and _callee(statement.value.func) in SKIP_NAMES | EXIT_NAMES
    )


def _count_calls(node: ast.AST, facts: FunctionFacts) -> None:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            name = _callee(sub.func)
            if name.startswith(("assert", "raises", "warns", "fail")) and name not in ("failed",):
                args = [*sub.args, *(k.value for k in sub.keywords)]
                _add_assertion(facts, sub, bool(args) and _trivial_call(args))


def _add_assertion(facts: FunctionFacts, node: ast.AST, trivial: bool) -> None:
    if trivial:
        facts.trivial += 1
        return
    facts.asserts += 1
    if len(facts.texts) < 30:
        facts.texts.append(clip(ast.unparse(node), 160))


def _trivial(test: ast.expr) -> bool:
    """An assertion that cannot fail: a truthy constant, `x == x`, or `... or True`."""
    if _constant_only(test):
        try:
            return bool(ast.literal_eval(test))
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return True
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq | ast.Is | ast.GtE):
        return ast.dump(test.left) == ast.dump(test.comparators[0])
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        return any(_trivial(value) for value in test.values)
    return False


def _trivial_call(args: list[ast.expr]) -> bool:
    if all(_constant_only(arg) for arg in args):
        return True
    return len(args) >= 2 and ast.dump(args[0]) == ast.dump(args[1])


def _constant_only(node: ast.AST) -> bool:
    return not any(isinstance(sub, ast.Name | ast.Attribute | ast.Call | ast.Subscript) for sub in ast.walk(node))


def _constant_false(test: ast.expr) -> bool:
    if not _constant_only(test):
        return False
    try:
        return not ast.literal_eval(test)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False


def _parametrize_cases(decorator: ast.expr) -> int:
    if not (isinstance(decorator, ast.Call) and _callee(decorator.func) == "parametrize" and len(decorator.args) >= 2):
        return 0
    values = decorator.args[1]
    return len(values.elts) if isinstance(values, ast.List | ast.Tuple | ast.Set) else 0


def _mentions(node: ast.AST, names: frozenset[str]) -> bool:
    return any(_callee(sub) in names for sub in ast.walk(node) if isinstance(sub, ast.Name | ast.Attribute))


def _callee(func: ast.AST) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _raised(node: ast.Raise) -> str:
    exc: Any = node.exc
    if isinstance(exc, ast.Call):
        exc = exc.func
    return _callee(exc) if exc is not None else ""
