#!/usr/bin/env bash
# The GitHub Action's run step (action.yml), runnable locally: run the loop on a new branch of a repository, commit
# what it did, and leave the state dir (artifact/) and a pull request body (pr-body.md) in the output dir.
#
# Inputs come from the environment (all optional except a task from INPUT_TASK, INPUT_TASK_FILE or the repo):
#   INPUT_WORKING_DIRECTORY  the repository (default .)       INPUT_BRANCH       the new branch (default: derived)
#   INPUT_TASK               the task text, written to TASK.md INPUT_TASK_FILE    the task file (default TASK.md)
#   INPUT_PLAN_FILE          the plan (default plan.md; written from the task when missing)
#   INPUT_CHECKS             check commands, one per line      INPUT_CONFIG       a config file (default: the repo's)
#   INPUT_MAX_ITERATIONS, INPUT_MAX_TOTAL_TOKENS, INPUT_MAX_WALL_CLOCK_SEC, INPUT_MODEL, INPUT_AGENT_COMMAND_TEMPLATE
#   CODEX_SELF_ITER_API_KEY  the API key: handed to `codex login --with-api-key` on stdin, then dropped; the loop
#                            and the agent never see it
#   CODEX_SELF_ITER_ACTION_OUT  output dir (default $RUNNER_TEMP/codex-self-iter or a new temp dir)
#   CODEX_SELF_ITER_PYTHON   the python with codex-self-iter installed (default python3)
#   CODEX_SELF_ITER_ACTION_DEFER_EXIT=1  exit 0 after a loop that ran (the action fails in a later step)
# Outputs (also appended to $GITHUB_OUTPUT): exit-code, stop-reason, branch, base, commits, artifact-dir,
# artifact-name, pr-body, pr-title. Exit: the loop's exit code; 1 when the run could not be set up.
set -euo pipefail
set +x # never trace: the key passes through this shell

key="${CODEX_SELF_ITER_API_KEY:-}"
unset CODEX_SELF_ITER_API_KEY CODEX_API_KEY OPENAI_API_KEY

fail() {
  echo "codex-self-iter action: error: $*" >&2
  exit 1
}

python="${CODEX_SELF_ITER_PYTHON:-python3}"
out="${CODEX_SELF_ITER_ACTION_OUT:-}"
if [ -z "$out" ]; then
  if [ -n "${RUNNER_TEMP:-}" ]; then out="$RUNNER_TEMP/codex-self-iter"; else out="$(mktemp -d)"; fi
fi
mkdir -p "$out"
out="$(cd "$out" && pwd)"

cd "${INPUT_WORKING_DIRECTORY:-.}" || fail "${INPUT_WORKING_DIRECTORY:-.}: no such directory (input working-directory)"
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || fail "$(pwd): not a git repository; check out the repository first"
workspace="$(git rev-parse --show-toplevel)"
cd "$workspace"
case "$out" in "$workspace" | "$workspace"/*) fail "$out: the output dir must lie outside the repository" ;; esac
if [ -n "$(git status --porcelain)" ]; then
  fail "$workspace has uncommitted changes; the loop starts from a clean checkout (commit or stash them)"
fi
if [ -z "$(git config user.email || true)" ]; then
  export GIT_AUTHOR_NAME="${GIT_AUTHOR_NAME:-codex-self-iter}" GIT_COMMITTER_NAME="${GIT_COMMITTER_NAME:-codex-self-iter}"
  export GIT_AUTHOR_EMAIL="${GIT_AUTHOR_EMAIL:-codex-self-iter@users.noreply.github.com}"
  export GIT_COMMITTER_EMAIL="${GIT_COMMITTER_EMAIL:-codex-self-iter@users.noreply.github.com}"
fi

task_file="${INPUT_TASK_FILE:-TASK.md}"
plan_file="${INPUT_PLAN_FILE:-plan.md}"
if [ -n "${INPUT_TASK:-}" ]; then
  mkdir -p "$(dirname "$task_file")"
  printf '%s\n' "$INPUT_TASK" >"$task_file"
fi
[ -f "$task_file" ] || fail "$task_file: no task; pass the task input (text) or a task-file that exists in the repository"
if [ ! -f "$plan_file" ]; then
  mkdir -p "$(dirname "$plan_file")"
  { echo "# Plan"; echo; sed -n '/[^[:space:]]/{s/^#* *//;s/^/- [ ] /;p;q;}' "$task_file"; } >"$plan_file"
fi

slug="$(head -c 200 "$task_file" | tr '[:upper:]' '[:lower:]' | tr -cs 'a-z0-9' '-' | sed 's/^-*//' | cut -c1-32 | sed 's/-*$//')"
stamp="${GITHUB_RUN_ID:-$(date -u +%Y%m%d-%H%M%S)}${GITHUB_RUN_ATTEMPT:+-$GITHUB_RUN_ATTEMPT}"
branch="${INPUT_BRANCH:-codex-self-iter/${slug:-task}-$stamp}"
git check-ref-format --branch "$branch" >/dev/null 2>&1 || fail "$branch: not a valid branch name (input branch)"
if git rev-parse --verify --quiet "refs/heads/$branch" >/dev/null; then
  fail "$branch: the branch exists already; pass another branch input"
fi
base="$(git rev-parse --abbrev-ref HEAD)"
[ "$base" != "HEAD" ] || base="$(git rev-parse HEAD)"
git switch --quiet -c "$branch"
git add -- "$task_file" "$plan_file"
if ! git diff --cached --quiet; then
  git commit --quiet -m "codex-self-iter: the task of this run" -- "$task_file" "$plan_file"
fi

config="$out/config.toml"
base_config="${INPUT_CONFIG:-codex-self-iter.toml}"
"$python" -m codex_self_iter.fleet.action config --out "$config" --base "$base_config" \
  --checks "${INPUT_CHECKS:-}" --max-iterations "${INPUT_MAX_ITERATIONS:-}" \
  --max-total-tokens "${INPUT_MAX_TOTAL_TOKENS:-}" --max-wall-clock-sec "${INPUT_MAX_WALL_CLOCK_SEC:-}" \
  --model "${INPUT_MODEL:-}" --agent-command-template "${INPUT_AGENT_COMMAND_TEMPLATE:-}" || exit 1

if [ -n "$key" ]; then
  export CODEX_HOME="${CODEX_HOME:-${RUNNER_TEMP:-$out}/codex-home}"
  case "$CODEX_HOME" in "$workspace" | "$workspace"/*) fail "CODEX_HOME must lie outside the repository" ;; esac
  mkdir -p "$CODEX_HOME"
  # printf is a shell builtin: the key goes through a pipe, never through an argument list or a file we write.
  printf '%s' "$key" | "${CODEX_BIN:-codex}" login --with-api-key >/dev/null || fail "codex login --with-api-key failed"
fi
key=""

state_dir="$workspace/.codex-self-iter"
set +e
"$python" -m codex_self_iter run --workspace "$workspace" --config "$config" \
  --task-file "$task_file" --plan-file "$plan_file" 2>&1 | tee "$out/loop.log"
code="${PIPESTATUS[0]}"
set -e

stop_reason="$("$python" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("stop_reason") or "")' \
  "$state_dir/status.json" 2>/dev/null || true)"
git add -A
if ! git diff --cached --quiet; then
  git commit --quiet -m "codex-self-iter: ${stop_reason:-stopped} (exit $code)" \
    -m "The loop's work on: $(head -n 1 "$task_file" | sed 's/^#* *//' | cut -c1-200)"
fi
commits="$(git rev-list --count "$base..HEAD")"

rm -rf "$out/artifact"
mkdir -p "$out/artifact"
if [ -d "$state_dir" ]; then cp -R "$state_dir/." "$out/artifact/"; fi
cp "$out/loop.log" "$out/artifact/loop-output.log"
"$python" -m codex_self_iter.fleet.action pr-body --state-dir "$state_dir" --workspace "$workspace" \
  --base "$base" --branch "$branch" --task-file "$task_file" >"$out/pr-body.md"
title="codex-self-iter: $(head -n 1 "$task_file" | sed 's/^#* *//' | cut -c1-100)"
artifact_name="codex-self-iter-$(printf '%s' "$branch" | tr -c 'A-Za-z0-9_-' '-')"

outputs="$out/outputs.txt"
{
  echo "exit-code=$code"
  echo "stop-reason=$stop_reason"
  echo "branch=$branch"
  echo "base=$base"
  echo "commits=$commits"
  echo "artifact-dir=$out/artifact"
  echo "artifact-name=$artifact_name"
  echo "pr-body=$out/pr-body.md"
  echo "pr-title=$title"
} >"$outputs"
if [ -n "${GITHUB_OUTPUT:-}" ]; then cat "$outputs" >>"$GITHUB_OUTPUT"; fi
echo "codex-self-iter action: loop exit $code (${stop_reason:-no stop reason}); branch $branch, $commits commit(s) over $base"
echo "codex-self-iter action: artifact $out/artifact · pull request body $out/pr-body.md"
if [ "${CODEX_SELF_ITER_ACTION_DEFER_EXIT:-}" = "1" ]; then exit 0; fi
exit "$code"
