#!/usr/bin/env bash
# The GitHub Action's install step: the pinned codex CLI (npm) and this package (a virtualenv), both under
# $RUNNER_TEMP; exports CODEX_BIN and CODEX_SELF_ITER_PYTHON to the later steps through $GITHUB_ENV.
# Inputs: INPUT_CODEX_VERSION (default: TESTED_CODEX_VERSION of this package), INPUT_INSTALL_CODEX (default true).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
base="${RUNNER_TEMP:-$(mktemp -d)}"
version="${INPUT_CODEX_VERSION:-}"
if [ -z "$version" ]; then
  version="$(sed -n 's/^TESTED_CODEX_VERSION = "\(.*\)"$/\1/p' "$root/src/codex_self_iter/codex/__init__.py")"
fi
venv="$base/codex-self-iter-venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check "$root"
env_file="${GITHUB_ENV:-/dev/null}"
echo "CODEX_SELF_ITER_PYTHON=$venv/bin/python" >>"$env_file"
if [ "${INPUT_INSTALL_CODEX:-true}" = "true" ]; then
  prefix="$base/codex-$version"
  npm install --silent --no-audit --no-fund --prefix "$prefix" "@openai/codex@$version" >&2
  "$prefix/node_modules/.bin/codex" --version
  echo "CODEX_BIN=$prefix/node_modules/.bin/codex" >>"$env_file"
fi
"$venv/bin/python" -m codex_self_iter --version
