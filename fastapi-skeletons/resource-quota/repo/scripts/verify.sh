#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2031,SC2317  # markdown backticks; the lib sets _VERIFY_ID per check; helpers called through wait_for
# Proves the brief's resource requirements on the cluster kubectl points at, one PASS or
# FAIL per requirement (docs/resources.md shows each command, to run by hand):
#   a-limits      the memory app's requests/limits from the running pod are what the kernel
#                 enforces: the container's cgroup memory (and CPU) limit equals the limit
#   b-oomkill     an allocation past the memory limit is OOMKilled (exit code 137), the
#                 container restarts and the pod becomes Ready again
#   c-quota       one replica more than the ResourceQuota allows is refused with the API
#                 server's "exceeded quota" message (the ReplicaSet's FailedCreate)
#   d-second-app  the second app runs with every replica ready, quota used <= hard
# Writes $VERIFY_OUT/quota-results.md (used/hard, the OOM evidence, the refusal message).
# b restarts one memory-app container; c scales the memory app up by one and back, even
# when a check fails.
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

MEMORY_APP="$APP-memory-app"
SECOND_APP="$APP-second-app"
MIB=1048576

# call POD METHOD PATH [TIMEOUT]: an HTTP request to the app from inside POD, with the
# app's own Python (the namespace's restricted Pod Security refuses a curl pod). Prints
# "<status> <body>".
call() {
  k exec "$1" -- python -c 'import sys, urllib.request as r, urllib.error as e
try: res = r.urlopen(r.Request("http://127.0.0.1:8000" + sys.argv[2], method=sys.argv[1]), timeout=float(sys.argv[3]))
except e.HTTPError as err: res = err
print(res.getcode(), res.read().decode())' "$2" "$3" "${4:-10}"
}

pod_field() { k get pod "$1" -o jsonpath="$2"; }
restarts() { pod_field "$1" '{.status.containerStatuses[0].restartCount}'; }
pod_ready() { [[ "$(pod_field "$1" '{.status.containerStatuses[0].ready}')" == true ]]; }
restarted_since() { [[ "$(restarts "$1")" -gt "$2" ]]; }
# killed_since POD RESTARTS FINISHED: the container was restarted, or ended after FINISHED
# and waits in back-off (the kubelet delays restarts of a container that keeps failing).
killed_since() {
  local rc finished
  read -r rc finished <<<"$(pod_field "$1" '{.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].state.terminated.finishedAt}{.status.containerStatuses[0].lastState.terminated.finishedAt}')"
  [[ "$rc" -gt "$2" || ( -n "$finished" && "$finished" != "$3" ) ]]
}
# The memory-app pod restarted least (no back-off before its restart).
memory_pod_fresh() {
  k get pods -l "app.kubernetes.io/name=$MEMORY_APP" -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.containerStatuses[0].restartCount}{" "}{.status.containerStatuses[0].ready}{"\n"}{end}' \
    | awk '$3 == "true"' | sort -k2,2n | awk '{ print $1; exit }'
}
memory_pod() { ready_pods "app.kubernetes.io/name=$MEMORY_APP" | head -n1; }
no_terminating_pods() { [[ -z "$(k get pods -o jsonpath='{.items[*].metadata.deletionTimestamp}')" ]]; }
has_memory_pod() { [[ -n "$(memory_pod)" ]]; }
ready_replicas() { [[ "$(k get deployment "$1" -o jsonpath='{.status.readyReplicas}')" == "$2" ]]; }

# qty QUANTITY: a Kubernetes quantity in base units (cores, bytes), e.g. 500m -> 0.5.
qty() {
  awk -v q="$1" 'BEGIN {
    u = q; sub(/^[0-9.]+/, "", u)
    m[""] = 1; m["m"] = 0.001; m["k"] = 1e3; m["M"] = 1e6; m["G"] = 1e9; m["T"] = 1e12
    m["Ki"] = 1024; m["Mi"] = 1048576; m["Gi"] = 1073741824; m["Ti"] = 1099511627776
    if (!(u in m)) { print "bad quantity " q > "/dev/stderr"; exit 1 }
    printf "%.3f\n", (q + 0) * m[u] }'
}
same() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; exit !(d < 0.001 && d > -0.001) }'; }

# record LINE...: lines of this requirement's section in quota-results.md.
record() { printf '%s\n' "$@" >>"$VERIFY_OUT/logs/${_VERIFY_ID}.results"; }
record_block() { record '```text'; cat >>"$VERIFY_OUT/logs/${_VERIFY_ID}.results"; record '```' ''; }

quota_name() { k get resourcequota -o jsonpath='{.items[*].metadata.name}' | awk '{ print $1 }'; }
# quota_table: the "Resource Used Hard" rows of kubectl describe resourcequota.
quota_table() { k describe resourcequota "$1" | awk '/^--------/ { rows = 1; next } rows && NF == 3'; }

check_limits() {
  local pod req_cpu req_mem lim_cpu lim_mem qos node mem cg quota period cpus shares
  wait_for "a Ready pod of deployment/$MEMORY_APP" has_memory_pod
  pod="$(memory_pod)"
  read -r req_cpu req_mem lim_cpu lim_mem qos node <<<"$(pod_field "$pod" '{.spec.containers[0].resources.requests.cpu} {.spec.containers[0].resources.requests.memory} {.spec.containers[0].resources.limits.cpu} {.spec.containers[0].resources.limits.memory} {.status.qosClass} {.spec.nodeName}')"
  [[ -n "${lim_mem:-}" ]] || fail "$pod has no memory limit"
  note "$pod (node $node, QoS $qos): requests cpu $req_cpu, memory $req_mem, limits cpu $lim_cpu, memory $lim_mem"
  # cgroup v2 (one unified tree), else cgroup v1 (one tree per controller).
  if mem="$(k exec "$pod" -- cat /sys/fs/cgroup/memory.max 2>/dev/null)"; then
    cg=v2
    read -r quota period <<<"$(k exec "$pod" -- cat /sys/fs/cgroup/cpu.max)"
    shares="cpu.weight $(k exec "$pod" -- cat /sys/fs/cgroup/cpu.weight)"
  else
    cg=v1
    mem="$(k exec "$pod" -- cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"
    quota="$(k exec "$pod" -- cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us)"
    period="$(k exec "$pod" -- cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"
    shares="cpu.shares $(k exec "$pod" -- cat /sys/fs/cgroup/cpu/cpu.shares)"
  fi
  cpus="$(awk -v q="$quota" -v p="$period" 'BEGIN { if (q == "max" || q < 0) print "unlimited"; else printf "%.3f\n", q / p }')"
  note "cgroup $cg inside the container: memory limit $mem bytes ($(awk -v b="$mem" -v m="$MIB" 'BEGIN { printf "%.0f", b / m }')Mi), cpu $quota/$period = $cpus CPU, $shares"
  record "Pod \`$pod\` on node \`$node\`, QoS class $qos, cgroup $cg:" '' \
    '| | pod spec | inside the container (cgroup) |' '| --- | --- | --- |' \
    "| memory limit | $lim_mem = $(qty "$lim_mem" | cut -d. -f1) bytes | $mem bytes |" \
    "| CPU limit | $lim_cpu | $quota / $period = $cpus CPU |" \
    "| CPU request | $req_cpu | $shares (relative weight; the scheduler reserves the request) |" \
    "| memory request | $req_mem | not a cgroup limit: the scheduler reserves it, the quota counts it |" ''
  same "$mem" "$(qty "$lim_mem")" || fail "the container's cgroup memory limit is $mem bytes, the pod's limit $lim_mem is $(qty "$lim_mem") bytes"
  if [[ -n "${lim_cpu:-}" ]]; then
    same "$cpus" "$(qty "$lim_cpu")" || fail "the container's cgroup CPU limit is $cpus CPU, the pod's limit is $lim_cpu"
  fi
}

check_oomkill() {
  local pod lim_mem max mb rc0 out t0 reason code finished finished0
  wait_for "a Ready pod of deployment/$MEMORY_APP" has_memory_pod
  pod="$(memory_pod_fresh)"
  lim_mem="$(pod_field "$pod" '{.spec.containers[0].resources.limits.memory}')"
  [[ -n "$lim_mem" ]] || fail "$pod has no memory limit: nothing would OOM-kill it"
  # 64 MiB more than the whole limit: with the interpreter's own ~100 MiB it cannot fit.
  mb=$(( $(qty "$lim_mem" | cut -d. -f1) / MIB + 64 ))
  max="$(pod_field "$pod" '{.spec.containers[0].env[?(@.name=="MAX_ALLOCATION_MB")].value}')"
  [[ -z "$max" || "$mb" -le "$max" ]] || fail "POST /allocate?mb=$mb would be refused: MAX_ALLOCATION_MB is $max"
  rc0="$(restarts "$pod")"
  finished0="$(pod_field "$pod" '{.status.containerStatuses[0].lastState.terminated.finishedAt}')"
  out="$(call "$pod" GET /memory)"
  note "$pod before (limit $lim_mem, restartCount $rc0): GET /memory -> $out"
  t0=$SECONDS
  # The kernel kills the process mid-request: no HTTP answer, and kubectl exec ends with
  # an error. Both are expected here.
  out="$(call "$pod" POST "/allocate?mb=$mb" 120 2>&1 || true)"
  note "POST /allocate?mb=$mb -> $(tail -n1 <<<"$out" | head -c 200)"
  [[ "$out" != 200* ]] || fail "the ${mb} MiB allocation fitted under the ${lim_mem} limit: nothing was OOM-killed"
  wait_for "the container of $pod to end" killed_since "$pod" "$rc0" "$finished0"
  # Ended and not yet restarted: state.terminated; restarted: lastState.terminated.
  read -r reason code finished <<<"$(pod_field "$pod" '{.status.containerStatuses[0].state.terminated.reason} {.status.containerStatuses[0].state.terminated.exitCode} {.status.containerStatuses[0].state.terminated.finishedAt}')"
  if [[ -z "$reason" ]]; then
    read -r reason code finished <<<"$(pod_field "$pod" '{.status.containerStatuses[0].lastState.terminated.reason} {.status.containerStatuses[0].lastState.terminated.exitCode} {.status.containerStatuses[0].lastState.terminated.finishedAt}')"
  fi
  note "terminated: reason $reason, exitCode $code, finishedAt $finished ($((SECONDS - t0))s after the request)"
  [[ "$reason" == OOMKilled ]] || fail "the container ended with reason '$reason', not OOMKilled"
  [[ "$code" == 137 ]] || fail "the container's exit code was $code, not 137 (SIGKILL)"
  # A container OOM-killed before may wait in back-off (up to 5 minutes) before its restart.
  VERIFY_TIMEOUT=$((VERIFY_TIMEOUT > 330 ? VERIFY_TIMEOUT : 330)) wait_for "$pod restarted" restarted_since "$pod" "$rc0"
  VERIFY_TIMEOUT=$((VERIFY_TIMEOUT > 330 ? VERIFY_TIMEOUT : 330)) wait_for "$pod Ready again" pod_ready "$pod"
  out="$(call "$pod" GET /memory)"
  note "after the restart: GET /memory -> $out"
  record "Pod \`$pod\`, memory limit $lim_mem, \`POST /allocate?mb=$mb\`:" '' \
    '| restartCount | lastState.terminated.reason | exitCode | finishedAt | Ready again |' '| --- | --- | ---: | --- | --- |' \
    "| $rc0 -> $(restarts "$pod") | $reason | $code | $finished | after $((SECONDS - t0)) s |" ''
  k describe pod "$pod" | grep -A4 'Last State' | record_block
}

check_quota() {
  local q r0 r rs rev msg event t0 pods
  q="$(quota_name)"
  [[ -n "$q" ]] || fail "no ResourceQuota in namespace $NAMESPACE: nothing limits it (apply k8s/resource-quota.yaml)"
  r0="$(k get deployment "$MEMORY_APP" -o jsonpath='{.spec.replicas}')"
  r=$((r0 + 1))
  note "resourcequota/$q before: $(quota_table "$q" | awk '{ printf "%s%s %s/%s", (NR > 1 ? ", " : ""), $1, $2, $3 }')"
  on_exit k scale "deployment/$MEMORY_APP" --replicas="$r0"
  k scale "deployment/$MEMORY_APP" --replicas="$r"
  t0=$SECONDS
  rev="$(k get deployment "$MEMORY_APP" -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}')"
  rs="$(k get replicasets -l "app.kubernetes.io/name=$MEMORY_APP" \
    -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.metadata.annotations.deployment\.kubernetes\.io/revision}{"\n"}{end}' \
    | awk -v r="$rev" '$2 == r { print $1 }')"
  [[ -n "$rs" ]] || fail "no ReplicaSet of revision $rev for deployment/$MEMORY_APP"
  # Refused (ReplicaFailure condition) or, if the quota had room, a pod more than before.
  while :; do
    msg="$(k get replicaset "$rs" -o jsonpath='{.status.conditions[?(@.type=="ReplicaFailure")].message}')"
    [[ "$msg" == *"exceeded quota"* ]] && break
    pods="$(k get pods -l "app.kubernetes.io/name=$MEMORY_APP" -o name | wc -l | tr -d ' ')"
    ((pods < r)) || fail "scaled deployment/$MEMORY_APP to $r and the quota let pod number $pods be created: nothing refused it"
    ((SECONDS - t0 < 60)) || fail "no 'exceeded quota' refusal 60s after scaling to $r (ReplicaFailure: ${msg:-none})"
    sleep 2
  done
  event="$(k get events --field-selector "involvedObject.name=$rs,reason=FailedCreate" -o jsonpath='{range .items[*]}{.message}{"\n"}{end}' | tail -n1)"
  # The condition holds the API server's message as is; repeated events get a
  # "(combined from similar events): " prefix.
  note "scaled to $r: replicaset/$rs ReplicaFailure (FailedCreate): $msg"
  record "\`kubectl scale deployment/$MEMORY_APP --replicas=$r\` (one more than the $r0 the quota has room for), then the ReplicaSet's ReplicaFailure condition and latest FailedCreate event:" ''
  printf '%s\n' "$msg" "${event:-no FailedCreate event}" | record_block
  k get deployment "$MEMORY_APP" | record_block
  k scale "deployment/$MEMORY_APP" --replicas="$r0"
  wait_for "deployment/$MEMORY_APP back to $r0 ready replicas" ready_replicas "$MEMORY_APP" "$r0"
}

check_second_app() {
  local want q name used hard over="" res
  want="$(k get deployment "$SECOND_APP" -o jsonpath='{.spec.replicas}')"
  ((want >= 1)) || fail "deployment/$SECOND_APP is scaled to $want"
  wait_for "deployment/$SECOND_APP $want/$want ready" ready_replicas "$SECOND_APP" "$want"
  res="$(k get deployment "$SECOND_APP" -o jsonpath='{.spec.template.spec.containers[0].resources}')"
  note "deployment/$SECOND_APP: $want/$want ready, resources $res"
  q="$(quota_name)"
  [[ -n "$q" ]] || fail "no ResourceQuota in namespace $NAMESPACE"
  # A terminating pod still counts in the quota.
  wait_for "no pod terminating in namespace $NAMESPACE" no_terminating_pods
  record "deployment/$SECOND_APP: $want/$want replicas ready, each with $res." '' \
    "\`kubectl describe resourcequota $q\`:" '' '| resource | used | hard |' '| --- | ---: | ---: |'
  while read -r name used hard; do
    record "| $name | $used | $hard |"
    awk -v u="$(qty "$used")" -v h="$(qty "$hard")" 'BEGIN { exit !(u <= h) }' || over="$over $name ($used > $hard)"
  done < <(quota_table "$q")
  record ''
  note "quota $q used/hard: $(quota_table "$q" | awk '{ printf "%s%s %s/%s", (NR > 1 ? ", " : ""), $1, $2, $3 }')"
  [[ -z "$over" ]] || fail "quota use above hard:$over"
}

write_results() {
  local file="$VERIFY_OUT/quota-results.md" id result title
  {
    printf '# Resource limits and quota: recorded results\n\n'
    printf 'Written by `scripts/verify.sh` on %s against namespace `%s` (context `%s`).\n' \
      "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$NAMESPACE" "$("$KUBECTL" config current-context 2>/dev/null || echo in-cluster)"
    while IFS=$'\t' read -r id result title; do
      printf '\n## %s: %s (%s)\n\n' "$id" "$title" "$result"
      [[ -s "$VERIFY_OUT/logs/$id.results" ]] && cat "$VERIFY_OUT/logs/$id.results"
      if [[ "$result" != PASS ]]; then grep -E '^(FAIL|SKIP): ' "$VERIFY_OUT/logs/$id.log" | tail -n1 || true; fi
    done <"$VERIFY_OUT/results.tsv"
  } >"$file"
  printf '\nrecorded results: %s\n' "$file"
}

verify_begin "Resource requirements of $APP (Easy Deploy 5)"
requirement a-limits "the memory app's requests/limits are what its container's cgroup enforces" check_limits
requirement b-oomkill "an allocation past the memory limit is OOMKilled (137) and the pod recovers" check_oomkill
requirement c-quota "a pod beyond the ResourceQuota is refused with the API server's message" check_quota
requirement d-second-app "the second app fits: all replicas ready, quota used within hard" check_second_app
write_results
verify_end
# {% endraw %}
