#!/usr/bin/env bash
# Set up a virtualenv and run a whole loop on the bundled example with the scripted demo agent
# (no Codex, no credentials): plan -> work -> checks reject a false claim -> fix -> review -> verified stop.
# Usage: scripts/quickstart.sh [WORKDIR]   (default: a new temporary directory)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
venv="${CODEX_SELF_ITER_VENV:-$root/.venv}"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -e "$root"
work="${1:-$(mktemp -d)/quickstart}"
mkdir -p "$work"
cp -R "$root/examples/quickstart/." "$work/"
git -C "$work" init -q
git -C "$work" add -A
git -C "$work" -c user.name=quickstart -c user.email=quickstart@example.invalid commit -q -m "quickstart example"
echo "workspace: $work" >&2
code=0
"$venv/bin/python" -m codex_self_iter run --workspace "$work" --config "$root/examples/demo/codex-self-iter.toml" || code=$?
cat >&2 <<EOF

Try it on your own repository (Codex installed and logged in; README.md "Install" puts the command on PATH):
  source "$venv/bin/activate"
  cd /path/to/your/repo && codex-self-iter init --goal "what should be true when the work is done"
  codex-self-iter doctor && codex-self-iter run
EOF
exit "$code"
