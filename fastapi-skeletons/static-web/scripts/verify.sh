#!/usr/bin/env bash
# Proves the brief's requirements on the cluster kubectl points at (docs/verify.md shows
# each command): 3 replicas ready; the page served through the Service is the ConfigMap's
# page; a changed ConfigMap is served without a restart (restored afterwards); a
# screenshot of the served page. Deploy first (kubectl apply -k k8s/ or overlays/local).
#
#   scripts/verify.sh                   # PASS/FAIL per requirement, exit 0 when all pass
#   NAMESPACE=other scripts/verify.sh   # another namespace
#
# Needs kubectl, curl and, for the screenshot, Chromium or Chrome (CHROME=/path/to/it).
# Results: verify-results/ (VERIFY_OUT): results.md, results.tsv, logs/, static-web.png.
# Waits at most VERIFY_TIMEOUT seconds (default 180) for each change to show.
set -euo pipefail

NAMESPACE="${NAMESPACE:-${{ values.namespace }}}"
APP=${{ values.name }}
CONFIGMAP=${{ values.name }}-config
SELECTOR=app.kubernetes.io/name=${{ values.name }}
# What k8s/deployment.yaml asks for (the brief: 3).
EXPECTED_REPLICAS="${EXPECTED_REPLICAS:-${{ values.replicas }}}"
# {% raw %} (the rest is bash, rendered unchanged)
APP_PORT=8000
source "$(dirname "${BASH_SOURCE[0]}")/verify-lib.sh"
command -v curl >/dev/null 2>&1 || { echo "verify: curl not found: install it" >&2; exit 2; }

# --- helpers -----------------------------------------------------------------------------

# The page as the ConfigMap holds it (the mounted file /srv/content/index.html).
configmap_page() { k get configmap "$CONFIGMAP" -o jsonpath='{.data.index\.html}'; }

# matching_pod PAGE BODY: the pod whose rendering of PAGE is BODY (the app fills in
# __POD_NAME__ and __APP_VERSION__), or status 1. Uses PODS and VERSION.
matching_pod() {
  local page="$1" body="$2" pod expected
  for pod in $PODS; do
    expected="${page//__POD_NAME__/$pod}"
    expected="${expected//__APP_VERSION__/$VERSION}"
    if [[ "$body" == "$expected" ]]; then printf '%s\n' "$pod"; return 0; fi
  done
  return 1
}

# get_in_pod POD URL: the body of a 200 answer to GET URL from inside POD, else status 1.
get_in_pod() {
  local out
  out="$(http_in_pod "$1" "$2")" || return 1
  [[ "${out%%$'\n'*}" == 200 ]] || { printf 'GET %s from %s: %s\n' "$2" "$1" "${out:0:200}" >&2; return 1; }
  printf '%s' "${out#*$'\n'}"
}

# load_pods: PODS = the ready pods of the Deployment, VERSION = the version they report.
load_pods() {
  PODS="$(ready_pods "$SELECTOR" | sort | tr '\n' ' ')"
  [[ -n "$PODS" ]] || fail "no ready pod matches $SELECTOR"
  local info
  info="$(get_in_pod "${PODS%% *}" "http://127.0.0.1:$APP_PORT/api/info")" || fail "GET /api/info failed in ${PODS%% *}"
  VERSION="$(printf '%s' "$info" | sed -n 's/.*"version": *"\([^"]*\)".*/\1/p')"
  [[ -n "$VERSION" ]] || fail "/api/info shows no version: $info"
}

# every_pod_serves PAGE: each ready pod answers GET / (on its own port) with PAGE.
every_pod_serves() {
  local page="$1" pod body
  for pod in $PODS; do
    body="$(get_in_pod "$pod" "http://127.0.0.1:$APP_PORT/")" || return 1
    [[ "$(matching_pod "$page" "$body")" == "$pod" ]] || return 1
  done
}

# --- requirements ------------------------------------------------------------------------

check_replicas() {
  local spec ready available endpoints
  spec="$(k get deployment "$APP" -o jsonpath='{.spec.replicas}')"
  note "kubectl get deployment $APP: spec.replicas=$spec (k8s/deployment.yaml: $EXPECTED_REPLICAS)"
  [[ "$spec" == "$EXPECTED_REPLICAS" ]] \
    || fail "deployment/$APP asks for $spec replicas, the repository's k8s/deployment.yaml for $EXPECTED_REPLICAS"
  k rollout status "deployment/$APP" --timeout="${VERIFY_TIMEOUT}s"
  read -r ready available < <(k get deployment "$APP" -o jsonpath='{.status.readyReplicas} {.status.availableReplicas}{"\n"}')
  note "status: readyReplicas=${ready:-0} availableReplicas=${available:-0}"
  [[ "${ready:-0}" == "$spec" && "${available:-0}" == "$spec" ]] \
    || fail "$spec replicas wanted, ${ready:-0} ready and ${available:-0} available"
  note "ready pods: $(ready_pods "$SELECTOR" | sort | tr '\n' ' ')"
  [[ "$(ready_pods "$SELECTOR" | wc -l)" -eq "$spec" ]] || fail "not $spec ready pods match $SELECTOR"
  # The Service sends traffic to ready endpoints only: all of them must be there.
  endpoints="$(k get endpointslices -l "kubernetes.io/service-name=$APP" \
    -o jsonpath='{range .items[*].endpoints[*]}{.conditions.ready}{"\n"}{end}' | grep -c '^true$' || true)"
  note "service/$APP EndpointSlices: $endpoints ready endpoints"
  [[ "$endpoints" -eq "$spec" ]] || fail "service/$APP has $endpoints ready endpoints, not $spec"
}

check_content() {
  local page port type body pod lb seen=""
  page="$(configmap_page)"
  [[ -n "$page" ]] || fail "configmap/$CONFIGMAP has no index.html"
  note "configmap/$CONFIGMAP index.html: $(printf '%s\n' "$page" | wc -l) lines, title: $(printf '%s' "$page" | sed -n 's:.*<h1>\(.*\)</h1>.*:\1:p' | head -n1)"
  load_pods
  type="$(k get service "$APP" -o jsonpath='{.spec.type}')"
  port="$(k get service "$APP" -o jsonpath='{.spec.ports[0].port}')"
  [[ "$type" == LoadBalancer ]] || fail "service/$APP is of type $type, not LoadBalancer"

  # 1. kubectl port-forward service/APP (kubectl picks one of its pods).
  port_forward "service/$APP" "$port"
  body="$(curl -fsS --max-time 10 "$FORWARD_URL/")" || fail "curl $FORWARD_URL/ (port-forward to service/$APP) failed"
  pod="$(matching_pod "$page" "$body")" || fail "the page served through port-forward is not the ConfigMap's index.html"
  note "port-forward service/$APP: GET / = the ConfigMap's page (served by $pod)"

  # 2. The Service's DNS name from inside a pod: kube-proxy spreads the requests.
  for _ in 1 2 3 4 5 6; do
    body="$(get_in_pod "${PODS%% *}" "http://$APP.$NAMESPACE.svc:$port/")" \
      || fail "GET http://$APP.$NAMESPACE.svc:$port/ from ${PODS%% *} failed"
    pod="$(matching_pod "$page" "$body")" || fail "the page served at http://$APP.$NAMESPACE.svc:$port/ is not the ConfigMap's index.html"
    seen+="$pod"$'\n'
  done
  note "http://$APP.$NAMESPACE.svc:$port/ from inside ${PODS%% *}: 6 x the ConfigMap's page, answered by $(printf '%s' "$seen" | sort -u | wc -l) pod(s)"

  # 3. The LoadBalancer's address, when the cluster has a load-balancer implementation.
  lb="$(k get service "$APP" -o jsonpath='{.status.loadBalancer.ingress[0].ip}{.status.loadBalancer.ingress[0].hostname}')"
  if [[ -z "$lb" ]]; then
    note "LoadBalancer EXTERNAL-IP pending: this cluster has no load-balancer implementation (kind without cloud-provider-kind, minikube without tunnel); checked through port-forward and the Service's DNS name"
    return 0
  fi
  [[ "$lb" == *:* ]] && lb="[$lb]"
  body="$(curl -fsS --max-time 10 "http://$lb:$port/")" || fail "curl http://$lb:$port/ (the LoadBalancer's address) failed"
  pod="$(matching_pod "$page" "$body")" || fail "the page served at http://$lb:$port/ is not the ConfigMap's index.html"
  note "LoadBalancer http://$lb:$port/: the ConfigMap's page (served by $pod)"
}

# What docs/verify.md tells the user: the kubelet refreshes the mounted file and the app
# re-reads it; no restart. The original page is put back even when the check fails.
check_configmap_update() {
  local tmp original changed marker body restarts_before restarts_after
  tmp="$(mktemp -d)"
  on_exit rm -rf "$tmp"
  configmap_page >"$tmp/original.html"
  original="$(cat "$tmp/original.html")"
  [[ "$original" == *"</h1>"* ]] || fail "configmap/$CONFIGMAP index.html has no </h1> to put the marker after"
  load_pods
  restarts_before="$(pod_restarts)"
  marker="verify-$(date +%s)-$RANDOM"
  changed="${original/"</h1>"/"</h1><p id=\"verify-marker\">$marker</p>"}"
  printf '%s\n' "$changed" >"$tmp/changed.html"
  port_forward "service/$APP" "$(k get service "$APP" -o jsonpath='{.spec.ports[0].port}')"

  on_exit restore_page "$tmp/original.html"
  set_page "$tmp/changed.html"
  note "kubectl patch configmap $CONFIGMAP: marker $marker added after the <h1>"
  wait_for "all $(wc -w <<<"$PODS") pods to serve the marker" every_pod_serves "$changed"
  body="$(curl -fsS --max-time 10 "$FORWARD_URL/")" || fail "GET / through service/$APP failed"
  [[ "$body" == *"$marker"* ]] || fail "the marker is not served through service/$APP"
  note "every pod serves the marker, and so does service/$APP"
  restarts_after="$(pod_restarts)"
  [[ "$restarts_after" == "$restarts_before" ]] \
    || fail "pods or restart counts changed: before [$restarts_before], after [$restarts_after]"
  note "no restart: same pods, same restart counts ($restarts_after)"
}

pod_restarts() {
  k get pods -l "$SELECTOR" -o jsonpath='{range .items[*]}{.metadata.name}={.status.containerStatuses[0].restartCount}{" "}{end}'
}

# set_page FILE: the ConfigMap's index.html becomes FILE's content (kubectl builds the
# JSON of the merge patch; the other keys stay as they are).
set_page() {
  local data
  data="$("$KUBECTL" create configmap "$CONFIGMAP" --from-file="index.html=$1" --dry-run=client -o jsonpath='{.data}')"
  printf '{"data":%s}\n' "$data" >"$1.patch.json"
  k patch configmap "$CONFIGMAP" --type merge --patch-file "$1.patch.json"
}

restore_page() {
  local original
  set_page "$1"
  original="$(cat "$1")"
  [[ "$(configmap_page)" == "$original" ]] || fail "configmap/$CONFIGMAP was not restored"
  note "configmap/$CONFIGMAP restored"
  load_pods
  wait_for "all pods to serve the original page again" every_pod_serves "$original"
}

check_screenshot() {
  local file="$VERIFY_OUT/static-web.png" title dom browser profile
  title="$(configmap_page | sed -n 's:.*<h1>\(.*\)</h1>.*:\1:p' | head -n1)"
  port_forward "service/$APP" "$(k get service "$APP" -o jsonpath='{.spec.ports[0].port}')"
  rm -f "$file"
  screenshot "$FORWARD_URL/" "$file"
  [[ "$(head -c 4 "$file" | tail -c 3)" == PNG ]] || fail "$file is not a PNG"
  note "screenshot of $FORWARD_URL/ (port-forward to service/$APP): $file, $(wc -c <"$file") bytes"
  # The browser got the page, not an error page: its DOM has the ConfigMap's heading
  # (serialized as browsers do: quotes unescaped, <, > and & escaped).
  title="${title//&#39;/\'}"
  title="${title//&quot;/\"}"
  browser="$(chrome)"
  profile="$(mktemp -d)"
  dom="$("$browser" --headless --no-sandbox --disable-gpu --no-first-run --disable-sync \
    --user-data-dir="$profile" --dump-dom "$FORWARD_URL/" 2>/dev/null)" || true
  rm -rf "$profile"
  [[ -n "$title" && "$dom" == *"<h1>$title</h1>"* ]] \
    || fail "the browser did not render the ConfigMap's heading <h1>$title</h1>"
  note "the browser rendered <h1>$title</h1>"
}

verify_begin "$APP: static web app (ConfigMap page, $EXPECTED_REPLICAS replicas, LoadBalancer)"
requirement replicas "$EXPECTED_REPLICAS replicas are ready behind the Service" check_replicas
requirement content "the page served through the Service is the ConfigMap's page" check_content
requirement configmap-update "a changed ConfigMap is served without a restart" check_configmap_update
requirement screenshot "a screenshot of the served page" check_screenshot
verify_end
# {% endraw %}
