#!/usr/bin/env bash
# Blue-green traffic switch for the live Service (docs/switching.md explains each step).
#
#   scripts/bg-switch.sh status                         # live and idle slot, rollouts, endpoints
#   scripts/bg-switch.sh switch [blue|green] [--dry-run] # default: the idle slot
#   scripts/bg-switch.sh rollback [--dry-run]           # back to the slot the last switch left
#   scripts/bg-switch.sh preview [blue|green] [--dry-run] # point the preview Service at a slot
#
# A switch refuses, writing nothing, unless the target slot's Deployment is fully rolled
# out and the preview Service routes only to ready pods of the target, which answer
# GET $SMOKE_PATH with 200 and the target's version. Then ONE JSON Patch changes the live
# Service's selector; its `test` operations pin the Service's uid, its owning entity and
# the slot that was live, so a concurrent change makes the API server reject it (no lost
# update). It records the slot it left in rollouts.backstage.io/previous-slot, the
# annotation the portal's Rollouts plugin writes and reads: either tool rolls back what
# the other did. Then it waits until the live Service's EndpointSlices hold only pods of
# the target and points the preview Service at the slot that is now idle.
#
# Environment: NAMESPACE, SERVICE (live), PREVIEW_SERVICE, KUBECTL, TIMEOUT (seconds to
# wait for the EndpointSlices, default 120), POLL_SECONDS (between two reads while
# waiting, default 0.5), MANIFESTS_DIR (this repository's k8s/, compared with the
# cluster after a switch), SLOT_LABEL, SMOKE_PATH (default /health),
# SMOKE_REQUESTS (default 5). Needs bash 4.4+ and kubectl, nothing else (no jq, no
# python on this machine: the smoke test runs the image's own python in a target pod).
# Exit status: 0 done, 1 refused by a guard, 2 bad input, missing object or forbidden,
# 3 the Service changed concurrently (nothing written), 4 timed out waiting for the
# EndpointSlices, 5 switched but the preview Service could not be repointed.
set -euo pipefail

NAMESPACE="${NAMESPACE:-${{ values.namespace }}}"
SERVICE="${SERVICE:-${{ values.name }}}"
PREVIEW_SERVICE="${PREVIEW_SERVICE:-${{ values.name }}-preview}"
# {% raw %} (the rest is bash, rendered unchanged)
KUBECTL="${KUBECTL:-kubectl}"
TIMEOUT="${TIMEOUT:-120}"
POLL_SECONDS="${POLL_SECONDS:-0.5}"
MANIFESTS_DIR="${MANIFESTS_DIR:-$(dirname "${BASH_SOURCE[0]}")/../k8s}"
SLOT_LABEL="${SLOT_LABEL:-app.kubernetes.io/slot}"
SMOKE_PATH="${SMOKE_PATH:-/health}"
SMOKE_REQUESTS="${SMOKE_REQUESTS:-5}"

# The same names as plugins/rollouts-common (blueGreen.ts, ownership.ts).
PREVIOUS_SLOT_ANNOTATION=rollouts.backstage.io/previous-slot
ENTITY_REF_ANNOTATION=rollouts.backstage.io/entity-ref
# On the preview Service (k8s/preview-service.yaml): the live Service it accompanies.
PREVIEW_OF_ANNOTATION=rollouts.backstage.io/preview-of
SERVICE_NAME_LABEL=kubernetes.io/service-name
VERSION_LABEL=app.kubernetes.io/version

# --- small helpers -------------------------------------------------------------------------

k() { "$KUBECTL" -n "$NAMESPACE" "$@"; }
say() { printf '%s\n' "$*"; }
die() { local code="$1"; shift; printf 'bg-switch: %s\n' "$*" >&2; exit "$code"; }
# join SEPARATOR WORDS...: the words joined ("none" when there are none).
join() { local sep="$1" out=""; shift; (($#)) || { printf none; return; }; out="$1"; shift; while (($#)); do out+="$sep$1"; shift; done; printf '%s' "$out"; }
refuse() { printf 'bg-switch: REFUSED: %s\nNothing was changed.\n' "$*" >&2; exit 1; }

# Milliseconds since the epoch (bash 5 has EPOCHREALTIME; bash 4.4 counts whole seconds).
now_ms() {
  if [[ -n "${EPOCHREALTIME:-}" ]]; then
    local t="${EPOCHREALTIME/[.,]/}"
    printf '%s\n' "$((10#${t:0:${#t}-3}))"
  else
    printf '%s\n' "$((SECONDS * 1000))"
  fi
}
elapsed() { local ms=$(($(now_ms) - $1)); printf '%d.%03ds' "$((ms / 1000))" "$((ms % 1000))"; }

# A JSON string literal.
json_str() {
  local s="$1"
  s="${s//\\/\\\\}"; s="${s//\"/\\\"}"; s="${s//$'\n'/\\n}"; s="${s//$'\t'/\\t}"; s="${s//$'\r'/\\r}"
  printf '"%s"' "$s"
}
# A JSON Pointer from unescaped tokens (RFC 6901: ~ is ~0, / is ~1), like jsonPointer().
json_pointer() {
  local token out=""
  for token in "$@"; do token="${token//\~/\~0}"; out+="/${token//\//\~1}"; done
  printf '%s' "$out"
}
# The canonical form of a full entity ref (kind:namespace/name, lower case), like
# canonicalEntityRef(); empty when the text is not a full ref.
canonical_ref() {
  local s="${1#"${1%%[![:space:]]*}"}"
  s="${s%"${s##*[![:space:]]}"}"
  [[ "$s" =~ ^[^:/[:space:]]+:[^:/[:space:]]+/[^:/[:space:]]+$ ]] && printf '%s' "${s,,}"
}
nv() { [[ "$1" == "<no value>" ]] && return 0; printf '%s' "$1"; }

# The cluster as the script sees it: reads and pair detection (no writes).
# shellcheck source=scripts/lib/bg-cluster.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/bg-cluster.sh"

# --- status ----------------------------------------------------------------------------------

cmd_status() {
  load_state
  local idle preview_note="" s d desired
  idle="$(idle_slot)" || idle="(none)"
  say "Service $NAMESPACE/$SERVICE (live)"
  say "  live slot:     $LIVE_SLOT$([[ -n "${SLOT_DEPLOYMENT[$LIVE_SLOT]:-}" ]] || printf ' (NO Deployment runs this slot: the Service has no backing pods)')"
  say "  idle slot:     $idle"
  say "  previous slot: $( ((LIVE_HAS_PREV)) && printf '%s (%s)' "$LIVE_PREV" "$PREVIOUS_SLOT_ANNOTATION" || printf 'none (no %s annotation: nothing to roll back to)' "$PREVIOUS_SLOT_ANNOTATION")"
  read_endpoints "$SERVICE"
  say "  endpoints:     $(traffic_summary)"
  if k get service "$PREVIEW_SERVICE" >/dev/null 2>&1; then
    load_preview
    read_endpoints "$PREVIEW_SERVICE"
    say "Service $NAMESPACE/$PREVIEW_SERVICE (preview)"
    say "  selects slot:  $PREVIEW_SLOT"
    say "  endpoints:     $(traffic_summary)"
  else
    preview_note=" (preview Service $PREVIEW_SERVICE not found)"
  fi
  say "Slots$preview_note:"
  for s in "${SLOTS[@]}"; do
    d="${SLOT_DEPLOYMENT[$s]}"; desired="${D_SPEC_REPLICAS[$d]:-1}"
    rollout "$d"
    printf '  %-6s %-5s deployment/%s version=%s ready=%s/%s available=%s: %s%s\n' \
      "$s" "$([[ "$s" == "$LIVE_SLOT" ]] && printf live || printf idle)" "$d" "$(slot_version "$s")" \
      "${D_READY[$d]:-0}" "$desired" "${D_AVAIL[$d]:-0}" "$ROLLOUT_MESSAGE" \
      "$(r="$(not_ready_reason "$d")"; [[ -z "$r" ]] && printf ' (ready for traffic)' || printf ' (NOT ready for traffic: %s)' "$r")"
  done
  local problem
  for problem in "${PROBLEMS[@]}"; do say "  problem: $problem"; done
}

# --- the guarded switch ----------------------------------------------------------------------

# smoke_test SLOT: SMOKE_REQUESTS GETs of SMOKE_PATH through the preview Service, sent from
# inside a ready pod of SLOT (the request goes through the Service's cluster IP); each
# must answer 200 with the slot's version. Uses the image's python (no curl needed).
smoke_test() {
  local slot="$1" version pod="" p i out status body url err
  version="$(slot_version "$slot")"
  for p in "${EP_READY_PODS[@]}"; do [[ "${POD_SLOT[$p]}" == "$slot" && -n "${POD_READY[$p]:-}" ]] && { pod="$p"; break; }; done
  [[ -n "$pod" ]] || refuse "smoke test: no ready pod of slot '$slot' to send the test requests from"
  url="http://$PREVIEW_SERVICE.$NAMESPACE.svc:${PREVIEW_PORT:-80}$SMOKE_PATH"
  say "  smoke test: GET $url x$SMOKE_REQUESTS from pod $pod, expecting 200${version:+ and version $version}"
  err="$(mktemp)"
  for ((i = 1; i <= SMOKE_REQUESTS; i++)); do
    out="$(k exec "$pod" -- python -c '
import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
        print(r.status); sys.stdout.write(r.read().decode("utf-8", "replace"))
except urllib.error.HTTPError as e:
    print(e.code); sys.stdout.write(e.read().decode("utf-8", "replace"))
except Exception as e:
    print("000"); print(type(e).__name__ + ": " + str(e))
' "$url" 2>"$err")" || { out="$(cat "$err")"; rm -f "$err"; refuse "smoke test: could not run a request in pod $pod: ${out:0:300}"; }
    status="${out%%$'\n'*}"; body="${out#*$'\n'}"
    [[ "$status" == 200 ]] || refuse "smoke test: GET $SMOKE_PATH through $PREVIEW_SERVICE answered $status (request $i of $SMOKE_REQUESTS): ${body:0:300}"
    if [[ -n "$version" ]] && ! [[ "$body" =~ \"version\"[[:space:]]*:[[:space:]]*\""$version"\" ]]; then
      refuse "smoke test: GET $SMOKE_PATH through $PREVIEW_SERVICE answered 200 but not version $version of slot '$slot' (request $i of $SMOKE_REQUESTS): ${body:0:300}"
    fi
  done
  rm -f "$err"
  say "  smoke test: $SMOKE_REQUESTS/$SMOKE_REQUESTS answered 200${version:+ with version $version}"
}

# selector_patch PREFIX FROM TO WITH_ANNOTATION: the JSON Patch for a Service read into
# PREFIX_*: pinnedPatch() (test uid, test the entity-ref annotation) around planSwitch()
# (test the slot, replace it, record the previous slot), in the plugin's order.
selector_patch() {
  local p="$1" from="$2" to="$3" with_annotation="$4" uid owner has_ann has_prev selector_path ops=()
  uid="${p}_UID"; owner="${p}_OWNER"; has_ann="${p}_HAS_ANNOTATIONS"; has_prev="${p}_HAS_PREV"
  selector_path="$(json_pointer spec selector "$SLOT_LABEL")"
  ops+=("{\"op\":\"test\",\"path\":\"/metadata/uid\",\"value\":$(json_str "${!uid}")}")
  ops+=("{\"op\":\"test\",\"path\":\"$(json_pointer metadata annotations "$ENTITY_REF_ANNOTATION")\",\"value\":$(json_str "${!owner}")}")
  ops+=("{\"op\":\"test\",\"path\":\"$selector_path\",\"value\":$(json_str "$from")}")
  ops+=("{\"op\":\"replace\",\"path\":\"$selector_path\",\"value\":$(json_str "$to")}")
  if ((with_annotation)); then
    if ((${!has_ann})); then
      ops+=("{\"op\":\"$( ((${!has_prev})) && printf replace || printf add)\",\"path\":\"$(json_pointer metadata annotations "$PREVIOUS_SLOT_ANNOTATION")\",\"value\":$(json_str "$from")}")
    else
      ops+=("{\"op\":\"add\",\"path\":\"/metadata/annotations\",\"value\":{$(json_str "$PREVIOUS_SLOT_ANNOTATION"):$(json_str "$from")}}")
    fi
  fi
  local IFS=,
  printf '[%s]' "${ops[*]}"
}

# send_patch SERVICE PREFIX PATCH FROM: sends the JSON Patch; when the API server rejects
# it, reads the Service again and says what changed. Exit 3: nothing was written.
send_patch() {
  local svc="$1" p="$2" patch="$3" from="$4" out uid owner
  if out="$(k patch service "$svc" --type=json -p "$patch" 2>&1)"; then return 0; fi
  uid="${p}_UID"; owner="${p}_OWNER"
  local why=()
  read_service "$svc" AFTER
  [[ "$AFTER_UID" == "${!uid}" ]] || why+=("it was deleted and re-created (uid ${!uid} is now ${AFTER_UID})")
  [[ "$AFTER_OWNER" == "${!owner}" ]] || why+=("its $ENTITY_REF_ANNOTATION annotation changed from '${!owner}' to '${AFTER_OWNER}'")
  [[ "$AFTER_SLOT" == "$from" ]] || why+=("its selector now names slot '$AFTER_SLOT', not '$from' (someone else switched)")
  if ((${#why[@]})); then
    die 3 "CONCURRENT CHANGE: Service $NAMESPACE/$svc changed after it was read: $(IFS=';'; printf '%s' "${why[*]}"). The API server rejected the patch (its test operations failed), so nothing was written. Run '$0 status' and decide again. (kubectl: ${out//$'\n'/ })"
  fi
  die 2 "the API server rejected the patch of Service $NAMESPACE/$svc; nothing was written. kubectl: ${out//$'\n'/ }"
}

# wait_traffic SERVICE SLOT: waits until the Service's EndpointSlices route only to SLOT.
wait_traffic() {
  local svc="$1" slot="$2" deadline=$((SECONDS + TIMEOUT))
  while :; do
    read_pods
    read_endpoints "$svc"
    traffic_only "$slot" && return 0
    ((SECONDS < deadline)) || return 1
    sleep "$POLL_SECONDS"
  done
}

# guards TARGET: every check before a switch; refuses (exit 1 or 2) on the first failure.
guards() {
  local target="$1" d reason owner_ok
  if [[ -z "${SLOT_DEPLOYMENT[$target]:-}" ]]; then
    die 2 "Service $NAMESPACE/$SERVICE has no slot '$target'; known slots: $(join ', ' "${SLOTS[@]}")." "${PROBLEMS[@]}"
  fi
  [[ "$target" != "$LIVE_SLOT" ]] || refuse "Slot '$target' is already live."
  d="${SLOT_DEPLOYMENT[$target]}"
  reason="$(not_ready_reason "$d")"
  [[ -z "$reason" ]] || refuse "Slot '$target' (Deployment $d) is not ready for traffic: $reason."
  say "  rollout:    deployment/$d $(rollout "$d"; printf '%s' "$ROLLOUT_MESSAGE") (${D_AVAIL[$d]:-0}/${D_SPEC_REPLICAS[$d]:-1} available)"

  # Ownership, as the plugin's WriteGuard: the Service names its entity, and traffic only
  # moves to a Deployment of the same entity.
  ((LIVE_HAS_OWNER)) || refuse "Service $NAMESPACE/$SERVICE has no '$ENTITY_REF_ANNOTATION' annotation, so the cluster does not say which entity may change it (the Rollouts plugin refuses it too). Add it to k8s/service.yaml."
  owner_ok=0
  [[ -n "$(canonical_ref "$LIVE_OWNER")" && "$(canonical_ref "${D_OWNER[$d]}")" == "$(canonical_ref "$LIVE_OWNER")" ]] && owner_ok=1
  ((owner_ok)) || refuse "Traffic would move to slot '$target': Deployment $NAMESPACE/$d belongs to '${D_OWNER[$d]:-no entity}' ($ENTITY_REF_ANNOTATION), not to '$LIVE_OWNER' like Service $SERVICE."
  ((PREVIEW_HAS_OWNER)) || refuse "Service $NAMESPACE/$PREVIEW_SERVICE has no '$ENTITY_REF_ANNOTATION' annotation; it must name the same entity as $SERVICE ('$LIVE_OWNER')."

  # The preview Service must route to ready pods of the target, and only to them.
  [[ "$PREVIEW_SLOT" == "$target" ]] \
    || refuse "the preview Service $PREVIEW_SERVICE selects slot '$PREVIEW_SLOT', not '$target': the target cannot be tested before it takes traffic. Point it at the target first: $0 preview $target"
  read_endpoints "$PREVIEW_SERVICE"
  if ((EP_NOT_READY > 0 || EP_UNKNOWN > 0)) || ! traffic_only "$target"; then
    refuse "the preview Service $PREVIEW_SERVICE must route only to ready endpoints of slot '$target'; its EndpointSlices hold: $(traffic_summary)."
  fi
  say "  preview:    $PREVIEW_SERVICE routes to ${EP_BY_SLOT[$target]} ready endpoint(s) of '$target', nothing else"
}

parse_args() {
  TARGET=""; DRY_RUN=0
  local a
  for a in "$@"; do
    case "$a" in
      --dry-run) DRY_RUN=1 ;;
      -*) die 2 "unknown option '$a' (usage: $0 switch [SLOT] [--dry-run])" ;;
      *) [[ -z "$TARGET" ]] || die 2 "one slot only, got '$TARGET' and '$a'"; TARGET="$a" ;;
    esac
  done
  [[ -z "$TARGET" || "$TARGET" =~ ^[a-z0-9]([-a-z0-9_.]{0,61}[a-z0-9])?$ ]] || die 2 "'$TARGET' is not a slot name (a label value such as blue or green)"
}

# do_switch TARGET ACTION: guards, smoke test, the live patch, the wait, the preview repoint.
do_switch() {
  local target="$1" action="$2" from t0 t patch preview_patch
  local phases=()
  t0="$(now_ms)"; t="$t0"
  from="$LIVE_SLOT"
  say "$action: Service $NAMESPACE/$SERVICE from '$from' to '$target'$( ((DRY_RUN)) && printf ' (dry run: nothing will be written)')"
  guards "$target"
  phases+=("checks $(elapsed "$t")"); t="$(now_ms)"
  smoke_test "$target"
  phases+=("smoke test $(elapsed "$t")"); t="$(now_ms)"

  patch="$(selector_patch LIVE "$from" "$target" 1)"
  preview_patch="$(selector_patch PREVIEW "$target" "$from" 0)"
  if ((DRY_RUN)); then
    say "dry run: would patch Service $NAMESPACE/$SERVICE (kubectl patch service $SERVICE --type=json -p ...):"
    say "$patch"
    say "dry run: then, once its EndpointSlices route only to '$target', Service $NAMESPACE/$PREVIEW_SERVICE:"
    say "$preview_patch"
    say "dry run: nothing was written ($(join ', ' "${phases[@]}"))"
    return 0
  fi

  send_patch "$SERVICE" LIVE "$patch" "$from"
  phases+=("patch $(elapsed "$t")"); t="$(now_ms)"
  local switched_at; switched_at="$(now_ms)"
  say "  patched:    $SERVICE selector $SLOT_LABEL=$target, $PREVIOUS_SLOT_ANNOTATION=$from"
  if ! wait_traffic "$SERVICE" "$target"; then
    die 4 "switched Service $SERVICE to '$target', but after ${TIMEOUT}s its EndpointSlices still hold: $(traffic_summary). Check '$0 status'; roll back with '$0 rollback'."
  fi
  phases+=("endpoints converged $(elapsed "$t")"); t="$(now_ms)"
  say "  endpoints:  $SERVICE routes only to '$target' ($(traffic_summary)) $(elapsed "$switched_at") after the patch"

  local preview_ok=1 err
  err="$(mktemp)"
  if ( send_patch "$PREVIEW_SERVICE" PREVIEW "$preview_patch" "$target" ) 2>"$err"; then
    if [[ -n "${SLOT_DEPLOYMENT[$from]:-}" ]] && ((${D_AVAIL[${SLOT_DEPLOYMENT[$from]}]:-0} > 0)); then
      wait_traffic "$PREVIEW_SERVICE" "$from" || say "  WARNING: $PREVIEW_SERVICE does not route to '$from' yet: $(traffic_summary)"
    fi
    say "  preview:    $PREVIEW_SERVICE now selects the idle slot '$from'"
  else
    preview_ok=0
    printf 'bg-switch: WARNING: traffic is on %s, but the preview Service was not repointed: %s\n' \
      "$target" "$(cat "$err")" >&2
  fi
  rm -f "$err"
  phases+=("preview repointed $(elapsed "$t")")
  say "DONE: $SERVICE switched from '$from' to '$target' in $(elapsed "$t0") ($(join ', ' "${phases[@]}")). Roll back with: $0 rollback"
  manifest_hint "$target" "$from"
  ((preview_ok)) || exit 5
}

# manifest_slot FILE: the slot FILE's selector names ("" when there is no such file).
manifest_slot() {
  [[ -f "$1" ]] || return 0
  sed -nE "s#^[[:space:]]+${SLOT_LABEL//./\\.}:[[:space:]]*\"?([A-Za-z0-9._-]+)\"?[[:space:]]*\$#\\1#p" "$1" | head -n1
}

# manifest_hint LIVE IDLE: when this repository's k8s/ names other slots than the cluster
# now does, the next `kubectl apply -k k8s/` would switch back without any of the checks
# above (docs/process.md, step 4): say what to commit.
manifest_hint() {
  local live="$1" idle="$2" live_file idle_file
  live_file="$(manifest_slot "$MANIFESTS_DIR/service.yaml")"
  idle_file="$(manifest_slot "$MANIFESTS_DIR/preview-service.yaml")"
  [[ "$live_file" == "$live" && "$idle_file" == "$idle" ]] && return 0
  say "NEXT: commit the new slots, or the next 'kubectl apply -k k8s/' switches traffic back to '${live_file:-the slot k8s/ names}':"
  say "      k8s/service.yaml          $SLOT_LABEL: $live"
  say "      k8s/preview-service.yaml  $SLOT_LABEL: $idle"
}

cmd_switch() {
  parse_args "$@"
  load_state
  load_preview
  if [[ -z "$TARGET" ]]; then
    TARGET="$(idle_slot)" || die 2 "cannot tell the idle slot (slots: ${SLOTS[*]:-none}; live: $LIVE_SLOT): name it, e.g. $0 switch green"
  fi
  do_switch "$TARGET" switch
}

cmd_rollback() {
  parse_args "$@"
  [[ -z "$TARGET" ]] || die 2 "rollback takes no slot: it goes back to the slot in $PREVIOUS_SLOT_ANNOTATION (use '$0 switch $TARGET')"
  load_state
  [[ "$LIVE_HAS_PREV" == 1 && -n "$LIVE_PREV" ]] \
    || refuse "Service $NAMESPACE/$SERVICE has no '$PREVIOUS_SLOT_ANNOTATION' annotation: it was never switched by this script or the Rollouts plugin, so there is nothing to roll back to."
  load_preview
  do_switch "$LIVE_PREV" rollback
}

# preview [SLOT]: points the preview Service at SLOT (default: the idle slot), guarded like
# a switch (uid, entity and current slot pinned). For a pair switched by a tool that does
# not repoint the preview Service.
cmd_preview() {
  parse_args "$@"
  load_state
  load_preview
  if [[ -z "$TARGET" ]]; then
    TARGET="$(idle_slot)" || die 2 "cannot tell the idle slot: name it, e.g. $0 preview green"
  fi
  [[ -n "${SLOT_DEPLOYMENT[$TARGET]:-}" ]] || die 2 "Service $NAMESPACE/$SERVICE has no slot '$TARGET'; known slots: $(join ', ' "${SLOTS[@]}")."
  [[ "$PREVIEW_SLOT" != "$TARGET" ]] || { say "$PREVIEW_SERVICE already selects '$TARGET'"; return 0; }
  ((PREVIEW_HAS_OWNER)) || refuse "Service $NAMESPACE/$PREVIEW_SERVICE has no '$ENTITY_REF_ANNOTATION' annotation."
  local patch t0; t0="$(now_ms)"
  patch="$(selector_patch PREVIEW "$PREVIEW_SLOT" "$TARGET" 0)"
  if ((DRY_RUN)); then say "dry run: would patch Service $NAMESPACE/$PREVIEW_SERVICE:"; say "$patch"; return 0; fi
  send_patch "$PREVIEW_SERVICE" PREVIEW "$patch" "$PREVIEW_SLOT"
  wait_traffic "$PREVIEW_SERVICE" "$TARGET" || die 4 "$PREVIEW_SERVICE selects '$TARGET', but after ${TIMEOUT}s its EndpointSlices hold: $(traffic_summary)"
  say "DONE: $PREVIEW_SERVICE now routes only to '$TARGET' ($(elapsed "$t0"))"
}

main() {
  ((BASH_VERSINFO[0] > 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 4))) || die 2 "needs bash 4.4 or later (this is $BASH_VERSION)"
  command -v "$KUBECTL" >/dev/null 2>&1 || die 2 "kubectl not found: install it or set KUBECTL=/path/to/kubectl"
  [[ "$TIMEOUT" =~ ^[0-9]+$ ]] || die 2 "TIMEOUT must be whole seconds, not '$TIMEOUT'"
  [[ "$POLL_SECONDS" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die 2 "POLL_SECONDS must be a number of seconds, not '$POLL_SECONDS'"
  [[ "$SMOKE_REQUESTS" =~ ^[1-9][0-9]*$ ]] || die 2 "SMOKE_REQUESTS must be 1 or more, not '$SMOKE_REQUESTS'"
  local command="${1:-}"
  [[ $# -eq 0 ]] || shift
  case "$command" in
    status) [[ $# -eq 0 ]] || die 2 "status takes no arguments"; cmd_status ;;
    switch) cmd_switch "$@" ;;
    rollback) cmd_rollback "$@" ;;
    preview) cmd_preview "$@" ;;
    -h | --help | help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//' ;;
    *) die 2 "usage: $0 status | switch [SLOT] [--dry-run] | rollback [--dry-run] | preview [SLOT] [--dry-run]" ;;
  esac
}

main "$@"
# {% endraw %}
