#!/usr/bin/env bash
# The GitHub Action's pull request step: push the loop's branch and open a pull request whose body is the loop's
# summary (made by scripts/action-run.sh). Needs GH_TOKEN with contents and pull-requests write permission.
# Inputs: INPUT_WORKING_DIRECTORY, BRANCH, BASE, PR_TITLE, PR_BODY_FILE, INPUT_DRAFT (true/false).
set -euo pipefail
cd "${INPUT_WORKING_DIRECTORY:-.}"
git push --quiet origin "refs/heads/$BRANCH:refs/heads/$BRANCH"
draft=()
if [ "${INPUT_DRAFT:-false}" = "true" ]; then draft=(--draft); fi
gh pr create --base "$BASE" --head "$BRANCH" --title "$PR_TITLE" --body-file "$PR_BODY_FILE" "${draft[@]}"
