#!/usr/bin/env bash
# What a run of .github/workflows/deploy.yaml does, from what the push changed. Prints
# `build=true|false` and `promote=staging|prod|` (GITHUB_OUTPUT lines).
#   build=true   the service changed (anything outside overlays/, docs/, flux/, argocd/ and
#                Markdown): test, build, scan, push, commit the digest to dev
#   promote=prod overlays/staging changed: a staging promotion was merged, propose prod
# Reads EVENT (push or workflow_dispatch), BEFORE and AFTER (commits), PROMOTE (the
# dispatch input). A manual run without a promotion rebuilds.
# {% raw %}
set -euo pipefail
build=false promote=""
case "${EVENT:?EVENT is not set}" in
  workflow_dispatch)
    case "${PROMOTE:-none}" in
      none) build=true ;;
      staging | prod) promote="$PROMOTE" ;;
      *) echo "plan-delivery: unknown promotion '$PROMOTE'" >&2; exit 2 ;;
    esac ;;
  push)
    if [[ ! "${BEFORE:-}" =~ ^[0-9a-f]{40}$ || "$BEFORE" =~ ^0+$ ]] || ! changed="$(git diff --name-only "$BEFORE" "${AFTER:?}")"; then
      build=true   # a new branch, or history the runner cannot compare: build to be safe
    else
      grep -qvE '^(overlays/|docs/|flux/|argocd/|[^/]*\.md$|mkdocs\.yml$)' <<<"$changed" && build=true
      grep -q '^overlays/staging/' <<<"$changed" && promote=prod
    fi ;;
  *) echo "plan-delivery: unexpected event '$EVENT'" >&2; exit 2 ;;
esac
echo "build=$build"
echo "promote=$promote"
# {% endraw %}
