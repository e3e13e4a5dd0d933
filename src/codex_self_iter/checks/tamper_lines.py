"""Read JS/TS, Go and Rust test files line by line: tests, their assertions, skips, focus and build constraints.

Not a parser: comments and string contents are blanked first, a test's body runs from its opening line until
its braces balance again, and the patterns below name what counts. Good enough for formatted code, and every
change it reports names the line it saw.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from codex_self_iter.checks.tamper_reading import FunctionFacts, Reading
from codex_self_iter.text import clip

_LIT = r"(?:true|false|null|undefined|-?\d+(?:\.\d+)?|'[^']*'|\"[^\"]*\")"


@dataclass(frozen=True)
class Language:
    """The patterns of one language."""

    asserts: re.Pattern[str]
    trivial: re.Pattern[str]
    body_marks: tuple[tuple[str, re.Pattern[str]], ...]
    file_marks: tuple[tuple[str, re.Pattern[str]], ...]


JS = Language(
    asserts=re.compile(
        r"\bexpect\s*\(|\bassert(?:\.\w+)?\s*\(|\.should\b|\bt\.(?:is|deepEqual|true|false|throws)\w*\s*\("
    ),
    trivial=re.compile(rf"\bexpect\s*\(\s*{_LIT}\s*\)|\bassert(?:\.\w+)?\s*\(\s*{_LIT}\s*(?:,\s*{_LIT}\s*)?\)"),
    body_marks=(("skip", re.compile(r"\bthis\.skip\s*\(|\b(?:ctx|t|context)\.skip\s*\(")),),
    file_marks=(("exit", re.compile(r"\bprocess\.exit\s*\(")),),
)
GO = Language(
    asserts=re.compile(r"\bt\.(?:Error|Errorf|Fatal|Fatalf|Fail|FailNow)\s*\(|\b(?:assert|require)\.\w+\s*\("),
    trivial=re.compile(r"\b(?:assert|require)\.(?:True|False)\s*\(\s*t\s*,\s*(?:true|false)\s*[,)]"),
    body_marks=(("skip", re.compile(r"\bt\.(?:Skip|Skipf|SkipNow)\s*\(")),),
    file_marks=(
        ("build", re.compile(r"^\s*//\s*(?:go:build|\+build)\b")),
        ("exit", re.compile(r"\bos\.Exit\s*\(")),
    ),
)
RUST = Language(
    asserts=re.compile(r"\b(?:debug_)?assert(?:_eq|_ne)?!\s*[(\[{]|\bpanic!\s*[(\[{]"),
    trivial=re.compile(rf"\bassert!\s*\(\s*true\s*\)|\bassert_eq!\s*\(\s*({_LIT})\s*,\s*\1\s*\)"),
    body_marks=(),
    file_marks=(
        ("build", re.compile(r"^\s*#!?\[cfg(?:_attr)?\((?!test\)\])")),
        ("exit", re.compile(r"\bstd::process::exit\s*\(|\bprocess::exit\s*\(")),
    ),
)
LANGUAGES = {"js": JS, "go": GO, "rust": RUST}

_JS_OPENER = re.compile(r"(?<![\w.$])([xf]?)(it|test|describe|context|suite|specify)((?:\.\w+)*)\s*\(")
_JS_NAME = re.compile(r"\(\s*(['\"`])(.*?)\1")
_GO_OPENER = re.compile(r"^\s*func\s+(Test\w*)\s*\(")
_RUST_TEST_ATTR = re.compile(r"^\s*#\[(?:\w+::)*test\b")
_RUST_FN = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?(?:unsafe\s+)?fn\s+(\w+)")
_RUST_IGNORE = re.compile(r"^\s*#\[ignore\b")
_GO_BUILD = re.compile(r"\s*//\s*(?:go:build|\+build)")
_QUOTES = {"js": "\"'`", "go": "\"'`", "rust": '"'}


@dataclass
class _Block:
    name: str
    is_test: bool
    marks: list[str]
    start: int
    end: int = -1


def read_lines(language: str, text: str) -> Reading:
    """The facts of one JS/TS ('js'), Go ('go') or Rust ('rust') test file."""
    spec = LANGUAGES[language]
    raw = text.splitlines()
    code = _blank(raw, _QUOTES[language])
    blocks = {"js": _js_blocks, "go": _go_blocks, "rust": _rust_blocks}[language](raw, code)
    for block in blocks:
        block.end = _block_end(code, block.start)
    reading = Reading()
    for number, line in enumerate(code):
        reading.marks += [f"{kind}:{clip(raw[number], 100)}" for kind, found in spec.file_marks if found.search(line)]
    groups = [b for b in blocks if not b.is_test]
    for block in (b for b in blocks if b.is_test):
        outer = [g for g in groups if g.start < block.start <= g.end]
        name = " > ".join([*(g.name for g in outer), block.name])
        facts = FunctionFacts(marks=[m for g in outer for m in g.marks] + block.marks)
        for line_no in range(block.start, block.end + 1):
            line = code[line_no]
            facts.marks += [f"{k}:{clip(raw[line_no], 100)}" for k, p in spec.body_marks if p.search(line)]
            trivial = len(spec.trivial.findall(line))
            real = max(0, len(spec.asserts.findall(line)) - trivial)
            facts.trivial += trivial
            facts.asserts += real
            if real and len(facts.texts) < 30:
                facts.texts.append(clip(raw[line_no], 160))
        key, n = name, 2
        while key in reading.tests:
            key, n = f"{name} #{n}", n + 1
        reading.tests[key] = facts
    return reading


def _js_blocks(raw: list[str], code: list[str]) -> list[_Block]:
    blocks: list[_Block] = []
    for number, line in enumerate(code):
        for match in _JS_OPENER.finditer(line):
            prefix, word, modifiers = match.groups()
            named = _JS_NAME.match(raw[number], match.end() - 1)
            name = named.group(2) if named else f"(unnamed {word} #{len(blocks) + 1})"
            mods = set(modifiers.split(".")) - {""}
            marks = []
            if prefix == "x" or mods & {"skip", "todo", "skipIf", "fails"}:
                marks.append(f"skip:{clip(raw[number], 100)}")
            if prefix == "f" or "only" in mods:
                marks.append(f"only:{clip(raw[number], 100)}")
            is_test = word not in ("describe", "context", "suite")
            blocks.append(_Block(name, is_test, marks, number))
    return blocks


def _go_blocks(raw: list[str], code: list[str]) -> list[_Block]:
    found = ((n, _GO_OPENER.match(line)) for n, line in enumerate(code))
    return [_Block(m.group(1), True, [], n) for n, m in found if m]


def _rust_blocks(raw: list[str], code: list[str]) -> list[_Block]:
    blocks: list[_Block] = []
    attrs: list[str] | None = None
    for number, line in enumerate(code):
        if _RUST_TEST_ATTR.match(line):
            attrs = attrs or []
        elif attrs is not None and _RUST_IGNORE.match(line):
            attrs.append(f"skip:{clip(raw[number], 100)}")
        elif attrs is not None and (fn := _RUST_FN.match(line)):
            blocks.append(_Block(fn.group(1), True, attrs, number))
            attrs = None
    return blocks


def _block_end(code: list[str], start: int) -> int:
    """The line where the braces opened from start close again (start itself when none opens)."""
    depth, opened = 0, False
    for number in range(start, len(code)):
        for char in code[number]:
            if char in "{(":
                depth, opened = depth + 1, True
            elif char in "})":
                depth -= 1
        if opened and depth <= 0:
            return number
    return len(code) - 1 if opened else start


def _blank(lines: list[str], quotes: str) -> list[str]:
    """Lines with comments and string contents turned to spaces (quotes kept, columns unchanged)."""
    out: list[str] = []
    in_block = False
    for line in lines:
        chars = list(line)
        i, quote = 0, ""
        while i < len(chars):
            pair = line[i : i + 2]
            if in_block:
                in_block = pair != "*/"
                chars[i] = " "
                if not in_block:
                    chars[i + 1] = " "
                    i += 1
            elif quote:
                if line[i] == "\\" and i + 1 < len(chars):
                    chars[i] = chars[i + 1] = " "
                    i += 1
                elif line[i] == quote:
                    quote = ""
                else:
                    chars[i] = " "
            elif pair == "//":
                if not _GO_BUILD.match(line):
                    chars[i:] = " " * (len(chars) - i)
                break
            elif pair == "/*":
                in_block = True
                chars[i] = " "
            elif line[i] in quotes:
                quote = line[i]
            i += 1
        out.append("".join(chars))
    return out
