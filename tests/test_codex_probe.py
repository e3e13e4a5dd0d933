"""Probing codex once per run: against scripted fake codex executables and against the real binary."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from codex_self_iter.agent.kinds import Role
from codex_self_iter.codex import TESTED_CODEX_VERSION
from codex_self_iter.codex.argv import BYPASS_FLAG, check_supported
from codex_self_iter.codex.probe import probe_codex
from codex_self_iter.codex.runner import CodexRunner
from codex_self_iter.codex.settings import CodexSettings
from codex_self_iter.errors import UserError

OLD_EXEC_HELP = """Run Codex non-interactively

Usage: codex exec [OPTIONS] [PROMPT]

Options:
  -c, --config <key=value>
          Override a configuration value
  -m, --model <MODEL>
          Model the agent should use
  -s, --sandbox <SANDBOX_MODE>
          [possible values: read-only, workspace-write, danger-full-access]
  -C, --cd <DIR>
          Tell the agent to use the specified directory as its working root
      --json
          Print events to stdout as JSONL
  -o, --output-last-message <FILE>
          Specifies file where the last message from the agent should be written
  -h, --help
          Print help
"""


def write_fake_codex(
    directory: Path, *, version: str, exec_help: str, resume_help: str | None, sleep: float = 0
) -> Path:
    """A fake codex that answers --version and the two --help probes, logging each argv."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "codex"
    answers = {"version": f"codex-cli {version}", "exec": exec_help, "resume": resume_help}
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys, time\n"
        f"answers = json.loads({json.dumps(json.dumps(answers))})\n"
        f"with open({str(directory / 'argv.log')!r}, 'a') as log:\n"
        "    log.write(json.dumps(sys.argv[1:]) + '\\n')\n"
        f"time.sleep({sleep})\n"
        "args = sys.argv[1:]\n"
        "if args == ['--version']:\n"
        "    print(answers['version'])\n"
        "elif args == ['exec', '--help']:\n"
        "    print(answers['exec'])\n"
        "elif args == ['exec', 'resume', '--help'] and answers['resume'] is not None:\n"
        "    print(answers['resume'])\n"
        "else:\n"
        "    print(\"error: unrecognized subcommand 'resume'\", file=sys.stderr)\n"
        "    sys.exit(2)\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script


def test_probe_reads_version_and_flags_and_closes_stdin(tmp_path: Path) -> None:
    codex = write_fake_codex(tmp_path, version="0.150.0", exec_help=OLD_EXEC_HELP, resume_help=None)
    probe = probe_codex(str(codex))
    assert probe.version == "0.150.0"
    assert not probe.is_tested_version
    assert {"-c", "--config", "-m", "-s", "-C", "--json", "-o", "--output-last-message"} <= probe.exec_flags
    assert not probe.has_resume
    assert probe.missing(["--json", "--output-schema"]) == ["--output-schema"]
    logged = [json.loads(line) for line in (tmp_path / "argv.log").read_text().splitlines()]
    assert logged == [["--version"], ["exec", "--help"], ["exec", "resume", "--help"]]


def test_an_old_codex_gets_a_clear_error_naming_the_flag_and_the_tested_version(tmp_path: Path) -> None:
    codex = write_fake_codex(tmp_path, version="0.150.0", exec_help=OLD_EXEC_HELP, resume_help=None)
    runner = CodexRunner(CodexSettings(binary=str(codex)))
    with pytest.raises(UserError) as caught:
        runner.prepare()
    message = str(caught.value)
    assert "--output-schema" in message and "0.150.0" in message and TESTED_CODEX_VERSION in message
    assert "\n" not in message


def test_resume_on_a_codex_without_exec_resume_is_refused_up_front(tmp_path: Path) -> None:
    help_with_schema = OLD_EXEC_HELP + "      --output-schema <FILE>\n          Path to a JSON Schema file\n"
    codex = write_fake_codex(tmp_path, version="0.150.0", exec_help=help_with_schema, resume_help=None)
    probe = probe_codex(str(codex))
    check_supported(CodexSettings(), probe)
    with pytest.raises(UserError, match=r"`codex exec resume`.*executor"):
        check_supported(CodexSettings(resume=[Role.EXECUTOR]), probe)


def test_a_hanging_codex_is_cut_off_and_killed(tmp_path: Path) -> None:
    codex = write_fake_codex(tmp_path, version="1.0.0", exec_help=OLD_EXEC_HELP, resume_help=None, sleep=60)
    started = time.monotonic()
    with pytest.raises(UserError, match="no answer within 1s"):
        probe_codex(str(codex), timeout_sec=1.0)
    assert time.monotonic() - started < 10


def test_a_broken_codex_is_a_user_error(tmp_path: Path) -> None:
    broken = tmp_path / "codex"
    broken.write_text("#!/bin/sh\necho 'Error: cannot find native binary' >&2\nexit 1\n", encoding="utf-8")
    broken.chmod(0o755)
    with pytest.raises(UserError, match="--version` failed \\(exit 1\\): Error: cannot find native binary"):
        probe_codex(str(broken))


@pytest.mark.codex
def test_the_real_codex_has_every_flag_the_runner_uses(codex_bin: str) -> None:
    probe = probe_codex(codex_bin)
    assert probe.version == TESTED_CODEX_VERSION
    assert probe.is_tested_version
    needed = ["--json", "-C", "-s", "-o", "--output-schema", "-m", "-p", "-c", "--skip-git-repo-check", BYPASS_FLAG]
    assert probe.missing(needed) == []
    assert probe.has_resume
    assert probe.missing(["--json", "-o", "--output-schema", "-m", "-c", BYPASS_FLAG], resume=True) == []
    # codex-cli.md §2: resume takes neither -C nor -s, which is why the runner sets cwd and sandbox_mode instead.
    assert not probe.supports("-C", resume=True) and not probe.supports("-s", resume=True)
    assert not probe.supports("--full-auto") and not probe.supports("-a")
    everything = CodexSettings(
        model="gpt-5.5", profile="p", bypass=True, skip_git_repo_check=True, resume=[Role.EXECUTOR, Role.REVIEWER]
    )
    check_supported(everything, probe)


@pytest.mark.codex
def test_prepare_finds_codex_through_codex_bin_and_probes_once(
    codex_bin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEX_BIN", codex_bin)
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here") + os.pathsep + "/usr/bin:/bin")
    runner = CodexRunner()
    first = runner.prepare()
    assert runner.prepare() is first
    assert runner.status_fields()["codex_version"] == TESTED_CODEX_VERSION
    assert runner.status_fields()["sandbox"] == "workspace-write"
    assert runner.status_fields()["unsandboxed"] is False
