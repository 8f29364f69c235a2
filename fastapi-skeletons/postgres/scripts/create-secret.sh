#!/usr/bin/env bash
# Creates the PostgreSQL credentials Secret in the cluster, without writing the password
# to disk, to Git or to any process's command line.
#
#   scripts/create-secret.sh                       # random password (printed nowhere)
#   POSTGRES_PASSWORD=... scripts/create-secret.sh  # your own password
#
# Idempotent: an existing Secret is kept, because the database was initialised with that
# password (POSTGRES_PASSWORD only takes effect on an empty data volume). To rotate, change
# the password in PostgreSQL first (ALTER ROLE), then delete and re-create the Secret.
# Repairs a Secret without a password (k8s/postgres-secret.yaml applied by hand): no
# database can have been initialised with it, so it is replaced, and the Deployments that
# read it are restarted.
# Environment: NAMESPACE, SECRET_NAME, POSTGRES_USER, POSTGRES_DB, KUBECTL.
set -euo pipefail

NAMESPACE="${NAMESPACE:-${{ values.namespace }}}"
SECRET_NAME="${SECRET_NAME:-${{ values.name }}-postgres}"
POSTGRES_USER="${POSTGRES_USER:-app}"
POSTGRES_DB="${POSTGRES_DB:-app}"
KUBECTL="${KUBECTL:-kubectl}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

die() { echo "create-secret: $*" >&2; exit 1; }

command -v "$KUBECTL" >/dev/null 2>&1 || die "kubectl not found: install it or set KUBECTL=/path/to/kubectl"
[[ "$POSTGRES_USER" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "POSTGRES_USER must be a lower-case SQL identifier, got '$POSTGRES_USER'"
[[ "$POSTGRES_DB" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "POSTGRES_DB must be a lower-case SQL identifier, got '$POSTGRES_DB'"

# The namespace must exist before the Secret.
"$KUBECTL" apply -f "$ROOT/k8s/namespace.yaml" >/dev/null

repaired=false
if "$KUBECTL" -n "$NAMESPACE" get secret "$SECRET_NAME" >/dev/null 2>&1; then
  # base64 of the password: empty when the key is missing or empty. Never printed.
  existing="$("$KUBECTL" -n "$NAMESPACE" get secret "$SECRET_NAME" -o jsonpath='{.data.POSTGRES_PASSWORD}')"
  if [[ -n "$existing" ]]; then
    echo "create-secret: Secret $NAMESPACE/$SECRET_NAME exists; keeping it (the database uses that password)."
    exit 0
  fi
  # PostgreSQL refuses to initialise without a password and the containers cannot start
  # without the key, so nothing uses this Secret: replace it.
  echo "create-secret: Secret $NAMESPACE/$SECRET_NAME has no POSTGRES_PASSWORD (was k8s/postgres-secret.yaml applied by hand? It is only the Secret's shape); replacing it." >&2
  echo "create-secret: if a database was initialised with another password, run again with POSTGRES_PASSWORD set to it." >&2
  repaired=true
fi

generated=false
if [[ -z "${POSTGRES_PASSWORD:-}" ]]; then
  # 24 random bytes as hex: no characters that need quoting in a connection string.
  POSTGRES_PASSWORD="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  generated=true
fi
(( $(printf %s "$POSTGRES_PASSWORD" | wc -c) >= 16 )) || die "POSTGRES_PASSWORD must have at least 16 characters"
[[ "$POSTGRES_PASSWORD" != *$'\n'* ]] || die "POSTGRES_PASSWORD must be a single line"

if [[ "$repaired" == true ]]; then
  "$KUBECTL" -n "$NAMESPACE" delete secret "$SECRET_NAME" >/dev/null
fi

# printf is a shell builtin and the env file a pipe: the password never shows up in `ps`.
# `create`, not `apply`: apply would keep a second copy of the values in the Secret's
# last-applied-configuration annotation.
"$KUBECTL" -n "$NAMESPACE" create secret generic "$SECRET_NAME" \
    --from-env-file=<(printf 'POSTGRES_USER=%s\nPOSTGRES_DB=%s\nPOSTGRES_PASSWORD=%s\n' \
      "$POSTGRES_USER" "$POSTGRES_DB" "$POSTGRES_PASSWORD") \
    --dry-run=client -o yaml \
  | "$KUBECTL" label --local -f - -o yaml \
      app.kubernetes.io/name=${{ values.name }}-postgres \
      app.kubernetes.io/component=database \
      app.kubernetes.io/part-of=${{ values.name }} \
      app.kubernetes.io/managed-by=create-secret.sh \
      backstage.io/kubernetes-id=${{ values.name }} \
  | "$KUBECTL" create -f -

if [[ "$generated" == true ]]; then
  echo "create-secret: created $NAMESPACE/$SECRET_NAME with a random password (read it with:"
  echo "  kubectl -n $NAMESPACE get secret $SECRET_NAME -o jsonpath='{.data.POSTGRES_PASSWORD}' | base64 -d )"
else
  echo "create-secret: created $NAMESPACE/$SECRET_NAME with the password from \$POSTGRES_PASSWORD."
fi

if [[ "$repaired" == true ]]; then
  # Containers read the Secret when they start: restart those that read the empty one.
  for deployment in ${{ values.name }}-postgres ${{ values.name }}; do
    if "$KUBECTL" -n "$NAMESPACE" get deployment "$deployment" >/dev/null 2>&1; then
      "$KUBECTL" -n "$NAMESPACE" rollout restart "deployment/$deployment"
    fi
  done
fi
