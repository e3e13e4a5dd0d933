from __future__ import annotations

import sys

if __name__ == "__main__":
    if sys.argv[1:] == ["hook", "stop"]:
        # The Stop hook runs on every turn of every Codex session: skip the CLI's imports entirely.
        from codex_self_iter.session.hook import run_stop_hook

        sys.exit(run_stop_hook())
    from codex_self_iter.cli import main

    sys.exit(main())
