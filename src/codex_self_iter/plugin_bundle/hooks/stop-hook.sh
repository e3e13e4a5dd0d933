#!/bin/sh
# The codex-self-iter Stop hook, as the plugin ships it. It runs the Python package's `hook stop`:
# with $CODEX_SELF_ITER_PYTHON when set (an interpreter that has codex-self-iter installed), else
# `codex-self-iter` on PATH, else python3 when it can import the package. Without the package the
# stop is allowed silently: the hook never traps a session.
if [ -n "${CODEX_SELF_ITER_PYTHON:-}" ]; then
  exec "$CODEX_SELF_ITER_PYTHON" -m codex_self_iter hook stop
fi
if command -v codex-self-iter >/dev/null 2>&1; then
  exec codex-self-iter hook stop
fi
if command -v python3 >/dev/null 2>&1 && python3 -c "import codex_self_iter" >/dev/null 2>&1; then
  exec python3 -m codex_self_iter hook stop
fi
cat >/dev/null
exit 0
