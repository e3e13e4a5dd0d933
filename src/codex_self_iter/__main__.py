from __future__ import annotations

import sys

from codex_self_iter.cli import main

if __name__ == "__main__":
    sys.exit(main())
