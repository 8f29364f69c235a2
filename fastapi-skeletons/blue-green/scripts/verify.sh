#!/usr/bin/env bash
# Proves the brief's blue-green requirements on the cluster kubectl points at, one PASS or
# FAIL per requirement (docs/verify.md shows each command, to run by hand):
#   slots     both slots (Deployments <app>-blue and <app>-green) are fully rolled out
#             and every replica is ready
#   live      the live Service <app> serves the live slot's version only: its
#             EndpointSlices hold that slot's pods only, and every request through it
#             (new connections, spread by kube-proxy) is answered by that version
#   preview   the preview Service <app>-preview does the same for the idle slot
#   health    /health of every pod reports its version and slot, and the version is the
#             one its Deployment's image tag and version label name
#   v2        v2's new features (GET /api/v2/recommendations, the items' rating) answer
#             on green (2.x) only; blue (1.x) answers 404 and no rating
# It changes nothing: run it before and after scripts/bg-switch.sh, it follows the slot
# the Service selects.
#
# Usage: scripts/verify.sh   (after kubectl apply -k k8s/ or overlays/local)
# Env: NAMESPACE (default ${{ values.namespace }}), APP (default ${{ values.name }}), KUBECTL,
#      VERIFY_OUT (default verify-results), VERIFY_TIMEOUT (seconds per wait, default 180),
#      REQUESTS (requests per Service, default 30)
set -euo pipefail
NAMESPACE="${NAMESPACE:-${{ values.namespace }}}"
APP="${APP:-${{ values.name }}}"
# {% raw %} (the rest is bash, rendered unchanged)
REQUESTS="${REQUESTS:-30}"
APP_PORT=8000
# The label whose value names a slot (the portal's rollouts plugin uses the same one).
SLOT_LABEL=app.kubernetes.io/slot
VERSION_LABEL=app.kubernetes.io/version
# shellcheck source=scripts/verify-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/verify-lib.sh"

# --- helpers -----------------------------------------------------------------------------

# slot_of SERVICE: the slot its selector names.
slot_of() { k get service "$1" -o jsonpath="{.spec.selector['${SLOT_LABEL//./\\.}']}"; }

# version_of SLOT: the version its Deployment runs (image tag), checked against its label.
version_of() {
  local image label
  image="$(k get deployment "$APP-$1" -o jsonpath='{.spec.template.spec.containers[0].image}')"
  label="$(k get deployment "$APP-$1" -o jsonpath="{.spec.template.metadata.labels['${VERSION_LABEL//./\\.}']}")"
  [[ "${image##*:}" == "$label" ]] || fail "deployment/$APP-$1 runs $image but is labelled $VERSION_LABEL=$label"
  printf '%s\n' "$label"
}

slot_pods() { ready_pods "app.kubernetes.io/name=$APP,$SLOT_LABEL=$1" | sort; }

# survey POD URL N: N GETs of URL from inside POD, each on a new connection (so kube-proxy
# picks an endpoint for each); prints one line per answer: "<status> <X-App-Version>
# <X-App-Slot> <pod>", or "000 error" when the request failed.
survey() {
  k exec "$1" -- python -c '
import json, sys, urllib.request, urllib.error
url, n = sys.argv[1], int(sys.argv[2])
for _ in range(n):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            body = json.load(r)
            print(r.status, r.headers.get("X-App-Version"), r.headers.get("X-App-Slot"), body.get("pod"))
    except urllib.error.HTTPError as e:
        print(e.code, e.headers.get("X-App-Version"), e.headers.get("X-App-Slot"), "-")
    except Exception as e:
        print("000 error", type(e).__name__)
' "$2" "$3"
}

# endpoint_pods SERVICE: the pods behind the Service's ready endpoints, one per line.
endpoint_pods() {
  k get endpointslices -l "kubernetes.io/service-name=$1" \
    -o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}{.targetRef.name}{"\n"}{end}' | sort -u
}

# --- requirements ------------------------------------------------------------------------

check_slots() {
  local slot spec ready available updated pods
  for slot in blue green; do
    spec="$(k get deployment "$APP-$slot" -o jsonpath='{.spec.replicas}')"
    k rollout status "deployment/$APP-$slot" --timeout="${VERIFY_TIMEOUT}s"
    read -r ready available updated < <(k get deployment "$APP-$slot" \
      -o jsonpath='{.status.readyReplicas} {.status.availableReplicas} {.status.updatedReplicas}{"\n"}')
    pods="$(slot_pods "$slot" | tr '\n' ' ')"
    note "deployment/$APP-$slot ($(version_of "$slot")): spec $spec, updated ${updated:-0}, ready ${ready:-0}, available ${available:-0}; ready pods: $pods"
    ((spec >= 1)) || fail "deployment/$APP-$slot is scaled to 0: a slot must be able to take traffic"
    [[ "${ready:-0}" == "$spec" && "${available:-0}" == "$spec" && "${updated:-0}" == "$spec" ]] \
      || fail "deployment/$APP-$slot: $spec replicas wanted, ${updated:-0} updated, ${ready:-0} ready, ${available:-0} available"
    [[ "$(wc -w <<<"$pods")" -eq "$spec" ]] || fail "not $spec ready pods in slot $slot"
  done
}

# serves_only SERVICE ROLE: the Service's endpoints and answers are one slot's only.
serves_only() {
  local service="$1" role="$2" slot version expected endpoints stray answers port from bad
  slot="$(slot_of "$service")"
  [[ "$slot" == blue || "$slot" == green ]] || fail "service/$service selects $SLOT_LABEL=${slot:-<none>}, not blue or green"
  version="$(version_of "$slot")"
  note "service/$service ($role) selects $SLOT_LABEL=$slot: deployment/$APP-$slot, version $version"
  expected="$(slot_pods "$slot")"
  endpoints="$(endpoint_pods "$service")"
  [[ -n "$endpoints" ]] || fail "service/$service has no ready endpoints"
  stray="$(comm -13 <(printf '%s\n' "$expected") <(printf '%s\n' "$endpoints"))"
  [[ -z "$stray" ]] || fail "service/$service routes to pods outside slot $slot: $stray"
  [[ "$endpoints" == "$expected" ]] \
    || fail "service/$service has endpoints [$(tr '\n' ' ' <<<"$endpoints")], slot $slot has ready pods [$(tr '\n' ' ' <<<"$expected")]"
  note "EndpointSlices of service/$service: $(wc -l <<<"$endpoints") ready endpoints, all slot $slot"
  port="$(k get service "$service" -o jsonpath='{.spec.ports[0].port}')"
  # From a pod of the other slot: the request really goes through the Service.
  from="$(slot_pods "$([[ "$slot" == blue ]] && echo green || echo blue)")"
  [[ -n "$from" ]] || from="$expected"
  from="${from%%$'\n'*}"
  answers="$(survey "$from" "http://$service.$NAMESPACE.svc:$port/api/info" "$REQUESTS")"
  bad="$(awk -v v="$version" -v s="$slot" '!($1 == 200 && $2 == v && $3 == s)' <<<"$answers")"
  note "$REQUESTS GETs of http://$service.$NAMESPACE.svc:$port/api/info from $from: $(awk '{print $1, $2, $3}' <<<"$answers" | sort | uniq -c | awk '{printf "%s x %s %s %s; ", $1, $2, $3, $4}')answered by $(awk '{print $4}' <<<"$answers" | sort -u | wc -l) pod(s)"
  [[ -z "$bad" ]] || fail "service/$service ($role, slot $slot, version $version) gave other answers: $(head -n3 <<<"$bad" | tr '\n' ';')"
}

check_live() { serves_only "$APP" live; }
check_preview() { serves_only "$APP-preview" preview; }

check_health() {
  local slot version pod out
  for slot in blue green; do
    version="$(version_of "$slot")"
    for pod in $(slot_pods "$slot"); do
      out="$(http_in_pod "$pod" "http://127.0.0.1:$APP_PORT/health")"
      [[ "${out%%$'\n'*}" == 200 ]] || fail "GET /health in $pod: ${out:0:200}"
      out="${out#*$'\n'}"
      [[ "$out" == *"\"version\":\"$version\""* && "$out" == *"\"slot\":\"$slot\""* ]] \
        || fail "/health of $pod (slot $slot, image tag $version) says: $out"
      note "$pod: /health $out"
    done
  done
}

check_v2() {
  local slot version pod code items major
  for slot in blue green; do
    version="$(version_of "$slot")"
    major="${version%%.*}"
    pod="$(slot_pods "$slot")"
    pod="${pod%%$'\n'*}"
    [[ -n "$pod" ]] || fail "no ready pod in slot $slot"
    # Whole answers, then the parts: `| head -n1` could end kubectl exec with SIGPIPE.
    code="$(http_in_pod "$pod" "http://127.0.0.1:$APP_PORT/api/v2/recommendations")"
    code="${code%%$'\n'*}"
    items="$(http_in_pod "$pod" "http://127.0.0.1:$APP_PORT/api/items")"
    items="${items#*$'\n'}"
    note "$slot ($version, $pod): GET /api/v2/recommendations -> $code; /api/items $( [[ "$items" == *'"rating"'* ]] && echo with || echo without ) ratings"
    if ((major >= 2)); then
      [[ "$code" == 200 && "$items" == *'"rating"'* ]] || fail "slot $slot runs $version, but the v2 features are missing"
    else
      [[ "$code" == 404 && "$items" != *'"rating"'* ]] || fail "slot $slot runs $version (v1), but answers with v2 features"
    fi
  done
  # The brief's layout: blue is v1, green is v2 with the new features.
  (($(version_of green | cut -d. -f1) >= 2)) || fail "green runs $(version_of green): the new features need major 2 or later"
}

verify_begin "$APP: blue-green deployment (live $(k get service "$APP" -o jsonpath="{.spec.selector['${SLOT_LABEL//./\\.}']}" 2>/dev/null || echo '?'))"
requirement slots "both slots (blue and green) are rolled out and every replica is ready" check_slots
requirement live "the live Service serves the live slot's version only" check_live
requirement preview "the preview Service serves the idle slot's version only" check_preview
requirement health "/health of every pod reports its version and slot" check_health
requirement v2 "v2's new features answer on green only" check_v2
verify_end
# {% endraw %}
