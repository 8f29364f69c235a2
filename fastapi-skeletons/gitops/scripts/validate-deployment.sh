#!/usr/bin/env bash
# Validates the environments before a merge and checks their health after a deploy. The
# deploy workflow (.github/workflows/deploy.yaml) and the local loop run exactly this.
#
#   scripts/validate-deployment.sh pre-merge [ENV...] [--digest sha256:...]
#       Renders every overlay (default: dev staging prod) with `kubectl kustomize` and
#       checks it: strict schema (kubeconform, when installed), the golden-path policy
#       (scripts/check_rendered.py), the environment's namespace and replica ownership,
#       the image pinned (with --digest: exactly that build) and the Flux objects of
#       flux/. Against a reachable cluster also a server-side dry run (and `flux build`
#       when the flux CLI is installed); without one that part is skipped, saying so.
#   scripts/validate-deployment.sh post-deploy ENV [--digest sha256:...]
#       Against the cluster kubectl points at: the rollout finished, every replica is
#       Ready, a request through the Service answers from ENV, and every pod runs the
#       digest Git names for ENV (or --digest). Results in verify-results/ (VERIFY_OUT).
#       ENV "local" is overlays/local in the base namespace (NAMESPACE overrides): images
#       built where they run, so every pod must run the image the overlay names instead.
#
# PASS/FAIL per check; exit 0 when all pass, 1 with the reasons otherwise, 2 on bad usage.
# Needs kubectl and Python 3 with PyYAML (requirements-dev.txt; PYTHON overrides python3).
set -euo pipefail

APP=${{ values.name | dump }}
BASE_NAMESPACE=${{ values.namespace | dump }}
# {% raw %} (the rest is bash, rendered unchanged)
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KUBECTL="${KUBECTL:-kubectl}"
PYTHON="${PYTHON:-python3}"
KUBERNETES_VERSION="${KUBERNETES_VERSION:-1.33.0}"
ENVIRONMENTS=(dev staging prod)
DIGEST_PATTERN='^sha256:[0-9a-f]{64}$'

usage() {
  sed -n '2,/^set -euo pipefail$/p' "${BASH_SOURCE[0]}" | sed -n 's/^# \{0,1\}//p' >&2
  exit 2
}
die() { echo "validate-deployment: $*" >&2; exit 2; }

is_environment() { local e; for e in "${ENVIRONMENTS[@]}"; do [[ "$1" == "$e" ]] && return 0; done; return 1; }

# The digest Git says ENV runs (overlays/ENV/kustomization.yaml), or nothing while the
# overlay still deploys VERSION's tag (before the first build).
digest_in_git() {
  sed -nE 's/^[[:space:]]+digest:[[:space:]]*"?(sha256:[0-9a-f]{64})"?[[:space:]]*$/\1/p' \
    "$ROOT/overlays/$1/kustomization.yaml"
}

cluster_reachable() { "$KUBECTL" version --request-timeout=5s >/dev/null 2>&1; }

# --- pre-merge -----------------------------------------------------------------------------
PASSED=0 FAILED=0 SKIPPED=0 FAILURES=()
result() { # result PASS|FAIL|SKIP CHECK DETAIL
  printf '%s %s: %s\n' "$1" "$2" "$3"
  case "$1" in
    PASS) PASSED=$((PASSED + 1)) ;;
    SKIP) SKIPPED=$((SKIPPED + 1)) ;;
    *) FAILED=$((FAILED + 1)); FAILURES+=("$2: $3") ;;
  esac
}

pre_merge() {
  local digest="$1"; shift
  local envs=("$@") env rendered out
  # Global: the EXIT trap runs after this function has returned.
  ((${#envs[@]})) || envs=("${ENVIRONMENTS[@]}")
  command -v "$KUBECTL" >/dev/null 2>&1 || die "kubectl not found: install it or set KUBECTL"
  WORK="$(mktemp -d)"
  trap 'rm -rf "$WORK"' EXIT
  local reachable=false
  cluster_reachable && reachable=true
  for env in "${envs[@]}"; do
    is_environment "$env" || die "unknown environment '$env' (one of: ${ENVIRONMENTS[*]})"
    rendered="$WORK/$env.yaml"
    if ! out="$("$KUBECTL" kustomize "$ROOT/overlays/$env" 2>&1 >"$rendered")"; then
      result FAIL "$env/render" "kubectl kustomize overlays/$env failed: $(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"
      continue
    fi
    result PASS "$env/render" "overlays/$env renders ($(grep -c '^kind:' "$rendered") objects)"
    if command -v kubeconform >/dev/null 2>&1; then
      if out="$(kubeconform -strict -summary -kubernetes-version "$KUBERNETES_VERSION" "$rendered" 2>&1)"; then
        result PASS "$env/schema" "strict schema of Kubernetes $KUBERNETES_VERSION"
      else
        result FAIL "$env/schema" "$(printf '%s' "$out" | tail -n 5 | tr '\n' ' ')"
      fi
    else
      result SKIP "$env/schema" "kubeconform is not installed (the deploy workflow installs it)"
    fi
    local args=(--environment "$env" --namespace "$BASE_NAMESPACE-$env" --app "$APP")
    [[ -n "$digest" ]] && args+=(--digest "$digest")
    if out="$("$PYTHON" "$ROOT/scripts/check_rendered.py" "${args[@]}" "$rendered" 2>&1)"; then
      result PASS "$env/policy" "$out"
    else
      result FAIL "$env/policy" "$(printf '%s' "$out" | tr '\n' ' ')"
    fi
    if [[ "$reachable" == true ]]; then
      if out="$("$KUBECTL" apply --dry-run=server -f "$rendered" 2>&1)"; then
        result PASS "$env/server-dry-run" "the API server accepts every object"
      else
        result FAIL "$env/server-dry-run" "$(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"
      fi
    else
      result SKIP "$env/server-dry-run" "no cluster reachable (kubectl version failed): server-side dry run and flux build not run"
    fi
  done
  if out="$("$KUBECTL" kustomize "$ROOT/flux" 2>&1 >"$WORK/flux.yaml")" \
    && out="$("$PYTHON" "$ROOT/scripts/check_rendered.py" --flux "$WORK/flux.yaml" 2>&1)"; then
    result PASS "flux" "$out"
  else
    result FAIL "flux" "$(printf '%s' "$out" | tr '\n' ' ')"
  fi
  if [[ "$reachable" == true ]] && command -v flux >/dev/null 2>&1; then
    for env in "${envs[@]}"; do
      if out="$(flux build kustomization "$APP-$env" --path "$ROOT/overlays/$env" \
        --kustomization-file "$ROOT/flux/$env.yaml" --dry-run 2>&1 >/dev/null)"; then
        result PASS "$env/flux-build" "flux build kustomization $APP-$env"
      else
        result FAIL "$env/flux-build" "$(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"
      fi
    done
  fi
  printf '\nvalidate-deployment pre-merge: %s passed, %s failed, %s skipped\n' "$PASSED" "$FAILED" "$SKIPPED"
  if ((FAILED)); then
    printf '  %s\n' "${FAILURES[@]}" >&2
    return 1
  fi
}

# --- post-deploy ---------------------------------------------------------------------------
check_rollout() {
  k rollout status "deployment/$APP" --timeout="${VERIFY_TIMEOUT}s" \
    || fail "deployment/$APP in $NAMESPACE did not finish rolling out within ${VERIFY_TIMEOUT}s"
  note "rollout of deployment/$APP complete"
}

check_ready() {
  local ready wanted
  ready="$(k get deployment "$APP" -o jsonpath='{.status.readyReplicas}')"
  wanted="$(k get deployment "$APP" -o jsonpath='{.spec.replicas}')"
  ready="${ready:-0}"
  ((wanted > 0)) || fail "deployment/$APP asks for 0 replicas"
  ((ready >= wanted)) || fail "only $ready of $wanted replicas of deployment/$APP are Ready"
  note "$ready/$wanted replicas Ready"
}

check_smoke() {
  local body
  body="$(k get --raw "/api/v1/namespaces/$NAMESPACE/services/http:$APP:http/proxy/" 2>&1)" \
    || fail "GET / through service/$APP failed: $(printf '%s' "$body" | tail -n 1)"
  [[ "$body" == *"\"environment\":\"$ENVIRONMENT\""* ]] \
    || fail "GET / through service/$APP did not answer from $ENVIRONMENT: $body"
  note "GET / through service/$APP: $body"
}

# The pods of APP that are not being deleted, one "name value" line each (VALUE: the
# jsonpath of the first container's field). The old ReplicaSet's pods terminate for up to
# their grace period after a finished rollout; they serve nothing (no longer endpoints).
live_pods() {
  k get pods -l "app.kubernetes.io/name=$APP" \
    -o jsonpath="{range .items[*]}{.metadata.name}{\"|\"}{$1}{\"|\"}{.metadata.deletionTimestamp}{\"\\n\"}{end}" \
    | awk -F'|' '$1 != "" && $3 == "" { print $1, $2 }'
}

check_digest() {
  local pods pod image_id wrong=()
  pods="$(live_pods '.status.containerStatuses[0].imageID')"
  [[ -n "$pods" ]] || fail "no pods of $APP in $NAMESPACE"
  while read -r pod image_id; do
    [[ -n "$pod" ]] || continue
    [[ "$image_id" == *"@$EXPECTED_DIGEST" ]] || wrong+=("$pod runs ${image_id:-nothing yet}")
  done <<<"$pods"
  ((${#wrong[@]} == 0)) || fail "expected $EXPECTED_DIGEST: ${wrong[*]}"
  note "every pod runs $EXPECTED_DIGEST"
}

# overlays/local runs images built where they run (no digest): every pod must run the
# image the overlay names.
check_local_image() {
  local expected pods pod image wrong=()
  expected="$("$KUBECTL" kustomize "$ROOT/overlays/local" \
    | sed -nE 's/^[[:space:]-]*image:[[:space:]]*"?([^"[:space:]]+)"?[[:space:]]*$/\1/p' | head -n1)"
  [[ -n "$expected" ]] || fail "overlays/local names no image"
  pods="$(live_pods '.spec.containers[0].image')"
  [[ -n "$pods" ]] || fail "no pods of $APP in $NAMESPACE"
  while read -r pod image; do
    [[ -n "$pod" ]] || continue
    [[ "$image" == "$expected" ]] || wrong+=("$pod runs $image")
  done <<<"$pods"
  ((${#wrong[@]} == 0)) || fail "expected $expected: ${wrong[*]}"
  note "every pod runs $expected"
}

post_deploy() {
  ENVIRONMENT="$1" EXPECTED_DIGEST="$2"
  if [[ "$ENVIRONMENT" == local ]]; then
    NAMESPACE="${NAMESPACE:-$BASE_NAMESPACE}"
  else
    is_environment "$ENVIRONMENT" || die "unknown environment '$ENVIRONMENT' (one of: local ${ENVIRONMENTS[*]})"
    [[ -n "$EXPECTED_DIGEST" ]] || EXPECTED_DIGEST="$(digest_in_git "$ENVIRONMENT")"
    NAMESPACE="$BASE_NAMESPACE-$ENVIRONMENT"
  fi
  VERIFY_TIMEOUT="${VERIFY_TIMEOUT:-120}"
  # shellcheck source-path=SCRIPTDIR source=verify-lib.sh
  source "$ROOT/scripts/verify-lib.sh"
  verify_begin "$APP: post-deploy checks of $ENVIRONMENT"
  requirement rollout "the rollout of deployment/$APP finished" check_rollout
  requirement ready "every replica is Ready" check_ready
  requirement smoke "a request through the Service answers from $ENVIRONMENT" check_smoke
  if [[ "$ENVIRONMENT" == local ]]; then
    requirement image "every pod runs the image overlays/local names" check_local_image
  elif [[ -n "$EXPECTED_DIGEST" ]]; then
    requirement digest "every pod runs the digest Git names for $ENVIRONMENT" check_digest
  else
    requirement digest "every pod runs the digest Git names for $ENVIRONMENT" \
      skip "overlays/$ENVIRONMENT names no digest yet (VERSION's tag, before the first build)"
  fi
  verify_end
}

# --- main ----------------------------------------------------------------------------------
(($#)) || usage
[[ "$1" == -h || "$1" == --help ]] && usage
mode="$1"; shift
digest="" envs=()
while (($#)); do
  case "$1" in
    --digest) (($# >= 2)) || die "--digest needs a value"; digest="$2"; shift 2 ;;
    --digest=*) digest="${1#--digest=}"; shift ;;
    -h | --help) usage ;;
    -*) die "unknown option $1" ;;
    *) envs+=("$1"); shift ;;
  esac
done
[[ -z "$digest" || "$digest" =~ $DIGEST_PATTERN ]] || die "--digest must be sha256:<64 hex digits>, got '$digest'"
case "$mode" in
  pre-merge) pre_merge "$digest" "${envs[@]}" ;;
  post-deploy)
    ((${#envs[@]} == 1)) || die "post-deploy needs exactly one environment (${ENVIRONMENTS[*]})"
    post_deploy "${envs[0]}" "$digest" ;;
  *) die "unknown mode '$mode': pre-merge or post-deploy" ;;
esac
# {% endraw %}
