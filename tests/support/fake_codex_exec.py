"""A scripted stand-in for `codex exec`, for loop tests that need the built-in runner but not a model."""

from __future__ import annotations

import sys
from pathlib import Path

# A stand-in for `codex` good enough for the built-in runner: answers the probe (--version, exec --help), and for
# `exec` reads the prompt from stdin, logs its argv and the names of the secret variables it was given, then plays
# a turn: JSON events on stdout, the control block in the -o file. FAKE_CODEX_FLOOD=<MB> prints that much junk
# event output first.
FAKE_CODEX = r'''
import json, os, sys
from pathlib import Path

HELP = """Usage: codex exec [OPTIONS] [PROMPT]
Options:
  -c, --config <key=value>
  -m, --model <MODEL>
  -p, --profile <CONFIG_PROFILE>
  -s, --sandbox <SANDBOX_MODE>
      --dangerously-bypass-approvals-and-sandbox
  -C, --cd <DIR>
      --skip-git-repo-check
      --output-schema <FILE>
      --json
  -o, --output-last-message <FILE>
  -h, --help
"""
args = sys.argv[1:]
if args == ["--version"]:
    print("codex-cli 0.169.0")
    sys.exit(0)
if "--help" in args:
    print(HELP)
    sys.exit(0)
prompt = sys.stdin.read()
out = Path(args[args.index("-o") + 1])
workspace = Path(args[args.index("-C") + 1]) if "-C" in args else Path.cwd()
role = out.parent.name.split("-")[0]
secrets = sorted(k for k in os.environ if k in ("CODEX_API_KEY", "OPENAI_API_KEY"))
with open(os.environ["FAKE_CODEX_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps({"argv": sys.argv, "role": role, "secrets_seen": secrets, "pid": os.getpid()}) + "\n")
flood = int(os.environ.get("FAKE_CODEX_FLOOD", "0"))
line = json.dumps({"type": "error", "message": "x" * 200}) + "\n"
for _ in range(flood * 1_000_000 // len(line)):
    sys.stdout.write(line)
if role == "planner":
    block = {"next_goal": "write the file", "summary": "plan", "stop": False}
elif role == "reviewer":
    block = {"verdict": "approve", "reasons": ["ok"], "next_goal": "", "no_change_needed": False}
else:
    with open(workspace / "work.txt", "a", encoding="utf-8") as handle:
        handle.write("step\n")
    number = sum(1 for _ in open(workspace / "work.txt"))
    block = {"status": "continue", "summary": "wrote a line", "next_goal": f"write line {number + 1}", "evidence": []}
text = json.dumps(block)
out.write_text(text, encoding="utf-8")
for event in (
    {"type": "thread.started", "thread_id": "thread-1"},
    {"type": "turn.started"},
    {"type": "item.completed", "item": {"id": "m1", "type": "agent_message", "text": text}},
    {"type": "turn.completed", "usage": {"input_tokens": 100, "cached_input_tokens": 0, "output_tokens": 10,
                                         "reasoning_output_tokens": 0}},
):
    print(json.dumps(event), flush=True)
'''


def write_fake_codex(directory: Path) -> Path:
    """An executable fake `codex` in directory, run by this interpreter."""
    path = directory / "codex"
    path.write_text(f"#!{sys.executable}\n{FAKE_CODEX}")
    path.chmod(0o755)
    return path
