#!/usr/bin/env python3
"""A scripted demo agent for the quickstart: plays planner, executor and reviewer without any model.

The executor is deliberately overconfident once: it claims completion with a naive slugify that fails the
tests, so you can watch the loop's own checks reject the claim before the real fix is approved.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

NAIVE = '''"""URL slugs."""


def slugify(text: str) -> str:
    """Turn text into a URL slug."""
    return text.strip().lower().replace(" ", "-")
'''

CORRECT = '''"""URL slugs."""

import re


def slugify(text: str) -> str:
    """Turn text into a URL slug."""
    return "-".join(re.findall(r"[a-z0-9]+", text.lower()))
'''


def block(data: dict[str, object]) -> None:
    print("```json\n" + json.dumps(data, indent=1) + "\n```")


def planner(workspace: Path) -> None:
    print("Plan: one module, one function; the unit tests define done.")
    block(
        {"next_goal": "Implement slugify() in slug.py so that test_slug.py passes", "summary": "implement, then test"}
    )


def executor(workspace: Path) -> None:
    slug = workspace / "slug.py"
    current = slug.read_text(encoding="utf-8")
    if "NotImplementedError" in current:
        slug.write_text(NAIVE, encoding="utf-8")
        print("Implemented slugify() with lower() and replace(). Looks right to me.")
        block({"status": "complete", "summary": "implemented slugify", "next_goal": "", "evidence": ["looks right"]})
        return
    slug.write_text(CORRECT, encoding="utf-8")
    plan = workspace / "plan.md"
    if plan.exists():
        plan.write_text(plan.read_text(encoding="utf-8").replace("- [ ]", "- [x]"), encoding="utf-8")
    tests = run_tests(workspace)
    print(f"Rewrote slugify() with a regex over [a-z0-9]+. Tests: {tests}")
    block(
        {
            "status": "complete",
            "summary": "slugify handles punctuation and edges",
            "next_goal": "",
            "evidence": [f"unittest: {tests}"],
        }
    )


def reviewer(workspace: Path) -> None:
    tests = run_tests(workspace)
    if tests == "OK":
        block({"verdict": "approve", "reasons": ["all three tests pass", "no test was changed"], "next_goal": ""})
    else:
        block({"verdict": "reject", "reasons": [f"tests: {tests}"], "next_goal": "make test_slug.py pass"})


def run_tests(workspace: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "unittest", "-q"], cwd=workspace, capture_output=True, text=True)
    return "OK" if done.returncode == 0 else "FAILED"


def main() -> int:
    workspace, role = Path(sys.argv[2]), sys.argv[3]
    {"planner": planner, "executor": executor, "reviewer": reviewer}[role](workspace)
    return 0


if __name__ == "__main__":
    sys.exit(main())
