#!/usr/bin/env bash
# Checks every requirement against the cluster kubectl points at and prints PASS or FAIL
# for each (docs/verify.md says what each proves):
#   SERVICES    the four Deployments are Ready, each pod runs as its own ServiceAccount
#   AUTH        inside the cluster: no key 401, a wrong key 403, the caller's key 200, a
#               valid key of a caller the route does not allow 403
#   EDGES       from each service's pod to each other service: the edges of topology.yaml
#               connect, every other one is blocked by the NetworkPolicies
#   KEY≠ACCESS  a pod holding orders' valid key but not labelled as orders is blocked;
#               the same pod relabelled as orders gets through (the two layers are independent)
#   CHAIN       an order placed through the gateway is paid and read back with its payment
#   BREAKER     payments stopped under load: the gateway's circuit opens, answers are fast
#               degraded 200s; payments back: the circuit closes; latency and errors per phase
#   TRACE       with JAEGER_URL (Jaeger's query API, e.g. http://127.0.0.1:16686): one order
#               is one trace with spans of all four services, each child after its parent
#
#   scripts/verify.sh          after scripts/create-secret.sh and kubectl apply -k k8s/
#
# Results: verify-results/results.md, results.tsv, logs/ (BREAKER: breaker.tsv).
# Restores what it changes (payments' replicas, its probe pod). Needs python3 on this machine.
# Env: NAMESPACE, KUBECTL, VERIFY_OUT, VERIFY_TIMEOUT (default 180), JAEGER_URL,
# BREAKER_PHASE_SECONDS (default 8).
set -euo pipefail

NAMESPACE="${NAMESPACE:-${{ values.namespace }}}"
APP=${{ values.name | dump }}
# {% raw %}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/verify-lib.sh
source "$ROOT/scripts/verify-lib.sh"
SERVICES=(gateway orders inventory payments)
PHASE_SECONDS="${BREAKER_PHASE_SECONDS:-8}"

# The edges of topology.yaml, "caller>callee", read with the pods' own Python-free tools.
EDGES="$(sed -nE 's/^ *- *\{from: *([a-z]+), *to: *([a-z]+),.*/\1>\2/p' "$ROOT/topology.yaml" | paste -sd ' ')"
is_edge() { [[ " $EDGES " == *" $1>$2 "* ]]; }

url_of() { printf 'http://%s-%s.%s.svc.cluster.local' "$APP" "$1" "$NAMESPACE"; }

# call_in_pod POD METHOD URL KEY [JSON]: the HTTP status of one call made from inside POD
# with its own Python (000: no connection within 3 s). KEY: "none", "own" (the pod's
# mounted key, /var/run/secrets/api-key/current) or a literal key.
call_in_pod() {
  k exec "$1" -- python -c '
import sys, urllib.error, urllib.request
pod_method, url, key, body = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
headers = {"Content-Type": "application/json"}
if key == "own":
    headers["X-API-Key"] = open("/var/run/secrets/api-key/current").read().strip()
elif key != "none":
    headers["X-API-Key"] = key
request = urllib.request.Request(url, data=body.encode() or None, headers=headers, method=pod_method)
try:
    with urllib.request.urlopen(request, timeout=3) as r:
        print(r.status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print("000")
' "$2" "$3" "$4" "${5:-}"
}

pod_of() { running_pod "app.kubernetes.io/name=$APP-$1"; }

check_services() {
  local service account
  for service in "${SERVICES[@]}"; do
    k rollout status "deployment/$APP-$service" --timeout="${VERIFY_TIMEOUT}s" >/dev/null \
      || fail "deployment/$APP-$service did not become Ready: kubectl -n $NAMESPACE describe pod -l app.kubernetes.io/name=$APP-$service"
    account="$(k get pod "$(pod_of "$service")" -o jsonpath='{.spec.serviceAccountName}')"
    [[ "$account" == "$APP-$service" ]] || fail "the $service pod runs as ServiceAccount $account"
    note "deployment/$APP-$service Ready, ServiceAccount $account"
  done
}

expect_status() { # expect_status WHAT WANTED GOT
  [[ "$3" == "$2" ]] || fail "$1: HTTP $3, expected $2"
  note "$1: HTTP $3"
}

check_auth() {
  local orders gateway stock
  orders="$(pod_of orders)"; gateway="$(pod_of gateway)"
  stock="$(url_of inventory)/stock/widget"
  expect_status "orders -> inventory without a key" 401 "$(call_in_pod "$orders" GET "$stock" none)"
  expect_status "orders -> inventory with a wrong key" 403 "$(call_in_pod "$orders" GET "$stock" not-a-key)"
  expect_status "orders -> inventory with its own key" 200 "$(call_in_pod "$orders" GET "$stock" own)"
  expect_status "gateway -> payments GET with its key (authenticated, no such payment)" 404 \
    "$(call_in_pod "$gateway" GET "$(url_of payments)/payments/none" own)"
  expect_status "gateway -> payments POST with its valid key (not an allowed caller of POST)" 403 \
    "$(call_in_pod "$gateway" POST "$(url_of payments)/payments" own '{"order_id": "x", "amount_cents": 1}')"
}

# reach POD SERVICE: the status of GET /health on SERVICE from POD (no key needed).
reach() { call_in_pod "$1" GET "$(url_of "$2")/health" none; }

check_edges() {
  local from to pod got wanted bad=0
  for from in "${SERVICES[@]}"; do
    pod="$(pod_of "$from")"
    for to in "${SERVICES[@]}"; do
      [[ "$from" != "$to" ]] || continue
      if is_edge "$from" "$to"; then wanted=200; else wanted=000; fi
      got="$(reach "$pod" "$to")"
      note "$from -> $to: $([[ "$got" == 000 ]] && echo blocked || echo "HTTP $got") ($([[ "$wanted" == 200 ]] && echo allowed || echo "not an edge"))"
      [[ "$got" == "$wanted" ]] || bad=$((bad + 1))
    done
  done
  ((bad == 0)) || fail "$bad of 12 paths did not behave as topology.yaml says (edges: $EDGES)"
}

check_key_without_access() {
  local probe="$APP-verify-key" image answer deadline labels
  image="$(k get deployment "$APP-orders" -o jsonpath='{.spec.template.spec.containers[0].image}')"
  # orders' image and orders' valid key, but not orders' labels (verify-lib.sh).
  start_probe_pod "$probe" "$image" "$APP-orders-api-key" /var/run/secrets/api-key
  local stock; stock="$(url_of inventory)/stock/widget"
  # A new pod may reach the policy engine a moment after it starts: wait for the block.
  deadline=$((SECONDS + 20)); answer="$(call_in_pod "$probe" GET "$stock" own)"
  while [[ "$answer" != 000 ]] && ((SECONDS < deadline)); do sleep 2; answer="$(call_in_pod "$probe" GET "$stock" own)"; done
  note "pod $probe with orders' valid key, not labelled as orders -> inventory: $([[ "$answer" == 000 ]] && echo blocked || echo "HTTP $answer")"
  [[ "$answer" == 000 ]] || fail "a pod that is not orders reached inventory with orders' key (HTTP $answer): is NetworkPolicy enforced?"
  labels="$(k get deployment "$APP-orders" -o jsonpath='{.spec.template.metadata.labels}' | sed 's/[{}"]//g; s/:/=/g; s/,/ /g')"
  # shellcheck disable=SC2086 # one argument per label
  k label pod "$probe" --overwrite $labels >/dev/null
  deadline=$((SECONDS + 30)); answer="$(call_in_pod "$probe" GET "$stock" own)"
  while [[ "$answer" != 200 ]] && ((SECONDS < deadline)); do sleep 2; answer="$(call_in_pod "$probe" GET "$stock" own)"; done
  note "the same pod relabelled as orders -> inventory: HTTP $answer"
  [[ "$answer" == 200 ]] || fail "the positive control failed: relabelled as orders the pod got $answer, so the block proves nothing"
}

check_chain() {
  port_forward "svc/$APP-gateway" 80
  local placed id read
  placed="$(curl -sS -X POST "$FORWARD_URL/api/orders" -H 'Content-Type: application/json' -d '{"sku": "widget", "quantity": 2}')"
  id="$(python3 -c 'import json, sys; o = json.loads(sys.argv[1]); assert o["status"] == "paid", o; print(o["id"])' "$placed")" \
    || fail "placing an order through the gateway answered: $placed"
  note "POST /api/orders: $placed"
  read="$(curl -sS "$FORWARD_URL/api/orders/$id")"
  python3 -c 'import json, sys; r = json.loads(sys.argv[1]); assert r["payment"]["status"] == "authorized" and r["degraded"] == [], r' "$read" \
    || fail "reading the order back answered: $read"
  note "GET /api/orders/$id: payment authorized, not degraded"
  printf '%s\n' "$id" >"$VERIFY_OUT/order-id"
}

# circuit_is STATE: whether the gateway reports its payments circuit in STATE.
circuit_is() {
  [[ "$(curl -sS --max-time 3 "$FORWARD_URL/circuits" | python3 -c 'import json, sys; print(json.load(sys.stdin)["payments"]["state"])')" == "$1" ]]
}

check_breaker() {
  [[ -s "$VERIFY_OUT/order-id" ]] || fail "no order from CHAIN to read"
  port_forward "svc/$APP-gateway" 80
  local id out="$VERIFY_OUT/breaker.tsv" marks="$VERIFY_OUT/breaker-marks.tsv" load_pid replicas
  id="$(cat "$VERIFY_OUT/order-id")"
  replicas="$(k get deployment "$APP-payments" -o jsonpath='{.spec.replicas}')"
  on_exit k scale deployment "$APP-payments" --replicas="$replicas"
  rm -f "$out.stop"
  python3 "$ROOT/scripts/load.py" run "$FORWARD_URL/api/orders/$id" "$out" --concurrency 4 --seconds 600 --timeout 10 &
  load_pid=$!
  on_exit touch "$out.stop"
  printf '%s before\n' "$(date +%s.%N)" >"$marks"
  sleep "$PHASE_SECONDS"
  printf '%s payments-down\n' "$(date +%s.%N)" >>"$marks"
  k scale deployment "$APP-payments" --replicas=0 >/dev/null
  wait_for "the gateway's payments circuit to open" circuit_is open
  printf '%s circuit-open\n' "$(date +%s.%N)" >>"$marks"
  sleep "$PHASE_SECONDS"
  printf '%s payments-back\n' "$(date +%s.%N)" >>"$marks"
  k scale deployment "$APP-payments" --replicas="$replicas" >/dev/null
  k rollout status "deployment/$APP-payments" --timeout="${VERIFY_TIMEOUT}s" >/dev/null
  wait_for "the gateway's payments circuit to close" circuit_is closed
  printf '%s closed-again\n' "$(date +%s.%N)" >>"$marks"
  sleep "$PHASE_SECONDS"
  touch "$out.stop"; wait "$load_pid" || true
  python3 "$ROOT/scripts/load.py" summary "$out" "$marks" | tee "$VERIFY_OUT/breaker-summary.tsv"
  python3 - "$VERIFY_OUT/breaker-summary.tsv" <<'PY' || fail "the numbers do not show the breaker working (see the table above)"
import csv, sys
rows = {r["phase"]: r for r in csv.DictReader(open(sys.argv[1]), delimiter="\t")}
def pct(row): return float(row["error_rate"].rstrip("%"))
problems = []
if pct(rows["circuit-open"]) > 0: problems.append("errors while the circuit was open (the answer should be degraded, not failed)")
if int(rows["circuit-open"]["degraded"]) != int(rows["circuit-open"]["requests"]): problems.append("not every answer was degraded while payments was down")
if float(rows["circuit-open"]["p95_ms"]) > 500: problems.append("slow answers while the circuit was open (no fast failure)")
if int(rows["closed-again"]["degraded"]) != 0 or pct(rows["closed-again"]) > 0: problems.append("still degraded or failing after the circuit closed")
for p in problems: print("FAIL: " + p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
  while IFS=$'\t' read -r phase requests errors degraded p50 p95 max; do
    [[ "$phase" == phase ]] && continue
    note "$phase: $requests requests, errors $errors, degraded $degraded, p50 ${p50} ms, p95 ${p95} ms, max ${max} ms"
  done <"$VERIFY_OUT/breaker-summary.tsv"
}

check_trace() {
  [[ -n "${JAEGER_URL:-}" ]] || skip "JAEGER_URL is not set (Jaeger's query API, e.g. http://127.0.0.1:16686); docs/tracing.md"
  port_forward "svc/$APP-gateway" 80
  local trace parent
  trace="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
  parent="$(python3 -c 'import secrets; print(secrets.token_hex(8))')"
  curl -sS -o /dev/null -X POST "$FORWARD_URL/api/orders" -H 'Content-Type: application/json' \
    -H "traceparent: 00-$trace-$parent-01" -d '{"sku": "widget", "quantity": 1}'
  note "POST /api/orders with traceparent 00-$trace-$parent-01"
  # The services export in batches (every few seconds): wait for all four.
  wait_for "trace $trace with spans of all four services in Jaeger" python3 "$ROOT/scripts/trace_check.py" "$JAEGER_URL" "$trace" "$parent" "$APP"
  python3 "$ROOT/scripts/trace_check.py" "$JAEGER_URL" "$trace" "$parent" "$APP" | while IFS= read -r line; do note "$line"; done
  # The logs name the trace: from a log line to its trace and back.
  local logged
  logged="$(k logs -l "app.kubernetes.io/name=$APP-orders" --tail=500 | grep -c "\"trace_id\": \"$trace\"" || true)"
  ((logged > 0)) || fail "no log line of orders carries trace_id $trace"
  note "orders logged $logged line(s) with trace_id $trace"
}

verify_begin "$APP: microservices with API keys, NetworkPolicies, circuit breakers and tracing"
requirement SERVICES "the four Deployments are Ready, each with its own ServiceAccount" check_services
requirement AUTH "401 without a key, 403 with a wrong or unauthorised key, 200 with the caller's key" check_auth
requirement EDGES "the edges of topology.yaml connect; every other path between the services is blocked" check_edges
requirement KEY-NOT-ACCESS "a valid key does not get a pod through the NetworkPolicies; the right labels do" check_key_without_access
requirement CHAIN "an order through gateway -> orders -> inventory, payments is paid and read back" check_chain
requirement BREAKER "payments down under load: circuit opens, fast degraded answers; back: circuit closes" check_breaker
requirement TRACE "one request is one trace with the spans of every service, in parent/child order" check_trace
verify_end
# {% endraw %}
