#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2031,SC2317  # markdown backticks; the lib sets _VERIFY_ID per check; helpers called through wait_for
# Proves the brief's probe requirements on the cluster kubectl points at, one PASS, FAIL or
# SKIP per requirement (docs/probes.md shows each command, to run by hand):
#   a-startup    the startup probe holds liveness off during the slow start
#   b-liveness   POST /simulate/unhealthy: liveness restarts the container
#   c-readiness  POST /simulate/unready: the pod's EndpointSlice entry turns ready=false,
#                the other replicas keep serving through the Service; /simulate/recover heals
#   d-results    writes $VERIFY_OUT/probe-scenarios.md: each scenario and what was measured
# b and c need ENABLE_FAILURE_SIMULATION=true on the Deployment: without it they are
# recorded as SKIP with the reason. a restarts the Deployment (kubectl rollout restart);
# b restarts one container; c heals the pod it made unready, even when a check fails.
#
# Usage: scripts/verify.sh   (after kubectl apply -k k8s/ and the rollout)
# Env: NAMESPACE (default ${{ values.namespace }}), APP (default ${{ values.name }}), KUBECTL,
#      VERIFY_OUT (default verify-results), VERIFY_TIMEOUT (seconds per wait, default 180)
set -euo pipefail
NAMESPACE="${NAMESPACE:-${{ values.namespace }}}"
APP="${APP:-${{ values.name }}}"
# {% raw %}
# shellcheck source=scripts/verify-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/verify-lib.sh"

SELECTOR="app.kubernetes.io/name=$APP"

# call POD METHOD PATH: an HTTP request to the app from inside POD, with the app's own
# Python (the namespace's restricted Pod Security refuses a curl pod). Prints
# "<status> <body>".
call() {
  k exec "$1" -- python -c 'import sys, urllib.request as r, urllib.error as e
try: res = r.urlopen(r.Request("http://127.0.0.1:8000" + sys.argv[2], method=sys.argv[1]), timeout=5)
except e.HTTPError as err: res = err
print(res.getcode(), res.read().decode())' "$2" "$3"
}

# Heals a pod the check made unhealthy or unready (an on_exit restore: never fails).
recover() { call "$1" POST /simulate/recover >/dev/null 2>&1 || true; }

pod_field() { k get pod "$1" -o jsonpath="$2"; }
restarts() { pod_field "$1" '{.status.containerStatuses[0].restartCount}'; }
deploy_field() { k get deployment "$APP" -o jsonpath="$1"; }
deploy_env() { deploy_field "{.spec.template.spec.containers[0].env[?(@.name==\"$1\")].value}"; }

# epoch TIMESTAMP: seconds since 1970 of an RFC 3339 UTC time (GNU or BSD date).
epoch() { date -u -d "$1" +%s 2>/dev/null || date -j -u -f '%Y-%m-%dT%H:%M:%SZ' "$1" +%s; }

# probe_events POD PREFIX: how many times the kubelet reported "<PREFIX> probe failed".
probe_events() {
  k get events --field-selector "involvedObject.name=$1,reason=Unhealthy" \
    -o jsonpath='{range .items[*]}{.count}{"\t"}{.message}{"\n"}{end}' \
    | awk -F'\t' -v p="$2 probe failed" 'index($2, p) == 1 { n += ($1 == "" ? 1 : $1) } END { print n + 0 }'
}
killing_events() {
  k get events --field-selector "involvedObject.name=$1,reason=Killing" -o jsonpath='{range .items[*]}{.message}{"\n"}{end}'
}
timeline() { k get events --field-selector "involvedObject.name=$1" --sort-by=.lastTimestamp 2>&1 | tail -n 15; }

all_ready() {
  local want have
  want="$(deploy_field '{.spec.replicas}')"
  have="$(ready_pods "$SELECTOR" | wc -l | tr -d ' ')"
  [[ "$have" -ge "$want" && "$want" -ge 1 ]] && [[ -z "$(terminating_pods)" ]]
}
terminating_pods() {
  k get pods -l "$SELECTOR" -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.metadata.deletionTimestamp}{"\n"}{end}' | awk 'NF == 2 { print $1 }'
}
pod_ready() { [[ "$(pod_field "$1" '{.status.containerStatuses[0].ready}')" == true ]]; }
restarted_since() { [[ "$(restarts "$1")" -gt "$2" ]]; }

simulation_enabled() { [[ "$(deploy_env ENABLE_FAILURE_SIMULATION)" == true ]]; }
need_simulation() {
  simulation_enabled || skip "ENABLE_FAILURE_SIMULATION is not \"true\" on deployment/$APP, so POST /simulate/* answers 404 (the template's \"failure simulation\" option was off); enable it to run this scenario: kubectl -n $NAMESPACE set env deployment/$APP ENABLE_FAILURE_SIMULATION=true"
}

# record LINE...: a line of this scenario's section in probe-scenarios.md.
record() { printf '%s\n' "$@" >>"$VERIFY_OUT/logs/${_VERIFY_ID}.scenario"; }
record_block() { record '```text'; cat >>"$VERIFY_OUT/logs/${_VERIFY_ID}.scenario"; record '```' ''; }

# EndpointSlice rows of the Service: pod <TAB> address <TAB> conditions.ready
endpoints() {
  k get endpointslices -l "kubernetes.io/service-name=$APP" \
    -o jsonpath='{range .items[*].endpoints[*]}{.targetRef.name}{"\t"}{.addresses[0]}{"\t"}{.conditions.ready}{"\n"}{end}'
}
endpoint_is() { endpoints | awk -F'\t' -v p="$1" -v r="$2" '$1 == p && $3 == r { found = 1 } END { exit !found }'; }

check_startup() {
  local delay period threshold initial budget lp lt
  delay="$(deploy_env STARTUP_DELAY_SECONDS)"
  read -r period threshold initial <<<"$(deploy_field '{.spec.template.spec.containers[0].startupProbe.periodSeconds} {.spec.template.spec.containers[0].startupProbe.failureThreshold} {.spec.template.spec.containers[0].startupProbe.initialDelaySeconds}')"
  read -r lp lt <<<"$(deploy_field '{.spec.template.spec.containers[0].livenessProbe.periodSeconds} {.spec.template.spec.containers[0].livenessProbe.failureThreshold}')"
  [[ -n "${period:-}" ]] || fail "deployment/$APP has no startupProbe"
  delay="$(awk -v d="${delay:-0}" 'BEGIN { printf "%d", d }')"   # whole seconds
  budget=$(( ${initial:-0} + period * threshold ))
  record "Given STARTUP_DELAY_SECONDS=${delay} and a startup probe of ${period}s x ${threshold} (budget ${budget}s), liveness ${lp}s x ${lt}," \
    "when the Deployment restarts (\`kubectl -n $NAMESPACE rollout restart deployment/$APP\`)," \
    "then each new container stays not Ready and is not killed during the slow start; the startup probe passes after it; no liveness failure, no restart." ''
  note "slow start ${delay}s, startup probe budget ${period}s x ${threshold} = ${budget}s"
  ((delay > 0)) || skip "STARTUP_DELAY_SECONDS is 0 on deployment/$APP: there is no slow start to hold liveness off (set it, e.g. kubectl -n $NAMESPACE set env deployment/$APP STARTUP_DELAY_SECONDS=15)"
  ((delay < budget)) || note "the slow start (${delay}s) is longer than the startup budget (${budget}s): the kubelet will kill it"

  local old pod="" started ready_at to_ready rc ready deadline startup_fails live_fails ready_fails
  old="$(k get pods -l "$SELECTOR" -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}')"
  k rollout restart "deployment/$APP"
  new_pod() {
    k get pods -l "$SELECTOR" -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.containerStatuses[0].state.running.startedAt}{"\n"}{end}' \
      | awk -v old="$old" 'BEGIN { n = split(old, o, "\n"); for (i = 1; i <= n; i++) seen[o[i]] = 1 } NF == 2 && !($1 in seen) { print $1; exit }'
  }
  has_new_pod() { [[ -n "$(new_pod)" ]]; }
  wait_for "a container of the restarted rollout to start" has_new_pod
  until pod="$(new_pod)"; [[ -n "$pod" ]]; do sleep 1; done
  started="$(pod_field "$pod" '{.status.containerStatuses[0].state.running.startedAt}')"
  note "watching $pod (container started $started)"
  # Poll once a second: a restart during the slow start fails at once.
  deadline=$((SECONDS + budget + VERIFY_TIMEOUT))
  while :; do
    read -r ready rc <<<"$(pod_field "$pod" '{.status.containerStatuses[0].ready} {.status.containerStatuses[0].restartCount}')"
    if [[ "${rc:-0}" != 0 ]]; then
      record "Measured: container restarted during the slow start (restartCount $rc)." ''
      timeline "$pod" | record_block
      fail "$pod was restarted during the slow start (restartCount $rc, last state $(pod_field "$pod" '{.status.containerStatuses[0].lastState.terminated.reason}'), $(killing_events "$pod" | tail -n1)): the startup probe budget ${budget}s is shorter than the ${delay}s slow start"
    fi
    [[ "$ready" == true ]] && break
    ((SECONDS < deadline)) || fail "$pod not Ready $((budget + VERIFY_TIMEOUT))s after it started"
    sleep 1
  done
  ready_at="$(pod_field "$pod" '{.status.conditions[?(@.type=="Ready")].lastTransitionTime}')"
  to_ready=$(( $(epoch "$ready_at") - $(epoch "$started") ))
  startup_fails="$(probe_events "$pod" Startup)"
  live_fails="$(probe_events "$pod" Liveness)"
  ready_fails="$(probe_events "$pod" Readiness)"
  rc="$(restarts "$pod")"
  note "container start -> Ready: ${to_ready}s (slow start ${delay}s, budget ${budget}s)"
  note "events: ${startup_fails} startup probe failures, ${live_fails} liveness, ${ready_fails} readiness, restartCount $rc"
  record "Measured on \`$pod\`:" '' \
    "| container started | Ready | start -> Ready | startup probe failures | liveness failures | restartCount |" \
    "| --- | --- | ---: | ---: | ---: | ---: |" \
    "| $started | $ready_at | ${to_ready} s | ${startup_fails} | ${live_fails} | $rc |" ''
  timeline "$pod" | record_block
  ((to_ready >= delay - 1)) || fail "$pod was Ready ${to_ready}s after start, before the ${delay}s slow start ended"
  ((startup_fails >= 1)) || fail "no 'Startup probe failed' event for $pod: the startup probe did not hold it during the slow start"
  ((live_fails == 0)) || fail "$live_fails liveness probe failures during the start of $pod"
  ((rc == 0)) || fail "$pod restarted $rc times during the start"
  k rollout status "deployment/$APP" --timeout="${VERIFY_TIMEOUT}s"
  wait_for "every replica ready, no pod terminating" all_ready
}

check_liveness() {
  need_simulation
  wait_for "every replica ready, no pod terminating" all_ready
  local pod lp lt rc0 t0 out elapsed reason code finished live_fails killing
  # The Ready pod restarted least: a container restarted often waits in back-off first.
  pod="$(k get pods -l "$SELECTOR" -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.containerStatuses[0].restartCount}{" "}{.status.containerStatuses[0].ready}{"\n"}{end}' \
    | awk '$3 == "true"' | sort -k2,2n | awk '{ print $1; exit }')"
  read -r lp lt <<<"$(pod_field "$pod" '{.spec.containers[0].livenessProbe.periodSeconds} {.spec.containers[0].livenessProbe.failureThreshold}')"
  rc0="$(restarts "$pod")"
  record "Given \`$pod\` Ready with restartCount $rc0 and a liveness probe of ${lp}s x ${lt}," \
    "when it reports itself broken (POST /simulate/unhealthy: /health answers 500)," \
    "then the kubelet restarts the container (restartCount +1, lastState.terminated), and the new process is healthy." ''
  on_exit recover "$pod"
  out="$(call "$pod" POST /simulate/unhealthy)"
  t0=$SECONDS
  [[ "$out" == 200* ]] || fail "POST /simulate/unhealthy on $pod answered: $out"
  out="$(call "$pod" GET /health)"
  note "GET /health on $pod: $out"
  [[ "$out" == 500* ]] || fail "/health still answers ${out%% *} after /simulate/unhealthy"
  wait_for "restartCount of $pod above $rc0" restarted_since "$pod" "$rc0"
  elapsed=$((SECONDS - t0))
  read -r reason code finished <<<"$(pod_field "$pod" '{.status.containerStatuses[0].lastState.terminated.reason} {.status.containerStatuses[0].lastState.terminated.exitCode} {.status.containerStatuses[0].lastState.terminated.finishedAt}')"
  live_fails="$(probe_events "$pod" Liveness)"
  killing="$(killing_events "$pod" | grep -i liveness | tail -n1 || true)"
  note "restarted ${elapsed}s after /simulate/unhealthy (liveness ${lp}s x ${lt} = $((lp * lt))s, plus the graceful stop), restartCount $rc0 -> $(restarts "$pod")"
  note "lastState.terminated: reason ${reason:-?}, exitCode ${code:-?}, finishedAt ${finished:-?}, ${live_fails} liveness failures, ${killing:-no Killing event}"
  [[ -n "$killing" ]] || fail "no 'failed liveness probe' Killing event for $pod: something else restarted it"
  ((elapsed >= (lt - 1) * lp)) || fail "restarted after ${elapsed}s, sooner than ${lt} liveness failures ${lp}s apart"
  wait_for "$pod Ready again" pod_ready "$pod"
  out="$(call "$pod" GET /health)"
  note "after the restart GET /health: $out"
  [[ "$out" == 200* ]] || fail "/health of the restarted container answers: $out"
  record "Measured on \`$pod\`:" '' \
    "| restart after | probe budget (period x failures) | restartCount | lastState.terminated | liveness failures |" \
    "| ---: | ---: | --- | --- | ---: |" \
    "| ${elapsed} s | ${lp} s x ${lt} = $((lp * lt)) s | $rc0 -> $(restarts "$pod") | ${reason:-?} (exit ${code:-?}) at ${finished:-?} | ${live_fails} |" ''
  timeline "$pod" | record_block
}

check_readiness() {
  need_simulation
  wait_for "every replica ready, no pod terminating" all_ready
  local pods pod rp rt rc0 t0 elapsed out served answer row
  mapfile -t pods < <(ready_pods "$SELECTOR")
  [[ "${pods[1]:-}" ]] || fail "only ${pods[0]:-no pod} is Ready: two replicas are needed to show the others keep serving"
  pod="${pods[0]}"
  read -r rp rt <<<"$(pod_field "$pod" '{.spec.containers[0].readinessProbe.periodSeconds} {.spec.containers[0].readinessProbe.failureThreshold}')"
  rc0="$(restarts "$pod")"
  row="$(endpoints | awk -F'\t' -v p="$pod" '$1 == p')"
  note "before: EndpointSlice entry of $pod: $(printf '%s' "${row:-none}" | tr '\t' ' ')"
  endpoint_is "$pod" true || fail "$pod is not ready=true in the EndpointSlices of service/$APP: $(endpoints | tr '\t\n' ' ;')"
  record "Given \`$pod\` and $(( ${#pods[@]} - 1 )) other Ready replica(s) behind service/$APP, readiness ${rp}s x ${rt}," \
    "when it reports not ready (POST /simulate/unready: /ready answers 503)," \
    "then its EndpointSlice entry stays with \`conditions.ready: false\`, nothing restarts, the Service answers from the other replicas; after POST /simulate/recover it is ready again." ''
  on_exit recover "$pod"
  out="$(call "$pod" POST /simulate/unready)"
  t0=$SECONDS
  [[ "$out" == 200* ]] || fail "POST /simulate/unready on $pod answered: $out"
  wait_for "$pod's EndpointSlice entry to be conditions.ready=false" endpoint_is "$pod" false
  elapsed=$((SECONDS - t0))
  row="$(endpoints | awk -F'\t' -v p="$pod" '$1 == p')"
  note "after ${elapsed}s (readiness ${rp}s x ${rt} = $((rp * rt))s): $(printf '%s' "$row" | tr '\t' ' ')"
  [[ "$(restarts "$pod")" == "$rc0" ]] || fail "$pod was restarted: readiness must not restart it"
  # kube-proxy on each node follows the EndpointSlice a moment later (its sync period),
  # so the Service may route to the pod for a short while: wait for 6 answers in a row
  # from the other replicas, and report how long it took and how many reached the pod.
  local in_a_row=0 reached=0 sent=0
  served="" t0=$SECONDS
  while ((in_a_row < 6)); do
    ((SECONDS - t0 < 30)) || fail "service/$APP still sent requests to the unready $pod 30s after its EndpointSlice entry was ready=false ($reached of $sent reached it)"
    out="$(http_in_pod "${pods[1]}" "http://$APP/")"
    sent=$((sent + 1))
    [[ "$(head -n1 <<<"$out")" == 200 ]] || fail "request $sent to service/$APP from ${pods[1]}: $(head -c 200 <<<"$out")"
    answer="$(grep -o '"pod": *"[^"]*"' <<<"$out" | sed 's/.*"\([^"]*\)"$/\1/')"
    if [[ "$answer" == "$pod" ]]; then
      reached=$((reached + 1)) in_a_row=0 served=""
    else
      in_a_row=$((in_a_row + 1)) served="$served $answer"
    fi
  done
  note "service/$APP stopped routing to $pod $((SECONDS - t0))s after its entry was ready=false ($reached of $sent requests reached it first); the last 6 (from ${pods[1]}) answered by:$served"
  record "Measured on \`$pod\`:" '' \
    "| ready=false after | probe budget (period x failures) | entry in the slice | restartCount | Service answers (6 requests) |" \
    "| ---: | ---: | --- | --- | --- |" \
    "| ${elapsed} s | ${rp} s x ${rt} = $((rp * rt)) s | $(printf '%s' "$row" | awk -F'\t' '{ print $2 ", ready " $3 }') | $rc0 -> $(restarts "$pod") | all 200, from${served} |" '' \
    "kube-proxy routed ${reached} of the first ${sent} requests to the unready pod before it followed the EndpointSlice."
  out="$(call "$pod" POST /simulate/recover)"
  [[ "$out" == 200* ]] || fail "POST /simulate/recover on $pod answered: $out"
  t0=$SECONDS
  wait_for "$pod's EndpointSlice entry to be conditions.ready=true" endpoint_is "$pod" true
  elapsed=$((SECONDS - t0))
  note "POST /simulate/recover: ready=true again after ${elapsed}s"
  record '' "After POST /simulate/recover the entry was \`ready: true\` again after ${elapsed} s." ''
  endpoints | record_block
}

check_results() {
  local file="$VERIFY_OUT/probe-scenarios.md" id result title missing=""
  {
    printf '# Probe test scenarios: recorded results\n\n'
    printf 'Written by `scripts/verify.sh` on %s against namespace `%s` (context `%s`).\n\n' \
      "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$NAMESPACE" "$("$KUBECTL" config current-context 2>/dev/null || echo in-cluster)"
    printf '## Probe configuration (from deployment/%s)\n\n| probe | path | period | timeout | failureThreshold |\n| --- | --- | ---: | ---: | ---: |\n' "$APP"
    k get deployment "$APP" -o jsonpath='{range .spec.template.spec.containers[0]}| startupProbe | {.startupProbe.httpGet.path} | {.startupProbe.periodSeconds} s | {.startupProbe.timeoutSeconds} s | {.startupProbe.failureThreshold} |{"\n"}| livenessProbe | {.livenessProbe.httpGet.path} | {.livenessProbe.periodSeconds} s | {.livenessProbe.timeoutSeconds} s | {.livenessProbe.failureThreshold} |{"\n"}| readinessProbe | {.readinessProbe.httpGet.path} | {.readinessProbe.periodSeconds} s | {.readinessProbe.timeoutSeconds} s | {.readinessProbe.failureThreshold} |{"\n"}{end}'
    printf '\nSTARTUP_DELAY_SECONDS=%s, ENABLE_FAILURE_SIMULATION=%s\n' "$(deploy_env STARTUP_DELAY_SECONDS)" "$(deploy_env ENABLE_FAILURE_SIMULATION)"
    while IFS=$'\t' read -r id result title; do
      printf '\n## %s: %s (%s)\n\n' "$id" "$title" "$result"
      [[ -s "$VERIFY_OUT/logs/$id.scenario" ]] && cat "$VERIFY_OUT/logs/$id.scenario"
      if [[ "$result" != PASS ]]; then
        grep -E '^(FAIL|SKIP): ' "$VERIFY_OUT/logs/$id.log" | tail -n1 || true
      fi
    done <"$VERIFY_OUT/results.tsv"
  } >"$file"
  for id in a-startup b-liveness c-readiness; do
    grep -q "^## $id: .* (\(PASS\|FAIL\|SKIP\))$" "$file" || missing="$missing $id"
  done
  [[ -z "$missing" ]] || fail "no recorded result for:$missing"
  note "wrote $file ($(grep -c '^## [a-c]-' "$file") scenarios)"
}

verify_begin "Probe requirements of $APP (Easy Deploy 4)"
requirement a-startup "the startup probe holds liveness off during the slow start" check_startup
requirement b-liveness "a failing liveness probe restarts the container" check_liveness
requirement c-readiness "a failing readiness probe takes the pod out of the Service, not out of the EndpointSlice" check_readiness
requirement d-results "the scenarios and their measured results are recorded in probe-scenarios.md" check_results
verify_end
# {% endraw %}
