#!/usr/bin/env bash
# The API keys of the calling services, as Secrets in the cluster: never in Git, in a
# file of this repository, on a command line or in the output.
#
#   scripts/create-secret.sh                      # create what is missing (idempotent)
#   scripts/create-secret.sh rotate CALLER stage    # 1. a new key, accepted but not yet sent
#   scripts/create-secret.sh rotate CALLER promote  # 2. the caller sends it, the old one still accepted
#   scripts/create-secret.sh rotate CALLER retire   # 3. the old key is refused
#
# Per calling service (gateway, orders) two Secrets:
#   <app>-<caller>-api-key            current (and, while rotating, next): the key itself,
#                                     mounted only into the caller's pods
#   <app>-<caller>-api-key-verifiers  current, next, previous: SHA-256 digests, mounted
#                                     into the services the caller may call
# Both are mounted as files, which the kubelet updates in running pods (within about a
# minute): wait that long between the rotation steps and no request is refused
# (docs/auth.md). Environment: NAMESPACE, KUBECTL.
set -euo pipefail

NAMESPACE="${NAMESPACE:-${{ values.namespace }}}"
APP=${{ values.name | dump }}
KUBECTL="${KUBECTL:-kubectl}"
CALLERS=(gateway orders)
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

die() { echo "create-secret: $*" >&2; exit 1; }
usage() { sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

command -v "$KUBECTL" >/dev/null 2>&1 || die "kubectl not found: install it or set KUBECTL=/path/to/kubectl"
command -v sha256sum >/dev/null 2>&1 || die "sha256sum not found (coreutils)"

# Key material only ever lives in this private folder, removed on exit.
WORK="$(umask 077 && mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

new_key() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
digest() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

exists() { "$KUBECTL" -n "$NAMESPACE" get secret "$1" >/dev/null 2>&1; }

# read_key SECRET KEY: the decoded value (empty when missing). Never printed by callers.
read_key() {
  local encoded
  encoded="$("$KUBECTL" -n "$NAMESPACE" get secret "$1" -o "jsonpath={.data.$2}")"
  [[ -n "$encoded" ]] && printf '%s' "$encoded" | base64 -d
  return 0
}

# write SECRET VERB CALLER KEY=VALUE...: VERB create or replace; values go through files.
write() {
  local secret="$1" verb="$2" caller="$3" dir; shift 3
  dir="$(mktemp -d "$WORK/secret.XXXXXX")"
  local args=()
  for pair in "$@"; do
    printf '%s' "${pair#*=}" >"$dir/${pair%%=*}"
    args+=(--from-file="${pair%%=*}=$dir/${pair%%=*}")
  done
  # `create`/`replace`, never `apply`: apply would keep a copy of the values in the
  # last-applied-configuration annotation.
  "$KUBECTL" -n "$NAMESPACE" create secret generic "$secret" "${args[@]}" --dry-run=client -o yaml \
    | "$KUBECTL" label --local -f - -o yaml \
        app.kubernetes.io/name="$APP-$caller" \
        app.kubernetes.io/component="$caller" \
        app.kubernetes.io/part-of="$APP" \
        app.kubernetes.io/managed-by=create-secret.sh \
        backstage.io/kubernetes-id="$APP" \
    | "$KUBECTL" "$verb" -f - >/dev/null
  rm -rf "$dir"
}

create_missing() {
  "$KUBECTL" apply -f "$ROOT/k8s/namespace.yaml" >/dev/null
  local caller key
  for caller in "${CALLERS[@]}"; do
    if exists "$APP-$caller-api-key"; then
      key="$(read_key "$APP-$caller-api-key" current)"
      [[ -n "$key" ]] || die "Secret $APP-$caller-api-key has no key 'current': delete it and run again"
      echo "create-secret: $NAMESPACE/$APP-$caller-api-key exists; keeping it."
    else
      key="$(new_key)"
      write "$APP-$caller-api-key" create "$caller" "current=$key"
      echo "create-secret: created $NAMESPACE/$APP-$caller-api-key (a random key, shown nowhere)."
    fi
    if exists "$APP-$caller-api-key-verifiers"; then
      echo "create-secret: $NAMESPACE/$APP-$caller-api-key-verifiers exists; keeping it."
    else
      write "$APP-$caller-api-key-verifiers" create "$caller" "current=$(digest "$key")"
      echo "create-secret: created $NAMESPACE/$APP-$caller-api-key-verifiers."
    fi
  done
}

rotate() {
  local caller="$1" step="$2" current next previous
  [[ " ${CALLERS[*]} " == *" $caller "* ]] || die "no calling service '$caller' (one of: ${CALLERS[*]})"
  exists "$APP-$caller-api-key" || die "no Secret $APP-$caller-api-key: run scripts/create-secret.sh first"
  current="$(read_key "$APP-$caller-api-key" current)"
  next="$(read_key "$APP-$caller-api-key" next)"
  case "$step" in
    stage)
      [[ -z "$next" ]] || die "a rotation of $caller is already staged: run 'rotate $caller promote'"
      next="$(new_key)"
      # Callees learn the new digest first; the caller keeps sending the current key.
      write "$APP-$caller-api-key-verifiers" replace "$caller" "current=$(digest "$current")" "next=$(digest "$next")"
      write "$APP-$caller-api-key" replace "$caller" "current=$current" "next=$next"
      echo "create-secret: staged a new key for $caller. Wait until the callees' pods have it (about a minute), then: rotate $caller promote"
      ;;
    promote)
      [[ -n "$next" ]] || die "nothing staged for $caller: run 'rotate $caller stage' first"
      # Both keys stay valid: pods that still send the old key are not refused.
      write "$APP-$caller-api-key-verifiers" replace "$caller" "current=$(digest "$next")" "previous=$(digest "$current")"
      write "$APP-$caller-api-key" replace "$caller" "current=$next"
      echo "create-secret: $caller now sends the new key; the old one is still accepted. After about a minute: rotate $caller retire"
      ;;
    retire)
      [[ -z "$next" ]] || die "a staged key for $caller is not promoted yet: run 'rotate $caller promote'"
      previous="$(read_key "$APP-$caller-api-key-verifiers" previous)"
      [[ -n "$previous" ]] || die "no previous key of $caller to retire"
      write "$APP-$caller-api-key-verifiers" replace "$caller" "current=$(digest "$current")"
      echo "create-secret: the old key of $caller is no longer accepted."
      ;;
    *) usage ;;
  esac
}

case "${1:-}" in
  "") create_missing ;;
  rotate) [[ $# -eq 3 ]] || usage; rotate "$2" "$3" ;;
  -h | --help) usage ;;
  *) usage ;;
esac
