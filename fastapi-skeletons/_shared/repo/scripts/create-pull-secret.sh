#!/usr/bin/env bash
# Lets the cluster pull this repository's images from GHCR when the package is private or
# internal: creates a kubernetes.io/dockerconfigjson Secret for ghcr.io in the app's
# namespace and adds it to the imagePullSecrets of the namespace's "default"
# ServiceAccount. The pods of k8s/ name no serviceAccountName, so they run as "default",
# and Kubernetes copies its imagePullSecrets into every pod created afterwards; their
# automountServiceAccountToken: false is unaffected (the kubelet uses the Secret, the
# containers never see it).
#
#   GHCR_USERNAME=<github user> scripts/create-pull-secret.sh                 # asks for the token
#   <password manager> | GHCR_USERNAME=<github user> scripts/create-pull-secret.sh  # token on stdin
#   GHCR_USERNAME=<github user> GHCR_TOKEN=... scripts/create-pull-secret.sh  # token in the environment
#
# The token: a personal access token (classic) with the read:packages scope only, of a user
# (or machine user) who can read this repository; GHCR does not take fine-grained tokens.
# It never appears on a command line, in a file or in the output: the Secret is built in
# this shell (printf is a builtin) and piped to `kubectl apply -f -`, and GHCR_TOKEN is
# removed from the environment before any other program starts.
# Idempotent: a re-run updates the Secret (a rotated token) and adds it to the
# ServiceAccount once. Pods created before the first run do not have it: restart them.
# Environment: GHCR_USERNAME, GHCR_TOKEN, NAMESPACE, SECRET_NAME, SERVICE_ACCOUNT, KUBECTL.
set -euo pipefail

# The token first, out of the environment every later child process would inherit.
token="${GHCR_TOKEN:-}"
unset GHCR_TOKEN

MANIFEST_NAMESPACE="${{ values.namespace }}"
NAMESPACE="${NAMESPACE:-$MANIFEST_NAMESPACE}"
SECRET_NAME="${SECRET_NAME:-ghcr-pull}"
SERVICE_ACCOUNT="${SERVICE_ACCOUNT:-default}"
KUBECTL="${KUBECTL:-kubectl}"
GHCR_USERNAME="${GHCR_USERNAME:-}"
REGISTRY=ghcr.io
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

die() { echo "create-pull-secret: $*" >&2; exit 1; }

command -v "$KUBECTL" >/dev/null 2>&1 || die "kubectl not found: install it or set KUBECTL=/path/to/kubectl"
# Every name below ends up in JSON and in kubectl arguments: DNS labels only.
for var in NAMESPACE SECRET_NAME SERVICE_ACCOUNT; do
  [[ "${!var}" =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]] || die "$var must be a DNS label (a-z, 0-9, -), got '${!var}'"
done
[[ -n "$GHCR_USERNAME" ]] || die "set GHCR_USERNAME to the GitHub user the token belongs to"
[[ "$GHCR_USERNAME" =~ ^[A-Za-z0-9]([-A-Za-z0-9]{0,37}[A-Za-z0-9])?$ ]] || die "GHCR_USERNAME must be a GitHub user name, got '$GHCR_USERNAME'"

if [[ -z "$token" ]]; then
  if [[ -t 0 ]]; then
    read -rsp "Token of $GHCR_USERNAME with read:packages (not shown): " token || true
    echo >&2
  else
    IFS= read -r token || true
  fi
fi
token="${token%$'\r'}"
[[ -n "$token" ]] || die "no token: set GHCR_TOKEN or pipe it on stdin (a personal access token (classic) with the read:packages scope)"
# GitHub tokens are letters, digits and underscores; anything else (a pasted quote, two
# lines) would corrupt the JSON below. The token itself is never printed.
[[ "$token" =~ ^[A-Za-z0-9_]{20,255}$ ]] || die "the token is not a GitHub token (expected 20-255 letters, digits or _, on one line)"

# The namespace of k8s/ is created from k8s/namespace.yaml (with its Pod Security labels);
# any other one must exist already.
if ! "$KUBECTL" get namespace "$NAMESPACE" >/dev/null 2>&1; then
  [[ "$NAMESPACE" == "$MANIFEST_NAMESPACE" ]] || die "namespace $NAMESPACE does not exist; create it first"
  "$KUBECTL" apply -f "$ROOT/k8s/namespace.yaml" >/dev/null
fi

# base64 reads stdin, so the credentials never become an argument; tr keeps one line.
b64() { base64 | tr -d '\n'; }
auth="$(printf '%s:%s' "$GHCR_USERNAME" "$token" | b64)"
dockerconfig="$(printf '{"auths":{"%s":{"username":"%s","password":"%s","auth":"%s"}}}' \
  "$REGISTRY" "$GHCR_USERNAME" "$token" "$auth" | b64)"
# Server-side apply: idempotent, and unlike client-side apply it stores no copy of the
# object (token included) in a last-applied-configuration annotation.
printf '{"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/dockerconfigjson","metadata":{"name":"%s","namespace":"%s","labels":{"app.kubernetes.io/part-of":"%s","app.kubernetes.io/managed-by":"create-pull-secret.sh","backstage.io/kubernetes-id":"%s"}},"data":{".dockerconfigjson":"%s"}}' \
    "$SECRET_NAME" "$NAMESPACE" "${{ values.name }}" "${{ values.name }}" "$dockerconfig" \
  | "$KUBECTL" apply --server-side --force-conflicts --field-manager=create-pull-secret -f - >/dev/null
unset token auth dockerconfig

# The controller creates a namespace's "default" ServiceAccount a moment after the namespace.
for _ in $(seq 1 30); do
  "$KUBECTL" -n "$NAMESPACE" get serviceaccount "$SERVICE_ACCOUNT" >/dev/null 2>&1 && break
  sleep 1
done
current="$("$KUBECTL" -n "$NAMESPACE" get serviceaccount "$SERVICE_ACCOUNT" -o 'jsonpath={.imagePullSecrets[*].name}')" \
  || die "ServiceAccount $NAMESPACE/$SERVICE_ACCOUNT not found"
if [[ " $current " == *" $SECRET_NAME "* ]]; then
  echo "create-pull-secret: ServiceAccount $NAMESPACE/$SERVICE_ACCOUNT already pulls with $SECRET_NAME."
else
  # A JSON patch appends; a merge patch would replace the pull secrets someone else added.
  if [[ -z "$current" ]]; then
    patch='[{"op":"add","path":"/imagePullSecrets","value":[{"name":"'"$SECRET_NAME"'"}]}]'
  else
    patch='[{"op":"add","path":"/imagePullSecrets/-","value":{"name":"'"$SECRET_NAME"'"}}]'
  fi
  "$KUBECTL" -n "$NAMESPACE" patch serviceaccount "$SERVICE_ACCOUNT" --type=json -p "$patch" >/dev/null
  echo "create-pull-secret: ServiceAccount $NAMESPACE/$SERVICE_ACCOUNT now pulls with $SECRET_NAME."
fi
echo "create-pull-secret: Secret $NAMESPACE/$SECRET_NAME holds the $REGISTRY credentials of $GHCR_USERNAME."
echo "  Pods created before this keep pulling without it; restart them:"
echo "  kubectl -n $NAMESPACE rollout restart deployment"
