"""The command line: `codex-self-iter [run] …` and the operating commands; main(argv) -> exit code."""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from codex_self_iter import __version__
from codex_self_iter.errors import OutputClosed, UserError
from codex_self_iter.outcome import EXIT_BAD_INPUT, EXIT_BUG, EXIT_INTERRUPTED, EXIT_OK, exit_codes_text

Handler = Callable[[argparse.Namespace], int]
COMMANDS = (
    "run", "init", "status", "stop", "doctor", "history", "logs", "install-plugin", "fleet",
    "session", "hook", "install-hooks", "diff", "rollback", "merge", "cleanup",
)  # fmt: skip


def add_loop_options(parser: argparse.ArgumentParser) -> None:
    """The original tool's flags, shared by run and the commands that look at a loop."""
    parser.add_argument(
        "--workspace",
        "-w",
        help="workspace directory (default: the nearest directory from here upwards with a loop's state dir or "
        "config, as git finds its repository; else .)",
    )
    parser.add_argument("--task-file", help="objective file, relative to the workspace (default: TASK.md)")
    parser.add_argument("--plan-file", help="plan file, relative to the workspace (default: plan.md)")
    parser.add_argument("--state-dir", help="state dir, relative to the workspace (default: .codex-self-iter)")
    parser.add_argument("--config", help="TOML config (default: <workspace>/codex-self-iter.toml if present)")
    parser.add_argument("--run", metavar="NAME", help="a worktree run by id or branch (default: the newest)")


def _run_parser(parser: argparse.ArgumentParser) -> None:
    add_loop_options(parser)
    parser.add_argument(
        "--agent-command-template",
        help="agent command, e.g. 'scripts/invoke-codex-agent.sh {prompt_file} {workspace}' (default: built-in codex)",
    )
    parser.add_argument("--max-iterations", type=int, help="iteration budget (0 = unbounded)")
    parser.add_argument("--quiet", "-q", action="store_true", default=None, help="print only the final summary")
    parser.add_argument("--clear-stop", action="store_true", help="remove a STOP sentinel left from before and run")
    parser.add_argument("--fresh", action="store_true", help="set aside runtime.json and start from fresh counters")
    parser.add_argument(
        "--accept-config", action="store_true", help="use a config file that changed while the previous run went on"
    )
    parser.add_argument("--dry-run", action="store_true", help="render the next prompts and argv; call nothing")
    parser.add_argument(
        "--continue-on-blocked",
        action="store_true",
        default=None,
        help="task queue: skip a blocked task and go on with the next (default: a blocked task stops the run)",
    )
    parser.add_argument("--detach", action="store_true", help="run in the background, logging to logs/loop.log")
    parser.add_argument(
        "--worktree", action="store_true", help="run on a new branch in a git worktree; your tree stays untouched"
    )
    parser.add_argument(
        "--include-uncommitted", action="store_true", help="with --worktree: carry uncommitted changes onto the branch"
    )
    parser.set_defaults(handler=_lazy("codex_self_iter.commands.run", "cmd_run"))


def _lazy(module: str, name: str) -> Handler:
    def handler(args: argparse.Namespace) -> int:
        import importlib

        function: Handler = getattr(importlib.import_module(module), name)
        return function(args)

    return handler


def build_parser() -> argparse.ArgumentParser:
    """The parser for every command."""
    parser = argparse.ArgumentParser(
        prog="codex-self-iter",
        description="Keep Codex working on a repository until the work is really done.",
        epilog=f"exit codes: {exit_codes_text()}",
    )
    parser.add_argument("--version", action="version", version=f"codex-self-iter {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _run_parser(sub.add_parser("run", help="run the loop (also the default when no command is given)"))
    from codex_self_iter.commands import register

    register(sub, add_loop_options, _lazy)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse argv, run the command, map user errors to one line and an exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    given = sys.argv[:1] + args_list  # as typed: _dispatch may put "run" in front
    if args_list == ["hook", "stop"]:  # on every Codex turn: no parser, no heavy imports
        from codex_self_iter.session.hook import run_stop_hook

        return run_stop_hook()
    try:
        code = _dispatch(args_list)
    except OutputClosed as exc:  # the command finished; only its last lines had no reader
        code = exc.exit_code
    except BrokenPipeError:  # the reader stopped early (`| head -1`), as wanted: not a failure
        code = EXIT_OK
    except UserError as exc:
        _say(f"codex-self-iter: error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        _say("codex-self-iter: interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: one line naming the crash report, never a bare traceback
        from codex_self_iter.state.crash_report import crash_line, write_crash_report

        _say(crash_line(exc, write_crash_report(exc, given, _state_dir_of(args_list))))
        return EXIT_BUG
    try:
        sys.stdout.flush()  # a reader that went away shows here, not as a traceback at interpreter exit
    except BrokenPipeError:
        _discard_stdout()
    return code


def _dispatch(args_list: list[str]) -> int:
    if args_list and not args_list[0].startswith("-") and args_list[0] not in COMMANDS:
        raise UserError(unknown_command(args_list[0]))
    if not args_list or args_list[0] not in (*COMMANDS, "-h", "--help", "--version"):
        args_list.insert(0, "run")
    try:
        args = build_parser().parse_args(args_list)
    except SystemExit as exc:  # --help / --version exit 0; a usage error is bad input (1), not a gate's 2
        return EXIT_OK if exc.code in (0, None) else EXIT_BAD_INPUT
    args.argv = args_list  # `run --detach` starts the same command line again
    code: int = args.handler(args)
    return code


def _state_dir_of(args_list: list[str]) -> Path | None:
    """The state dir the command line names, for a crash report; None when even that cannot be worked out."""
    try:
        args = build_parser().parse_args(
            args_list if args_list[:1] and args_list[0] in COMMANDS else ["run", *args_list]
        )
        if not hasattr(args, "workspace"):
            return None
        from codex_self_iter.commands.target import locate

        with contextlib.redirect_stderr(io.StringIO()):  # its warnings would be more lines than the one we print
            return locate(args).state_dir
    except (Exception, SystemExit):
        return None


def unknown_command(word: str) -> str:
    """The error for a first word that is no command, with the nearest command when one is close."""
    close = difflib.get_close_matches(word, COMMANDS, n=1, cutoff=0.6)
    hint = f"did you mean `codex-self-iter {close[0]}`?" if close else "commands: " + ", ".join(COMMANDS)
    return f"{word!r} is not a command; {hint} (`codex-self-iter --help` lists them)"


def _discard_stdout() -> None:
    """The reader of stdout is gone (`| head -1`): send what is left to /dev/null, as `git log | head` ends quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor behind sys.stdout: nothing will flush to it
        pass


def _say(line: str) -> None:
    with contextlib.suppress(OSError):  # stderr may be gone too; the exit code still says what happened
        print(line, file=sys.stderr)
