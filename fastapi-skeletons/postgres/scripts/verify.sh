#!/usr/bin/env bash
# Checks every requirement of the brief against the cluster kubectl points at, and prints
# PASS or FAIL for each (docs/verify.md shows the same commands, one by one):
#   API          the database and the items API are Ready behind their Services
#   PERSISTENCE  a row written through the API survives deleting the database pod: the new
#                pod reads it back (scripts/test-persistence.sh does the pod deletion and a
#                database-level check in the middle)
#   SECRET       the database password is in no file of this repository, no container log
#                of the namespace, no rendered manifest and no object but the Secret
#   PROBES       the database's liveness and readiness probes do different jobs, and a
#                startup probe covers initdb and crash recovery
#
#   scripts/verify.sh          after scripts/create-secret.sh and kubectl apply -k k8s/
#
# Results: verify-results/results.md (table with the evidence), results.tsv, logs/.
# Changes nothing but one item written through the API (deleted at the end) and one row
# in the table persistence_check (scripts/test-persistence.sh), and restarts the database
# pod once (the test). Exit status 0 when every requirement passes.
# Env: NAMESPACE, KUBECTL, VERIFY_OUT, VERIFY_TIMEOUT (seconds, default 180). Needs curl
# and base64; git when the repository is a Git checkout.
set -euo pipefail

NAMESPACE="${NAMESPACE:-${{ values.namespace }}}"
APP=${{ values.name | dump }}
# {% raw %}
DB="${APP}-postgres"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/verify-lib.sh
source "$ROOT/scripts/verify-lib.sh"

# curl_api METHOD PATH [BODY]: through the port-forward to the API's Service; prints the
# HTTP status on the first line (000: no connection), then the body.
curl_api() {
  local method="$1" path="$2" body="${3:-}" out status
  local args=(-sS -m 10 -X "$method" -o - -w '\n%{http_code}')
  [[ -n "$body" ]] && args+=(-H 'content-type: application/json' --data "$body")
  out="$(curl "${args[@]}" "$FORWARD_URL$path" 2>/dev/null)" || true
  status="$(printf '%s\n' "$out" | tail -n1)"
  [[ "$status" =~ ^[0-9]{3}$ ]] || status=000
  printf '%s\n%s\n' "$status" "$(printf '%s\n' "$out" | sed '$d')"
}

check_api() {
  k rollout status "deployment/$DB" --timeout="${VERIFY_TIMEOUT}s" \
    || fail "the database did not become Ready: kubectl -n $NAMESPACE describe pod -l app.kubernetes.io/name=$DB"
  k rollout status "deployment/$APP" --timeout="${VERIFY_TIMEOUT}s" \
    || fail "the API did not become Ready: kubectl -n $NAMESPACE describe pod -l app.kubernetes.io/name=$APP"
  note "database pod Ready: $(ready_pods "app.kubernetes.io/name=$DB" | paste -sd ' ')"
  note "API pods Ready: $(ready_pods "app.kubernetes.io/name=$APP" | paste -sd ' ')"
  local pvc
  pvc="$(k get pvc "${DB}-data" -o jsonpath='{.status.phase} {.spec.resources.requests.storage} {.spec.volumeName}')" \
    || fail "no PersistentVolumeClaim ${DB}-data"
  note "PersistentVolumeClaim ${DB}-data: $pvc"
  command -v curl >/dev/null 2>&1 || fail "curl not found: install it"
  port_forward "svc/$APP" 80
  local answer
  answer="$(curl_api GET /ready)"
  [[ "$(head -n1 <<<"$answer")" == 200 ]] || fail "GET /ready through service/$APP answered: $answer"
  note "GET /ready through service/$APP: 200 $(sed -n 2p <<<"$answer" | cut -c1-160)"
}

# delete_item ID: through the current port-forward; never fails.
delete_item() { curl -sS -m 5 -o /dev/null -X DELETE "$FORWARD_URL/api/items/$1" 2>/dev/null || true; }

check_persistence() {
  command -v curl >/dev/null 2>&1 || fail "curl not found: install it"
  local volume
  volume="$(k get deployment "$DB" -o jsonpath='{.spec.template.spec.volumes[?(@.name=="data")]}')"
  case "$volume" in
    *persistentVolumeClaim*) note "deployment/$DB keeps its data on PersistentVolumeClaim $(k get deployment "$DB" -o jsonpath='{.spec.template.spec.volumes[?(@.name=="data")].persistentVolumeClaim.claimName}')" ;;
    *) note "deployment/$DB keeps its data on: ${volume:-no volume named data} (not a PersistentVolumeClaim)" ;;
  esac
  port_forward "svc/$APP" 80
  local marker answer status id
  marker="verify-persistence-$(date +%s)-$RANDOM"
  answer="$(curl_api POST /api/items "{\"name\": \"$marker\", \"description\": \"written through the API before the database pod was deleted\"}")"
  status="$(head -n1 <<<"$answer")"
  [[ "$status" == 201 ]] || fail "POST /api/items through service/$APP answered $status: $(sed -n 2p <<<"$answer")"
  id="$(sed -n 2p <<<"$answer" | sed -n 's/.*"id": *\([0-9][0-9]*\).*/\1/p')"
  [[ -n "$id" ]] || fail "POST /api/items answered no id: $(sed -n 2p <<<"$answer")"
  note "POST /api/items through service/$APP: 201, item $id named $marker"
  # Delete the item when the check ends, whatever happens (best effort: when the data is
  # lost, so is the item).
  on_exit delete_item "$id"

  # The pod deletion, plus a row written and read back with psql inside the database pod.
  local out tp_status=0
  out="$(mktemp)"
  NAMESPACE="$NAMESPACE" KUBECTL="$KUBECTL" TIMEOUT="${VERIFY_TIMEOUT}s" \
    "$ROOT/scripts/test-persistence.sh" 2>&1 | tee "$out" || tp_status=$?
  local old_pod new_pod
  old_pod="$(sed -n 's/^database pod: //p' "$out")"
  new_pod="$(sed -n 's/^replacement pod: //p' "$out")"
  rm -f "$out"
  [[ -n "$old_pod" && -n "$new_pod" ]] \
    || fail "scripts/test-persistence.sh did not replace the database pod (exit $tp_status, output above)"
  note "deleted database pod $old_pod; replacement $new_pod is Ready"
  if ((tp_status == 0)); then
    note "scripts/test-persistence.sh: PASS (a psql row survived too)"
  else
    note "scripts/test-persistence.sh: FAIL (exit $tp_status)"
  fi

  # Read the item back through the API. The API pods were not restarted; they return to
  # Ready once their connection pool reaches the new database pod.
  port_forward "svc/$APP" 80
  local deadline=$((SECONDS + VERIFY_TIMEOUT)) started=$SECONDS
  while :; do
    answer="$(curl_api GET "/api/items/$id")"
    status="$(head -n1 <<<"$answer")"
    case "$status" in
      # 200/404: an answer about the item; 500: the query itself failed (e.g. the table
      # is gone with the data). 503 and no connection: the API still waits for the database.
      200|404|500) break ;;
    esac
    ((SECONDS < deadline)) || break
    sleep 2
  done
  case "$status" in
    200)
      grep -qF "\"$marker\"" <<<"$answer" || fail "GET /api/items/$id answered another item: $(sed -n 2p <<<"$answer")"
      note "GET /api/items/$id through service/$APP after the restart: 200, name $marker (after $((SECONDS - started))s)"
      ;;
    404) fail "the item written before the restart is gone (GET /api/items/$id: 404): is the data directory on the PersistentVolumeClaim?" ;;
    *) fail "GET /api/items/$id answered $status $((SECONDS - started))s after the restart: $(sed -n 2p <<<"$answer" | cut -c1-200) (is the data directory on the PersistentVolumeClaim?)" ;;
  esac
  ((tp_status == 0)) || fail "scripts/test-persistence.sh failed (exit $tp_status): the row it wrote with psql did not survive"
}

# password_hits: how many lines of stdin hold $password (the caller's local variable). The
# password reaches grep through a pipe (-f), never through a command line.
password_hits() { grep -cF -f <(printf '%s\n' "$password") || true; }

check_secret() {
  local encoded password
  encoded="$(k get secret "$DB" -o jsonpath='{.data.POSTGRES_PASSWORD}')" \
    || fail "no Secret $DB in namespace $NAMESPACE: run scripts/create-secret.sh"
  [[ -n "$encoded" ]] || fail "Secret $DB has no POSTGRES_PASSWORD: run scripts/create-secret.sh (it repairs the Secret)"
  password="$(printf '%s' "$encoded" | base64 -d)"
  unset encoded
  (($(printf '%s' "$password" | wc -c) >= 16)) \
    || fail "the password in Secret $DB is shorter than 16 characters: rotate it (docs/credentials.md)"
  note "read POSTGRES_PASSWORD from Secret $DB (kept in a shell variable, never printed)"

  # 1. The repository: every file Git tracks or would track; else every file under it.
  local hits files
  if [[ "$(git -C "$ROOT" rev-parse --show-toplevel 2>/dev/null || true)" == "$ROOT" ]]; then
    files="$(git -C "$ROOT" ls-files --cached --others --exclude-standard | wc -l)"
    hits="$(git -C "$ROOT" grep -lF --untracked -f <(printf '%s\n' "$password") -- . || true)"
    [[ -z "$hits" ]] || fail "the password is in files Git tracks or would add: $(paste -sd ' ' <<<"$hits")"
    note "git grep (tracked and not-ignored files, $files): no password"
  else
    files="$(find "$ROOT" \( -name .git -o -name .venv -o -name node_modules -o -name site \) -prune -o -type f -print | wc -l)"
    hits="$(grep -rlIF --exclude-dir=.git --exclude-dir=.venv --exclude-dir=node_modules --exclude-dir=site \
      -f <(printf '%s\n' "$password") "$ROOT" || true)"
    [[ -z "$hits" ]] || fail "the password is in files of the repository: $(paste -sd ' ' <<<"$hits")"
    note "not a Git checkout: grep of the $files files under the repository: no password"
  fi

  # 2. Every container log in the namespace, current and previous.
  local pod container logs checked=0 leaks=()
  for pod in $(k get pods -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}'); do
    for container in $(k get pod "$pod" -o jsonpath='{range .spec.initContainers[*]}{.name}{"\n"}{end}{range .spec.containers[*]}{.name}{"\n"}{end}'); do
      for previous in false true; do
        logs="$(k logs "$pod" -c "$container" --previous="$previous" 2>/dev/null)" || continue
        checked=$((checked + 1))
        [[ "$(printf '%s\n' "$logs" | password_hits)" == 0 ]] || leaks+=("$pod/$container (previous=$previous)")
      done
    done
  done
  ((checked > 0)) || fail "read no container logs in namespace $NAMESPACE"
  [[ -z "${leaks[*]}" ]] || fail "the password is in the logs of ${leaks[*]}"
  note "kubectl logs of every container in $NAMESPACE ($checked logs, current and previous): no password"

  # 3. The manifests as kustomize renders them, and every object in the namespace but the Secret.
  local dir rendered
  for dir in k8s overlays/local; do
    [[ -f "$ROOT/$dir/kustomization.yaml" ]] || continue
    rendered="$("$KUBECTL" kustomize "$ROOT/$dir")" || fail "kubectl kustomize $dir failed"
    [[ "$(printf '%s\n' "$rendered" | password_hits)" == 0 ]] || fail "kubectl kustomize $dir renders the password"
    ! grep -q '^kind: Secret$' <<<"$rendered" || fail "kubectl kustomize $dir renders a Secret: credentials must come from scripts/create-secret.sh"
    note "kubectl kustomize $dir: $(grep -c '^kind: ' <<<"$rendered") objects, no Secret, no password"
  done
  rendered="$(k get deployments,replicasets,pods,configmaps,services,events -o yaml)"
  [[ "$(printf '%s\n' "$rendered" | password_hits)" == 0 ]] \
    || fail "the password is in an object of namespace $NAMESPACE (kubectl get deployments,replicasets,pods,configmaps,services,events -o yaml)"
  note "kubectl get deployments,replicasets,pods,configmaps,services,events -o yaml: no password (containers read it with secretKeyRef)"

  # 4. What this script wrote so far.
  if [[ -d "$VERIFY_OUT/logs" ]]; then
    [[ "$(cat "$VERIFY_OUT"/logs/*.log 2>/dev/null | password_hits)" == 0 ]] || fail "the password is in $VERIFY_OUT/logs"
    note "$VERIFY_OUT/logs: no password"
  fi
}

# probe_of DEPLOYMENT CONTAINER FIELD: a field of that container's spec (JSON for lists).
probe_of() {
  k get deployment "$1" -o jsonpath="{.spec.template.spec.containers[?(@.name==\"$2\")].$3}"
}

check_probes() {
  local startup liveness readiness
  startup="$(probe_of "$DB" postgres startupProbe)"
  liveness="$(probe_of "$DB" postgres livenessProbe)"
  readiness="$(probe_of "$DB" postgres readinessProbe)"
  [[ -n "$startup" ]] || fail "deployment/$DB has no startupProbe: a long initdb or crash recovery would be restarted by liveness"
  [[ -n "$liveness" && -n "$readiness" ]] || fail "deployment/$DB lacks a liveness or readiness probe"
  local live_cmd ready_cmd
  live_cmd="$(probe_of "$DB" postgres livenessProbe.exec.command)"
  ready_cmd="$(probe_of "$DB" postgres readinessProbe.exec.command)"
  [[ "$live_cmd" != "$ready_cmd" ]] || fail "deployment/$DB: liveness and readiness run the same command: $live_cmd"
  note "database startupProbe: $(probe_of "$DB" postgres startupProbe.exec.command) every $(probe_of "$DB" postgres startupProbe.periodSeconds)s x $(probe_of "$DB" postgres startupProbe.failureThreshold)"
  note "database livenessProbe (the server answers, even while recovering): $live_cmd"
  note "database readinessProbe (the app's user can query the app's database): $ready_cmd"
  # Run them in the pod: both pass on a healthy database.
  local pod
  pod="$(running_pod "app.kubernetes.io/name=$DB")"
  [[ -n "$pod" ]] || fail "no running database pod"
  k exec "$pod" -c postgres -- sh -c "$(k get deployment "$DB" -o jsonpath='{.spec.template.spec.containers[0].livenessProbe.exec.command[2]}')" \
    || fail "the liveness command fails in $pod"
  k exec "$pod" -c postgres -- sh -c "$(k get deployment "$DB" -o jsonpath='{.spec.template.spec.containers[0].readinessProbe.exec.command[2]}')" \
    || fail "the readiness command fails in $pod"
  note "both commands succeed in $pod"
  local api_paths
  api_paths="$(k get deployment "$APP" -o jsonpath='{.spec.template.spec.containers[0].startupProbe.httpGet.path} {.spec.template.spec.containers[0].livenessProbe.httpGet.path} {.spec.template.spec.containers[0].readinessProbe.httpGet.path}')"
  note "API startup/liveness/readiness: $api_paths (liveness ignores the database, readiness follows it)"
}

verify_begin "${APP}: database with persistent storage (Easy Deploy 2)"
requirement API "the database and the items API are Ready behind their Services" check_api
requirement PERSISTENCE "a row written through the API survives deleting the database pod" check_persistence
requirement SECRET "the database password is in no Git file, no container log and no rendered manifest" check_secret
requirement PROBES "the database's liveness and readiness probes do different jobs" check_probes
verify_end
# {% endraw %}
