#!/usr/bin/env bash
# Run the loop on a workspace (for shells, cron, launchd).
# Usage: scripts/run-local.sh WORKSPACE [TASK_FILE] [PLAN_FILE] [STATE_DIR] [CONFIG] [-- extra run flags]
# Uses this checkout's .venv when present (CODEX_SELF_ITER_PYTHON overrides), else python3 with the package installed.
# The exit code is the loop's: 0 complete, 1 bad input, 2 gate/budget, 3 agent, 4 locked, 5 stopped, 130 interrupted.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  sed -n '2,5p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 1
fi
python="${CODEX_SELF_ITER_PYTHON:-}"
if [ -z "$python" ]; then
  if [ -x "$root/.venv/bin/python" ]; then python="$root/.venv/bin/python"; else python="python3"; fi
fi
args=(run --workspace "$1")
shift
positional=(--task-file --plan-file --state-dir --config)
for flag in "${positional[@]}"; do
  if [ $# -eq 0 ] || [ "$1" = "--" ]; then break; fi
  if [ -n "$1" ]; then args+=("$flag" "$1"); fi
  shift
done
if [ $# -gt 0 ] && [ "$1" = "--" ]; then shift; fi
exec "$python" -m codex_self_iter "${args[@]}" "$@"
