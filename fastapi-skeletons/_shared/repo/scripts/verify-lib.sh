#!/usr/bin/env bash
# {% raw %} (the template renders this file unchanged)
# Helpers for scripts/verify.sh: each requirement of the brief runs as one check against
# whatever cluster kubectl points at, prints its progress, and ends in PASS or FAIL.
# Results go to $VERIFY_OUT (default verify-results/, ignored by Git):
#   results.md    a table, requirement by requirement, with the evidence each check recorded
#   results.tsv   id <TAB> PASS|FAIL|SKIP <TAB> title (for scripts and CI)
#   logs/<id>.log everything the check printed
# Needs bash 4.4 or later. Sourced, not run. The caller sets NAMESPACE, then:
#   verify_begin "title"; requirement ID "what it proves" function [args...]; verify_end
# Inside a check: `set -euo pipefail` is on, any failing command fails the check, and
# `fail "why"` ends it with a reason. Port-forwards it starts end with it, and what it
# registered with `on_exit` (restoring what it changed) runs then. `skip "why"` ends it as
# SKIP, recorded with the reason and not counted as a failure, when the requirement cannot
# apply to this deployment (e.g. a feature the form switched off).

KUBECTL="${KUBECTL:-kubectl}"
VERIFY_OUT="${VERIFY_OUT:-verify-results}"
# How long a check waits for the cluster to converge (rollouts, restarts, endpoints).
VERIFY_TIMEOUT="${VERIFY_TIMEOUT:-180}"

_VERIFY_PASSED=0
_VERIFY_FAILED=0
_VERIFY_FAILED_IDS=()
_VERIFY_SKIPPED=0

k() { _K_ARGS="$*"; "$KUBECTL" -n "$NAMESPACE" "$@"; }

# The reason a check failed, on stderr so it shows in the log and the summary.
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

# skip "why": ends the current check as SKIP with a reason (its subshell exits with 77).
skip() { printf 'SKIP: %s\n' "$*" >&2; exit 77; }

# note TEXT: one line of evidence for the current requirement (kept in results.md).
note() {
  printf '  %s\n' "$*"
  printf '%s\n' "$*" >>"$VERIFY_OUT/logs/${_VERIFY_ID}.evidence"
}

verify_begin() {
  local title="$1"
  [[ -n "${NAMESPACE:-}" ]] || { echo "verify: NAMESPACE is not set" >&2; exit 2; }
  command -v "$KUBECTL" >/dev/null 2>&1 \
    || { echo "verify: kubectl not found: install it or set KUBECTL=/path/to/kubectl" >&2; exit 2; }
  "$KUBECTL" version --request-timeout=10s >/dev/null 2>&1 \
    || { echo "verify: kubectl cannot reach a cluster (context: $("$KUBECTL" config current-context 2>/dev/null || echo none)); point KUBECONFIG at the cluster you deployed to" >&2; exit 2; }
  k get namespace "$NAMESPACE" >/dev/null 2>&1 \
    || { echo "verify: namespace $NAMESPACE does not exist: deploy first (docs: Deploy), or set NAMESPACE" >&2; exit 2; }
  rm -rf "$VERIFY_OUT/logs"
  mkdir -p "$VERIFY_OUT/logs"
  local server
  server="$("$KUBECTL" version -o json 2>/dev/null | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p' | tail -n1)"
  {
    printf '# %s\n\n' "$title"
    printf -- '- namespace: `%s`\n- cluster: `%s` (Kubernetes %s)\n- run at: %s\n\n' \
      "$NAMESPACE" "$("$KUBECTL" config current-context 2>/dev/null || echo in-cluster)" \
      "${server:-unknown}" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf '| requirement | result | evidence |\n| --- | --- | --- |\n'
  } >"$VERIFY_OUT/results.md"
  : >"$VERIFY_OUT/results.tsv"
  printf '%s (namespace %s); results in %s/\n' "$title" "$NAMESPACE" "$VERIFY_OUT"
}

# requirement ID TITLE FUNCTION [ARGS...]: runs FUNCTION in a subshell with errexit, so one
# failing command fails this requirement and the next one still runs.
requirement() {
  local id="$1" title="$2"; shift 2
  local log="$VERIFY_OUT/logs/${id}.log" started=$SECONDS status
  printf '\n==> %s: %s\n' "$id" "$title"
  : >"$VERIFY_OUT/logs/${id}.evidence"
  set +e
  _VERIFY_INTERRUPTED=0
  trap '_VERIFY_INTERRUPTED=1' INT
  (
    set -Eeuo pipefail
    _VERIFY_ID="$id"
    _FORWARD_PIDS=()
    _VERIFY_ON_EXIT=()
    trap '_end_check' EXIT
    # Name the command that failed: "set -e" alone ends the check without saying why.
    trap '_report_error "$?"' ERR
    "$@"
  ) 2>&1 | tee "$log" | while IFS= read -r line; do printf '    %s\n' "$line"; done
  status=${PIPESTATUS[0]}
  trap - INT
  set -e
  local evidence result
  evidence="$(paste -sd ';' "$VERIFY_OUT/logs/${id}.evidence" | sed 's/;/; /g; s/|/\\|/g')"
  if [[ "$status" == 0 ]]; then
    result=PASS; _VERIFY_PASSED=$((_VERIFY_PASSED + 1))
  elif [[ "$status" == 77 ]]; then
    result=SKIP; _VERIFY_SKIPPED=$((_VERIFY_SKIPPED + 1))
    local reason; reason="$(sed -n 's/^SKIP: //p' "$log" | tail -n1)"
    reason="${reason//|/\\|}"
    evidence="${evidence:+$evidence; }skipped: ${reason:-see logs/${id}.log}"
  else
    result=FAIL; _VERIFY_FAILED=$((_VERIFY_FAILED + 1)); _VERIFY_FAILED_IDS+=("$id")
    local why; why="$(sed -n 's/^FAIL: //p' "$log" | tail -n1)"
    why="${why//|/\\|}"
    evidence="${evidence:+$evidence; }${why:-see logs/${id}.log}"
  fi
  printf '%s %s: %s (%ss)\n' "$result" "$id" "$title" "$((SECONDS - started))"
  printf '| %s: %s | %s | %s |\n' "$id" "${title//|/\\|}" "$result" "$evidence" >>"$VERIFY_OUT/results.md"
  printf '%s\t%s\t%s\n' "$id" "$result" "$title" >>"$VERIFY_OUT/results.tsv"
  # Ctrl-C: the check has restored what it changed (on_exit); run no further checks.
  if ((_VERIFY_INTERRUPTED)); then echo "verify: interrupted" >&2; exit 130; fi
}

verify_end() {
  local skipped=""
  ((_VERIFY_SKIPPED == 0)) || skipped=", ${_VERIFY_SKIPPED} skipped"
  printf '\n**%s passed, %s failed%s**\n' "$_VERIFY_PASSED" "$_VERIFY_FAILED" "$skipped" >>"$VERIFY_OUT/results.md"
  printf '\nverify: %s passed, %s failed%s%s; results in %s/results.md\n' \
    "$_VERIFY_PASSED" "$_VERIFY_FAILED" \
    "$( ((_VERIFY_FAILED)) && printf ' (%s)' "${_VERIFY_FAILED_IDS[*]}")" "$skipped" "$VERIFY_OUT"
  ((_VERIFY_FAILED == 0))
}

# wait_for WHAT COMMAND...: polls COMMAND every 2 s until it succeeds or VERIFY_TIMEOUT
# passes; says every 20 s that it is still waiting.
wait_for() {
  local what="$1"; shift
  local deadline=$((SECONDS + VERIFY_TIMEOUT)) next_report=$((SECONDS + 20)) started=$SECONDS
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "timed out after ${VERIFY_TIMEOUT}s waiting for ${what}"
    if ((SECONDS >= next_report)); then
      printf '  still waiting for %s (%ss)\n' "$what" "$((SECONDS - started))"
      next_report=$((SECONDS + 20))
    fi
    sleep 2
  done
  printf '  %s after %ss\n' "$what" "$((SECONDS - started))"
}

# running_pod SELECTOR: the name of a Running pod that matches, or nothing.
running_pod() {
  k get pods -l "$1" --field-selector=status.phase=Running \
    -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.metadata.deletionTimestamp}{"\n"}{end}' 2>/dev/null \
    | awk 'NF == 1 { print $1; exit }'
}

# ready_pods SELECTOR: names of the pods that match and are Ready, one per line.
ready_pods() {
  k get pods -l "$1" -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' \
    | awk '$2 == "True" { print $1 }'
}

# start_probe_pod NAME IMAGE [SECRET MOUNT_PATH]: a pod that only sleeps, with IMAGE's
# Python for http_in_pod and the like. Pod Security "restricted"; never Ready, so that
# relabelled like a workload (a NetworkPolicy test's positive control) it never receives
# that workload's Service traffic; gone after 10 minutes even if the script is killed,
# and deleted when the check ends. SECRET, if given, is mounted read-only at MOUNT_PATH
# (files readable by the pod's group only). Returns once the pod runs.
start_probe_pod() {
  local name="$1" image="$2" secret="${3:-}" mount_path="${4:-}" mounts="" volumes=""
  k delete pod "$name" --ignore-not-found --wait=true >/dev/null
  on_exit k delete pod "$name" --ignore-not-found --wait=true --timeout=60s
  if [[ -n "$secret" ]]; then
    mounts="
      volumeMounts:
        - name: secret
          mountPath: $mount_path
          readOnly: true"
    volumes="
  volumes:
    - name: secret
      secret:
        secretName: $secret
        defaultMode: 288 # 0440"
  fi
  k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $name
  labels:
    app.kubernetes.io/name: $name
    app.kubernetes.io/component: verify
    app.kubernetes.io/part-of: $APP
spec:
  restartPolicy: Never
  activeDeadlineSeconds: 600
  terminationGracePeriodSeconds: 1
  automountServiceAccountToken: false
  enableServiceLinks: false
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    runAsGroup: 10001
    fsGroup: 10001
    seccompProfile:
      type: RuntimeDefault
  containers:
    - name: probe
      image: $image
      imagePullPolicy: IfNotPresent
      command: ["python", "-c", "import time; time.sleep(600)"]
      readinessProbe:
        exec:
          command: ["python", "-c", "raise SystemExit(1)"]
        periodSeconds: 30
      resources:
        requests: {cpu: 10m, memory: 32Mi}
        limits: {cpu: 100m, memory: 64Mi}
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities:
          drop: ["ALL"]${mounts}${volumes}
EOF
  wait_for "pod $name to run" _pod_is_running "$name"
}

_pod_is_running() { [[ "$(k get pod "$1" -o jsonpath='{.status.phase}')" == Running ]]; }

# http_in_pod POD URL [TIMEOUT_SECONDS]: GET from inside POD's first container with its
# Python (every image of this repository has one; none needs curl). Prints the status code
# on the first line (000: no connection), then the body.
http_in_pod() {
  local pod="$1" url="$2" timeout="${3:-5}"
  k exec "$pod" -- python -c '
import sys, urllib.request, urllib.error
url, timeout = sys.argv[1], float(sys.argv[2])
try:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        print(r.status); sys.stdout.write(r.read().decode("utf-8", "replace"))
except urllib.error.HTTPError as e:
    print(e.code); sys.stdout.write(e.read().decode("utf-8", "replace"))
except Exception as e:
    print("000"); print(type(e).__name__ + ": " + str(e))
' "$url" "$timeout"
}

# port_forward TARGET REMOTE_PORT: kubectl port-forward TARGET (svc/x, pod/y) to a free
# local port; sets FORWARD_URL=http://127.0.0.1:<port>. Ends with the check.
port_forward() {
  local target="$1" remote="$2" log
  log="$(mktemp)"
  # Not through k(): a function would run in a forked shell, and $! would be that shell.
  "$KUBECTL" -n "$NAMESPACE" port-forward --address 127.0.0.1 "$target" ":$remote" >"$log" 2>&1 &
  local pid=$!
  _FORWARD_PIDS+=("$pid")
  local port="" deadline=$((SECONDS + 30))
  while [[ -z "$port" ]]; do
    port="$(sed -n 's/^Forwarding from 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$log" | head -n1)"
    [[ -n "$port" ]] && break
    if ! kill -0 "$pid" 2>/dev/null; then
      local error; error="$(cat "$log")"; rm -f "$log"
      fail "kubectl port-forward $target: ${error}"
    fi
    ((SECONDS < deadline)) || { rm -f "$log"; fail "kubectl port-forward $target did not start in 30s"; }
    sleep 0.5
  done
  rm -f "$log"
  # shellcheck disable=SC2034  # read by the caller
  FORWARD_URL="http://127.0.0.1:${port}"
}

# The ERR trap of a check: the command that failed, with k's arguments spelled out.
_report_error() {
  local cmd="$BASH_COMMAND"
  # shellcheck disable=SC2016  # the text of k's body, as bash reports it
  [[ "$cmd" == '"$KUBECTL" -n "$NAMESPACE" "$@"' ]] && cmd="kubectl -n $NAMESPACE ${_K_ARGS:-}"
  printf 'FAIL: %s exited with %s\n' "$cmd" "$1" >&2
}

# on_exit COMMAND [ARGS...]: runs when the check ends, passed, failed or interrupted, to
# restore what it changed (last registered runs first). A failing one fails the check.
on_exit() { _VERIFY_ON_EXIT+=("$(printf '%q ' "$@")"); }

_end_check() {
  local rc=$? i
  set +e
  for ((i = ${#_VERIFY_ON_EXIT[@]} - 1; i >= 0; i--)); do
    # Not `( ... ) || ...`: that would switch errexit off inside the subshell.
    (set -e; eval "${_VERIFY_ON_EXIT[i]}")
    (($? == 0)) || { printf 'FAIL: could not restore: %s\n' "${_VERIFY_ON_EXIT[i]}" >&2; rc=1; }
  done
  _stop_forwards
  exit "$rc"
}

_stop_forwards() {
  local pid
  for pid in "${_FORWARD_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${_FORWARD_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}

# chrome: the path of a Chromium or Chrome for screenshots (CHROME overrides).
chrome() {
  local name
  if [[ -n "${CHROME:-}" ]]; then printf '%s\n' "$CHROME"; return; fi
  for name in chromium chromium-browser google-chrome google-chrome-stable; do
    command -v "$name" 2>/dev/null && return
  done
  return 1
}

# screenshot URL FILE: a PNG of the page as a browser renders it.
screenshot() {
  local url="$1" file="$2" browser profile
  browser="$(chrome)" || fail "no Chromium or Chrome found for the screenshot: install one or set CHROME=/path/to/chrome"
  profile="$(mktemp -d)"
  "$browser" --headless --no-sandbox --disable-gpu --no-first-run --disable-sync \
    --disable-background-networking --disable-component-update --user-data-dir="$profile" \
    --window-size=1280,900 --screenshot="$file" "$url" >/dev/null 2>&1 || true
  rm -rf "$profile"
  [[ -s "$file" ]] || fail "$browser wrote no screenshot of $url"
}
# {% endraw %}
