"""The parsers of `session`, `hook` and `install-hooks` (argparse only: building them imports nothing heavy)."""

from __future__ import annotations

from typing import Any

Lazy = Any


def register_session(sub: Any, lazy: Lazy) -> None:
    """Add `session start|status|cancel|history`, `hook stop` and `install-hooks`."""
    session = sub.add_parser(
        "session",
        help="in-session mode: a Stop hook keeps your Codex session working until the checks pass",
        description="In-session mode: `session start` records a contract; the Stop hook (see install-hooks) keeps "
        "the bound Codex session working until the checks pass, within caps.",
        epilog="exit codes: 0 done · 1 bad input, or no contract here",
    )
    session.set_defaults(handler=lazy("codex_self_iter.commands.session", "cmd_session"), session_command=None)
    inner = session.add_subparsers(dest="session_command", metavar="SUBCOMMAND")
    start = inner.add_parser("start", help="record a contract: objective, checks, baseline, caps")
    start.add_argument("--objective", required=True, help="what must be true when the session may stop")
    start.add_argument("--max-iterations", type=int, default=10, help="continuations before release (default 10)")
    start.add_argument("--completion-promise", help="the claim tag word (default: completion_promise, DONE)")
    start.add_argument("--check", action="append", metavar="CMD", help="a check command (repeatable; default: detect)")
    status = inner.add_parser("status", help="the contract, its counters and the last check results")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    cancel = inner.add_parser("cancel", help="end the contract; the bound session is released at its next stop")
    cancel.add_argument("--reason", help="why (shown to the session and recorded)")
    history = inner.add_parser("history", help="the hook's decisions and the session commands, newest last")
    history.add_argument("--json", action="store_true", help="print the raw journal records as JSON lines")
    history.add_argument("--limit", "-n", type=int, default=20, help="rows to show (default 20; 0 = all)")
    for parser in (start, status, cancel, history):
        parser.add_argument("--workspace", "-w", default=".", help="workspace directory (default: .)")

    hook = sub.add_parser(
        "hook",
        help="hook commands Codex runs (installed by install-hooks or the plugin)",
        description="`hook stop` is the Stop hook: it reads the event JSON on stdin and answers on stdout.",
        epilog="exit codes: always 0 (a failure allows the stop, with a message)",
    )
    hook.add_argument("event", choices=["stop"], help="the hook event")
    hook.set_defaults(handler=lazy("codex_self_iter.commands.hook", "cmd_hook"))

    install = sub.add_parser(
        "install-hooks",
        help="add the Stop hook to a hooks.json (user or repository), keeping every other hook",
        description="Merge the codex-self-iter Stop hook into $CODEX_HOME/hooks.json (or <repo>/.codex/hooks.json), "
        "idempotently; other hooks are kept byte for byte. --trust also records its trust hash in config.toml.",
        epilog="exit codes: 0 done · 1 bad input (unreadable hooks.json or config.toml)",
    )
    where = install.add_mutually_exclusive_group()
    where.add_argument("--codex-home", help="install into DIR/hooks.json (default: $CODEX_HOME or ~/.codex)")
    where.add_argument("--repo", help="install into DIR/.codex/hooks.json (project layer: needs a trusted project)")
    install.add_argument("--uninstall", action="store_true", help="remove the hook (and its trust entry)")
    install.add_argument("--trust", action="store_true", help="also write its trusted_hash into config.toml")
    install.set_defaults(handler=lazy("codex_self_iter.commands.install_hooks", "cmd_install_hooks"))
