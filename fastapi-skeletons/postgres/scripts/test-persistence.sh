#!/usr/bin/env bash
# Proves that data survives a restart of the PostgreSQL pod:
#   1. wait until the database is ready      2. write a unique row
#   3. delete the pod                         4. wait for the replacement pod to be Ready
#   5. read the row back -> PASS (exit 0) or FAIL (exit 1)
# Environment: NAMESPACE, TIMEOUT (default 180s), KUBECTL.
set -euo pipefail

NAMESPACE="${NAMESPACE:-${{ values.namespace }}}"
DEPLOYMENT="${DEPLOYMENT:-${{ values.name }}-postgres}"
SELECTOR="app.kubernetes.io/name=${DEPLOYMENT}"
TIMEOUT="${TIMEOUT:-180s}"
KUBECTL="${KUBECTL:-kubectl}"

step() { printf '\n==> %s\n' "$*"; }
fail() { printf '\nFAIL: %s\n' "$*" >&2; exit 1; }
k() { "$KUBECTL" -n "$NAMESPACE" "$@"; }
# Runs the SQL given on stdin inside the database container (credentials from its env).
psql_in_pod() {
  k exec -i "deployment/$DEPLOYMENT" -c postgres -- \
    sh -c 'PGPASSWORD="$POSTGRES_PASSWORD" psql -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -v ON_ERROR_STOP=1 -qtAX'
}
current_pod() {
  k get pods -l "$SELECTOR" --field-selector=status.phase=Running -o jsonpath='{.items[0].metadata.name}'
}

command -v "$KUBECTL" >/dev/null 2>&1 || fail "kubectl not found: install it or set KUBECTL=/path/to/kubectl"

step "1/5 waiting for deployment/$DEPLOYMENT in namespace $NAMESPACE"
k rollout status "deployment/$DEPLOYMENT" --timeout="$TIMEOUT" || fail "the database did not become ready (kubectl -n $NAMESPACE describe pod -l $SELECTOR)"
k get pvc -l "app.kubernetes.io/name=${DEPLOYMENT}" -o wide || true
old_pod="$(current_pod)"
[[ -n "$old_pod" ]] || fail "no running pod matches $SELECTOR"
echo "database pod: $old_pod"

marker="persistence-$(date +%s)-$RANDOM"
step "2/5 writing marker $marker"
printf '%s\n' \
  "CREATE TABLE IF NOT EXISTS persistence_check (id BIGSERIAL PRIMARY KEY, marker TEXT NOT NULL UNIQUE, written_at TIMESTAMPTZ NOT NULL DEFAULT now());" \
  "INSERT INTO persistence_check (marker) VALUES ('$marker');" | psql_in_pod || fail "could not write to the database"

step "3/5 deleting pod $old_pod"
k delete pod "$old_pod" --wait=true --timeout="$TIMEOUT"

step "4/5 waiting for the replacement pod"
k rollout status "deployment/$DEPLOYMENT" --timeout="$TIMEOUT" || fail "no replacement pod became ready"
k wait --for=condition=Ready pod -l "$SELECTOR" --timeout="$TIMEOUT" || fail "the replacement pod is not Ready"
new_pod="$(current_pod)"
[[ -n "$new_pod" && "$new_pod" != "$old_pod" ]] || fail "expected a new pod, still see '$new_pod'"
echo "replacement pod: $new_pod"

step "5/5 reading marker $marker back"
found="$(printf '%s\n' "SELECT count(*) FROM persistence_check WHERE marker = '$marker';" | psql_in_pod)" \
  || fail "could not read from the database after the restart"
if [[ "$found" == "1" ]]; then
  printf '\nPASS: the row written before deleting %s was read back from %s.\n' "$old_pod" "$new_pod"
else
  fail "the row written before the restart is gone (count=$found): is the data directory on the PersistentVolumeClaim?"
fi
