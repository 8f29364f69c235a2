#!/usr/bin/env bash
# Moves one build one environment further, through Git only (Flux applies the result):
#   scripts/promote.sh dev sha256:<digest>   dev runs this build: a commit to main
#   scripts/promote.sh staging               staging gets the digest dev runs: a pull request
#   scripts/promote.sh prod                  prod gets the digest staging runs: a pull request
# Every change is validated (scripts/validate-deployment.sh pre-merge with the digest)
# before it is committed; a failing validation stops here and nothing reaches Git. A
# staging or prod promotion also needs the environment before it to run that digest
# healthily (post-deploy checks) when kubectl reaches the cluster; where it does not (the
# workflow's runner), the pull request lists that check for the reviewer.
# PROMOTE_BY=commit commits a staging/prod promotion straight to main instead (what
# merging the pull request does; for a Git server without pull requests, e.g. the local loop).
# GH_TOKEN, when set, authenticates git push and `gh pr create` (the workflow's token).
# {% raw %}
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PROMOTE_BY="${PROMOTE_BY:-pull-request}"

die() { echo "promote: $*" >&2; exit "${2:-1}"; }

# git_remote ARGS...: git with the token as HTTP credentials when there is one (the
# checkout keeps none: persist-credentials is false).
git_remote() {
  if [[ -n "${GH_TOKEN:-}" ]]; then
    local basic
    basic="$(printf 'x-access-token:%s' "$GH_TOKEN" | base64 | tr -d '\n')"
    git -c "http.extraheader=AUTHORIZATION: basic $basic" "$@"
  else
    git "$@"
  fi
}

commit_as_bot() {
  git -c user.name="github-actions[bot]" -c user.email="41898282+github-actions[bot]@users.noreply.github.com" \
    commit -q -m "$1" -- "overlays/$2/kustomization.yaml"
}

target="${1:-}"
case "$target" in
  dev) digest="${2:-}"; [[ -n "$digest" ]] || die "usage: promote.sh dev sha256:<digest>" 2 ;;
  staging) source_env=dev ;;
  prod) source_env=staging ;;
  *) die "usage: promote.sh dev DIGEST | staging | prod" 2 ;;
esac
[[ "$PROMOTE_BY" == pull-request || "$PROMOTE_BY" == commit ]] || die "PROMOTE_BY is pull-request or commit, not '$PROMOTE_BY'" 2
[[ -n "${source_env:-}" ]] && digest="$(scripts/set-image-digest.sh --show "$source_env")"
if [[ "$(scripts/set-image-digest.sh --show "$target" 2>/dev/null || true)" == "$digest" ]]; then
  echo "promote: $target already runs $digest; nothing to do"
  exit 0
fi

# The build must be healthy where it runs now before it goes further.
if [[ -n "${source_env:-}" ]]; then
  if "${KUBECTL:-kubectl}" version --request-timeout=5s >/dev/null 2>&1; then
    VERIFY_TIMEOUT="${PROMOTE_HEALTH_TIMEOUT:-15}" scripts/validate-deployment.sh post-deploy "$source_env" --digest "$digest" \
      || die "$source_env does not run $digest healthily (checks above): not promoted to $target"
  else
    echo "promote: no cluster reachable: $source_env's health with $digest is left to the pull request's reviewer"
  fi
fi

scripts/set-image-digest.sh "$target" "$digest"
scripts/validate-deployment.sh pre-merge "$target" --digest "$digest" \
  || { git checkout -q -- "overlays/$target"; die "validation of $target with $digest failed: not promoted"; }

message="deploy($target): ${digest}${source_env:+ (from $source_env)}"
if [[ "$target" == dev || "$PROMOTE_BY" == commit ]]; then
  commit_as_bot "$message" "$target"
  # main may have moved meanwhile: replay the one-line change on top of it.
  for attempt in 1 2 3; do
    git_remote push origin HEAD:main && { echo "promote: $target runs $digest (pushed to main)"; exit 0; }
    echo "promote: push rejected (attempt $attempt), rebasing on main" >&2
    git_remote pull -q --rebase origin main
  done
  die "could not push to main"
fi

branch="promote/$target-${digest#sha256:}"
branch="${branch:0:40}"
if git ls-remote --exit-code --heads origin "$branch" >/dev/null 2>&1; then
  echo "promote: $branch already exists: its pull request carries $digest"
  exit 0
fi
git checkout -q -b "$branch"
commit_as_bot "$message" "$target"
git_remote push origin "$branch"
gh pr create --base main --head "$branch" --title "Promote $digest to $target" --body "$(cat <<BODY
Promotes the build **$digest** from **$source_env** to **$target**: one line in
\`overlays/$target/kustomization.yaml\`. Merging it is the deployment; Flux applies it.

- \`scripts/validate-deployment.sh pre-merge $target --digest $digest\` passed before this
  pull request was opened (render, schema, policy, namespace, replicas, image).
- Before merging, check that $source_env is healthy with this digest:
  \`scripts/validate-deployment.sh post-deploy $source_env --digest $digest\`.
BODY
)"
# {% endraw %}
