#!/usr/bin/env python3
"""A scripted stand-in for the agent: `fake_agent.py <prompt_file> <workspace> <role> [<script>] [--flags...]`.

The script (JSON, its path the 4th argument or FAKE_AGENT_SCRIPT) maps each role to a list of calls; each call is
a list of steps, played in order. Calls are consumed one per invocation of that role; the last call repeats when
they run out.
Every invocation is logged to <script>.calls.jsonl (role, argv, cwd, prompt) for assertions.

Steps: {"control": {...}} prints a ```json block; {"say": text}; {"stderr": text}; {"write": path, "content": s};
{"append": path, "content": s}; {"delete": path}; {"touch": path}; {"chmod": path, "mode": "755"};
{"sleep": s}; {"exit": n}; {"wait_for": {"path": p, "text": t, "count": n, "timeout": s}} waits until file p holds
text t n times (default 1), polling; past the timeout (default 60 s) it exits 97, so a test waits for a condition,
not for a guessed time;
{"spawn": {"sleep": s, "pidfile": path}} starts a child in the same process group; {"flood": megabytes};
{"garbage": n}; {"env": path} writes the agent's environment to path;
{"link": path, "to": target} plants a symbolic link (replacing what is there); {"rmtree": path}.
"{call}" in text is replaced by the role's call number (1-based).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path


def main() -> int:
    prompt_file, workspace, role = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    script_arg = sys.argv[4] if len(sys.argv) > 4 and not sys.argv[4].startswith("-") else None
    script_path = Path(script_arg or os.environ["FAKE_AGENT_SCRIPT"])
    script = json.loads(script_path.read_text(encoding="utf-8"))
    counter_path = script_path.with_name(script_path.name + f".{role}.count")
    number = int(counter_path.read_text()) + 1 if counter_path.exists() else 1
    counter_path.write_text(str(number))
    prompt = Path(prompt_file).read_text(encoding="utf-8")
    with open(script_path.with_name(script_path.name + ".calls.jsonl"), "a", encoding="utf-8") as log:
        record = {"role": role, "call": number, "argv": sys.argv, "cwd": os.getcwd(), "prompt": prompt}
        log.write(json.dumps(record) + "\n")
    calls = script.get(role) or [[{"say": f"(no script for {role})"}]]
    steps = calls[min(number, len(calls)) - 1]
    for step in steps:
        code = play(step, workspace, number)
        if code is not None:
            return code
    return 0


def play(step: dict, workspace: Path, number: int) -> int | None:  # type: ignore[type-arg]
    def text(value: str) -> str:
        return value.replace("{call}", str(number))

    def path(value: str) -> Path:
        target = Path(text(value))
        return target if target.is_absolute() else workspace / target

    if "control" in step:
        print("Work report.\n\n```json\n" + text(json.dumps(step["control"])) + "\n```", flush=True)
    elif "say" in step:
        print(text(step["say"]), flush=True)
    elif "stderr" in step:
        print(text(step["stderr"]), file=sys.stderr, flush=True)
    elif "write" in step:
        target = path(step["write"])
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text(step.get("content", "")), encoding="utf-8")
    elif "append" in step:
        with open(path(step["append"]), "a", encoding="utf-8") as handle:
            handle.write(text(step.get("content", "")))
    elif "delete" in step:
        path(step["delete"]).unlink(missing_ok=True)
    elif "chmod" in step:
        path(step["chmod"]).chmod(int(str(step.get("mode", "755")), 8))
    elif "touch" in step:
        target = path(step["touch"])
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch()
    elif "sleep" in step:
        time.sleep(float(step["sleep"]))
    elif "wait_for" in step:
        return wait_for(path(step["wait_for"]["path"]), step["wait_for"])
    elif "exit" in step:
        return int(step["exit"])
    elif "spawn" in step:
        spec = step["spawn"]
        child = subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({float(spec['sleep'])})"])
        path(spec["pidfile"]).write_text(str(child.pid))
    elif "flood" in step:
        chunk = ("x" * 1023 + "\n") * 1024
        for _ in range(int(step["flood"])):
            sys.stdout.write(chunk)
        sys.stdout.flush()
    elif "env" in step:
        path(step["env"]).write_text("".join(f"{k}={v}\n" for k, v in sorted(os.environ.items())))
    elif "link" in step:
        target = path(step["link"])
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
        target.symlink_to(text(step["to"]))
    elif "rmtree" in step:
        shutil.rmtree(path(step["rmtree"]), ignore_errors=True)
    elif "garbage" in step:
        sys.stdout.write("{not json ]] \x01\x02 " * int(step["garbage"]))
        sys.stdout.flush()
    return None


def wait_for(target: Path, spec: dict) -> int | None:  # type: ignore[type-arg]
    """None once target holds spec["text"] spec["count"] times; 97 when the timeout passes first."""
    deadline = time.monotonic() + float(spec.get("timeout", 60))
    while time.monotonic() < deadline:
        try:
            if target.read_text(encoding="utf-8", errors="replace").count(spec["text"]) >= int(spec.get("count", 1)):
                return None
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    print(f"fake agent: {target} did not show {spec['text']!r} in time", file=sys.stderr, flush=True)
    return 97


if __name__ == "__main__":
    sys.exit(main())
