#!/usr/bin/env bash
# invoke-codex-agent.sh PROMPT_FILE WORKSPACE
#
# The agent command for codex-self-iter's command templates:
#   agent_command_template = "scripts/invoke-codex-agent.sh {prompt_file} {workspace}"
# Runs `codex exec -s workspace-write -C WORKSPACE -o TMP -` with the prompt on stdin, prints only the
# agent's final message on stdout (codex's progress goes to stderr) and exits with codex's exit code.
# Works from any cwd; relative PROMPT_FILE / WORKSPACE are taken relative to the caller's cwd.
#
# Environment (all optional):
#   CODEX_BIN                      the codex executable (service managers often lack node dirs on PATH);
#                                  otherwise PATH, then ~/.npm-global/bin, ~/.nvm/versions/node/*/bin,
#                                  ~/.volta/bin, ~/.local/bin, /opt/homebrew/bin, /usr/local/bin
#   CODEX_SELF_ITER_AGENT_MODE     "bypass" = --dangerously-bypass-approvals-and-sandbox (no sandbox, no
#                                  approvals; only inside an external sandbox). Anything else: sandboxed.
#   CODEX_SELF_ITER_SANDBOX        read-only | workspace-write (default) | danger-full-access
#   CODEX_SELF_ITER_MODEL          model passed as -m
#   CODEX_SELF_ITER_SKIP_GIT_REPO_CHECK=1   pass --skip-git-repo-check (workspace is not a git repo)
# Never passes -a/--ask-for-approval or --full-auto: `codex exec` rejects both.
set -euo pipefail

me="invoke-codex-agent.sh"
if [ "$#" -ne 2 ]; then
  echo "usage: $me PROMPT_FILE WORKSPACE" >&2
  exit 64
fi
prompt_file="$1"
workspace="$2"
if [ ! -r "$prompt_file" ]; then
  echo "$me: cannot read prompt file: $prompt_file" >&2
  exit 66
fi
if [ ! -d "$workspace" ]; then
  echo "$me: workspace is not a directory: $workspace" >&2
  exit 66
fi

common_dirs() {
  printf '%s\n' "$HOME/.npm-global/bin"
  ls -1d "$HOME"/.nvm/versions/node/*/bin 2>/dev/null | sort -rV || true # newest node first
  printf '%s\n' "$HOME/.volta/bin" "$HOME/.local/bin" /opt/homebrew/bin /usr/local/bin
}

find_codex() {
  if [ -n "${CODEX_BIN:-}" ]; then
    printf '%s\n' "$CODEX_BIN"
    return 0
  fi
  if command -v codex >/dev/null 2>&1; then
    command -v codex
    return 0
  fi
  local dir
  while IFS= read -r dir; do
    if [ -x "$dir/codex" ]; then
      printf '%s\n' "$dir/codex"
      return 0
    fi
  done < <(common_dirs)
  return 1
}

if ! codex="$(find_codex)"; then
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  pin="$(sed -n 's/^TESTED_CODEX_VERSION = "\(.*\)"$/\1/p' "$root/src/codex_self_iter/codex/__init__.py" 2>/dev/null || true)"
  echo "$me: codex CLI not found; install it with \`npm install -g @openai/codex${pin:+@$pin}\` or set CODEX_BIN" >&2
  exit 127
fi

args=(exec -C "$workspace")
if [ "${CODEX_SELF_ITER_AGENT_MODE:-}" = "bypass" ]; then
  echo "$me: WARNING: bypass mode: codex runs with --dangerously-bypass-approvals-and-sandbox" \
    "(NO sandbox, NO approvals); use only inside an external sandbox" >&2
  args+=(--dangerously-bypass-approvals-and-sandbox)
else
  sandbox="${CODEX_SELF_ITER_SANDBOX:-workspace-write}"
  case "$sandbox" in
    read-only | workspace-write) ;;
    danger-full-access) echo "$me: WARNING: sandbox danger-full-access: codex commands run unsandboxed" >&2 ;;
    *)
      echo "$me: CODEX_SELF_ITER_SANDBOX must be read-only, workspace-write or danger-full-access (got: $sandbox)" >&2
      exit 64
      ;;
  esac
  args+=(-s "$sandbox")
fi
if [ -n "${CODEX_SELF_ITER_MODEL:-}" ]; then
  args+=(-m "$CODEX_SELF_ITER_MODEL")
fi
if [ "${CODEX_SELF_ITER_SKIP_GIT_REPO_CHECK:-}" = "1" ]; then
  args+=(--skip-git-repo-check)
fi

last_message="$(mktemp "${TMPDIR:-/tmp}/codex-last-message.XXXXXX")"
trap 'rm -f "$last_message"' EXIT
trap 'exit 143' TERM # so the EXIT trap still cleans up when the loop ends the process group
trap 'exit 130' INT
args+=(-o "$last_message" -)

# codex's own stdout (its copy of the final message) goes to stderr so that ours carries the message exactly once.
set +e
"$codex" "${args[@]}" <"$prompt_file" >&2
status=$?
set -e
if [ -s "$last_message" ]; then
  cat "$last_message"
  echo
fi
exit "$status"
