#!/usr/bin/env bash
# What scripts/bg-switch.sh knows about the cluster: it reads the live and preview
# Services, the slots' Deployments, their pods and the EndpointSlices with plain kubectl
# (go-templates, one line per fact) and finds the blue-green pair exactly as the portal's
# Rollouts plugin does (detectBlueGreen() in blueGreen.ts). Sourced by bg-switch.sh, which
# defines k, die, nv, json_str and the settings (NAMESPACE, SERVICE, SLOT_LABEL, ...);
# nothing here writes.
# shellcheck disable=SC2034  # the globals it sets (D_*, POD_*, ...) are read by bg-switch.sh
# {% raw %} (bash, rendered unchanged)
# --- reading the cluster (kubectl go-templates, one line per fact) -------------------------

# shellcheck disable=SC2016  # go-template variables, not shell ones
SERVICE_TEMPLATE='uid={{.metadata.uid}}
{{with .metadata.annotations}}annotations=yes
{{range $k, $v := .}}{{if eq $k "rollouts.backstage.io/entity-ref" "rollouts.backstage.io/previous-slot" "rollouts.backstage.io/preview-of"}}annotation.{{$k}}={{$v}}
{{end}}{{end}}{{end}}{{range $k, $v := .spec.selector}}selector.{{$k}}={{$v}}
{{end}}{{range .spec.ports}}port={{.port}}
{{end}}'
# shellcheck disable=SC2016
DEPLOYMENTS_TEMPLATE='{{range .items}}{{.metadata.name}}|{{.metadata.generation}}|{{.spec.replicas}}|{{.spec.paused}}|{{with .status}}{{.observedGeneration}}|{{.replicas}}|{{.updatedReplicas}}|{{.readyReplicas}}|{{.availableReplicas}}|{{range .conditions}}{{if eq .type "Progressing"}}{{.reason}}{{end}}{{end}}{{else}}|||||{{end}}|{{with .metadata.annotations}}{{index . "rollouts.backstage.io/entity-ref"}}{{end}}|{{range $k, $v := .spec.template.metadata.labels}}{{$k}}={{$v}},{{end}}|{{range .spec.template.spec.containers}}{{.image}},{{end}}
{{end}}'
# shellcheck disable=SC2016
PODS_TEMPLATE='{{range .items}}{{.metadata.name}}|{{if .metadata.deletionTimestamp}}deleting{{end}}|{{with .status}}{{.phase}}|{{range .conditions}}{{if eq .type "Ready"}}{{.status}}{{end}}{{end}}{{else}}|{{end}}|{{range $k, $v := .metadata.labels}}{{$k}}={{$v}},{{end}}
{{end}}'
# shellcheck disable=SC2016
ENDPOINTS_TEMPLATE='{{range .items}}{{range .endpoints}}{{with .targetRef}}{{.kind}}/{{.name}}{{end}}|{{with .conditions}}{{.ready}}{{end}}|{{range .addresses}}{{.}},{{end}}
{{end}}{{end}}'

# kubectl_read OUTVAR ARGS...: the output of `kubectl -n NAMESPACE ARGS...`, or exit 2
# with kubectl's error.
kubectl_read() {
  local __out="$1" __val err; shift
  err="$(mktemp)"
  if ! __val="$(k "$@" 2>"$err")"; then
    local msg; msg="$(cat "$err")"; rm -f "$err"
    if [[ "$msg" == *NotFound* ]]; then
      die 2 "${msg#Error from server (NotFound): } in namespace $NAMESPACE (set NAMESPACE, SERVICE or PREVIEW_SERVICE?)"
    fi
    die 2 "kubectl ${*:1:2} failed: ${msg:-no output}"
  fi
  rm -f "$err"
  printf -v "$__out" '%s' "$__val"
}

# read_service NAME PREFIX: sets PREFIX_UID, PREFIX_OWNER, PREFIX_HAS_OWNER, PREFIX_PREV,
# PREFIX_HAS_PREV, PREFIX_HAS_ANNOTATIONS, PREFIX_PORT, PREFIX_SLOT, PREFIX_HAS_SLOT and
# PREFIX_REST (the selector without the slot label, as sorted k=v lines).
read_service() {
  local name="$1" p="$2" out line key value rest=() port="" slot="" has_slot=0
  local uid="" owner="" has_owner=0 prev="" has_prev=0 has_ann=0 preview_of=""
  kubectl_read out get service "$name" -o "go-template=$SERVICE_TEMPLATE"
  while IFS= read -r line; do
    case "$line" in
      uid=*) uid="${line#uid=}" ;;
      annotations=yes) has_ann=1 ;;
      "annotation.$ENTITY_REF_ANNOTATION="*) owner="${line#*=}"; has_owner=1 ;;
      "annotation.$PREVIOUS_SLOT_ANNOTATION="*) prev="${line#*=}"; has_prev=1 ;;
      "annotation.$PREVIEW_OF_ANNOTATION="*) preview_of="${line#*=}" ;;
      selector.*)
        key="${line#selector.}"; key="${key%%=*}"; value="${line#*=}"
        if [[ "$key" == "$SLOT_LABEL" ]]; then slot="$value"; has_slot=1; else rest+=("$key=$value"); fi ;;
      port=*) [[ -n "$port" ]] || port="${line#port=}" ;;
    esac
  done <<<"$out"
  printf -v "${p}_UID" '%s' "$uid"
  printf -v "${p}_OWNER" '%s' "$owner"
  printf -v "${p}_HAS_OWNER" '%s' "$has_owner"
  printf -v "${p}_PREV" '%s' "$prev"
  printf -v "${p}_HAS_PREV" '%s' "$has_prev"
  printf -v "${p}_HAS_ANNOTATIONS" '%s' "$has_ann"
  printf -v "${p}_PORT" '%s' "$port"
  printf -v "${p}_PREVIEW_OF" '%s' "$preview_of"
  printf -v "${p}_SLOT" '%s' "$slot"
  printf -v "${p}_HAS_SLOT" '%s' "$has_slot"
  printf -v "${p}_REST" '%s' "$( ((${#rest[@]})) && printf '%s\n' "${rest[@]}" | sort)"
}

declare -A D_GEN D_SPEC_REPLICAS D_PAUSED D_OBS D_CURRENT D_UPDATED D_READY D_AVAIL \
  D_PROGRESS D_OWNER D_LABELS D_IMAGE
DEPLOYMENTS=()
read_deployments() {
  local out name gen replicas paused obs current updated ready avail progress owner labels images
  kubectl_read out get deployments -o "go-template=$DEPLOYMENTS_TEMPLATE"
  DEPLOYMENTS=()
  while IFS='|' read -r name gen replicas paused obs current updated ready avail progress owner labels images; do
    [[ -n "$name" ]] || continue
    DEPLOYMENTS+=("$name")
    D_GEN[$name]="$(nv "$gen")"
    D_SPEC_REPLICAS[$name]="$(nv "$replicas")"
    D_PAUSED[$name]="$(nv "$paused")"
    D_OBS[$name]="$(nv "$obs")"
    D_CURRENT[$name]="$(nv "$current")"
    D_UPDATED[$name]="$(nv "$updated")"
    D_READY[$name]="$(nv "$ready")"
    D_AVAIL[$name]="$(nv "$avail")"
    D_PROGRESS[$name]="$(nv "$progress")"
    D_OWNER[$name]="$(nv "$owner")"
    D_LABELS[$name]=",$labels"
    D_IMAGE[$name]="${images%%,*}"
  done <<<"$out"
}

# label_of LABELS KEY: the value of KEY in ",k=v,k=v," (status 1 when absent).
label_of() {
  local labels="$1" key="$2"
  [[ "$labels" == *",$key="* ]] || return 1
  local v="${labels#*,"$key"=}"
  printf '%s' "${v%%,*}"
}

declare -A POD_SLOT POD_READY
PODS=()
read_pods() {
  local out name deleting phase ready labels slot
  kubectl_read out get pods -o "go-template=$PODS_TEMPLATE"
  PODS=(); POD_SLOT=(); POD_READY=()
  while IFS='|' read -r name deleting phase ready labels; do
    [[ -n "$name" ]] || continue
    PODS+=("$name")
    if slot="$(label_of ",$labels" "$SLOT_LABEL")"; then POD_SLOT[$name]="$slot"; fi
    if [[ -z "$deleting" && "$phase" == Running && "$ready" == True ]]; then POD_READY[$name]=1; fi
  done <<<"$out"
}

# read_endpoints SERVICE: like endpointsBySlot() in blueGreen.ts. Sets EP_BY_SLOT (ready
# endpoints per slot), EP_UNKNOWN (ready endpoints of no known slot), EP_NOT_READY
# (endpoints with ready=false) and EP_READY_PODS (names of ready endpoint pods).
declare -A EP_BY_SLOT
EP_UNKNOWN=0; EP_NOT_READY=0; EP_READY_PODS=()
read_endpoints() {
  local out ref ready addresses key pod
  local -A seen=()
  kubectl_read out get endpointslices -l "$SERVICE_NAME_LABEL=$1" -o "go-template=$ENDPOINTS_TEMPLATE"
  EP_BY_SLOT=(); EP_UNKNOWN=0; EP_NOT_READY=0; EP_READY_PODS=()
  while IFS='|' read -r ref ready addresses; do
    [[ -n "$ref$ready$addresses" ]] || continue
    if [[ "$ready" == false ]]; then EP_NOT_READY=$((EP_NOT_READY + 1)); continue; fi
    pod=""; [[ "$ref" == Pod/* ]] && pod="${ref#Pod/}"
    key="${pod:-${addresses%,}}"
    [[ -z "${seen[$key]:-}" ]] || continue
    seen[$key]=1
    if [[ -n "$pod" && -n "${POD_SLOT[$pod]+set}" ]]; then
      EP_BY_SLOT[${POD_SLOT[$pod]}]=$((${EP_BY_SLOT[${POD_SLOT[$pod]}]:-0} + 1))
      EP_READY_PODS+=("$pod")
    else
      EP_UNKNOWN=$((EP_UNKNOWN + 1))
    fi
  done <<<"$out"
}

# traffic_only SLOT: the endpoints read last route only to SLOT (trafficConverged()).
traffic_only() {
  local s
  ((EP_UNKNOWN == 0)) || return 1
  ((${EP_BY_SLOT[$1]:-0} > 0)) || return 1
  for s in "${!EP_BY_SLOT[@]}"; do [[ "$s" == "$1" ]] || ((EP_BY_SLOT[$s] == 0)) || return 1; done
}
# traffic_summary: "blue=2 green=0 unknown=0 not-ready=1" of the endpoints read last.
traffic_summary() {
  local s parts=()
  for s in "${SLOTS[@]}"; do parts+=("$s=${EP_BY_SLOT[$s]:-0}"); done
  for s in "${!EP_BY_SLOT[@]}"; do [[ " ${SLOTS[*]} " == *" $s "* ]] || parts+=("$s=${EP_BY_SLOT[$s]}"); done
  parts+=("unknown=$EP_UNKNOWN" "not-ready=$EP_NOT_READY")
  printf '%s' "${parts[*]}"
}

# --- the blue-green pair, as detectBlueGreen() in blueGreen.ts sees it ---------------------

declare -A SLOT_DEPLOYMENT
SLOTS=(); PROBLEMS=()
detect_pair() {
  local d labels slot rest_line ok
  local -A claimed=()
  SLOT_DEPLOYMENT=(); SLOTS=(); PROBLEMS=()
  for d in "${DEPLOYMENTS[@]}"; do
    labels="${D_LABELS[$d]}"
    slot="$(label_of "$labels" "$SLOT_LABEL")" || continue
    ok=1
    while IFS= read -r rest_line; do
      [[ -z "$rest_line" || "$labels" == *",$rest_line,"* ]] || { ok=0; break; }
    done <<<"$LIVE_REST"
    ((ok)) || continue
    claimed[$slot]="${claimed[$slot]:+${claimed[$slot]}, }$d"
  done
  for slot in "${!claimed[@]}"; do
    if [[ "${claimed[$slot]}" == *", "* ]]; then
      PROBLEMS+=("Slot '$slot' is claimed by several Deployments (${claimed[$slot]}); a slot must map to exactly one Deployment.")
    else
      SLOT_DEPLOYMENT[$slot]="${claimed[$slot]}"
    fi
  done
  ((${#claimed[@]} >= 2)) || PROBLEMS+=("Found ${#claimed[@]} slot(s) for the selector; a blue-green pair needs two Deployments whose pod labels differ only in '$SLOT_LABEL'.")
  if ((${#SLOT_DEPLOYMENT[@]})); then
    mapfile -t SLOTS < <(printf '%s\n' "${!SLOT_DEPLOYMENT[@]}" | LC_ALL=C sort)
  fi
}

# rollout DEPLOYMENT: sets ROLLOUT_COMPLETE (0/1) and ROLLOUT_MESSAGE, the same checks in
# the same order as deriveRolloutStatus() in rolloutStatus.ts (kubectl rollout status).
rollout() {
  local d="$1"
  local gen="${D_GEN[$d]:-0}" obs="${D_OBS[$d]:-0}" spec="${D_SPEC_REPLICAS[$d]}"
  local updated="${D_UPDATED[$d]:-0}" current="${D_CURRENT[$d]:-0}" available="${D_AVAIL[$d]:-0}"
  ROLLOUT_COMPLETE=0
  if ((${gen:-0} > ${obs:-0})); then
    ROLLOUT_MESSAGE='Waiting for deployment spec update to be observed...'
  elif [[ "${D_PROGRESS[$d]}" == ProgressDeadlineExceeded ]]; then
    ROLLOUT_MESSAGE="deployment \"$d\" exceeded its progress deadline"
  elif [[ -n "$spec" ]] && ((updated < spec)); then
    ROLLOUT_MESSAGE="Waiting for deployment \"$d\" rollout to finish: $updated out of $spec new replicas have been updated..."
  elif ((current > updated)); then
    ROLLOUT_MESSAGE="Waiting for deployment \"$d\" rollout to finish: $((current - updated)) old replicas are pending termination..."
  elif ((available < updated)); then
    ROLLOUT_MESSAGE="Waiting for deployment \"$d\" rollout to finish: $available of $updated updated replicas are available..."
  else
    ROLLOUT_MESSAGE="deployment \"$d\" successfully rolled out"
    ROLLOUT_COMPLETE=1
  fi
}

# not_ready_reason DEPLOYMENT: empty when the slot may take traffic, like slotReadiness().
not_ready_reason() {
  local d="$1" desired="${D_SPEC_REPLICAS[$1]:-1}" available="${D_AVAIL[$1]:-0}"
  rollout "$d"
  if [[ "${D_PAUSED[$d]}" == true ]]; then printf 'the Deployment is paused'
  elif ((!ROLLOUT_COMPLETE)); then printf '%s' "$ROLLOUT_MESSAGE"
  elif ((desired < 1)); then printf 'the Deployment is scaled to 0 replicas'
  elif ((available < desired)); then printf 'only %s of %s replicas are available' "$available" "$desired"
  fi
}

# slot_version SLOT: the version the target must report: the pod template's
# app.kubernetes.io/version label, else the tag of its first container's image.
slot_version() {
  local d="${SLOT_DEPLOYMENT[$1]}" v image
  if v="$(label_of "${D_LABELS[$d]}" "$VERSION_LABEL")" && [[ -n "$v" ]]; then printf '%s' "$v"; return; fi
  image="${D_IMAGE[$d]%%@*}"
  [[ "${image##*/}" == *:* ]] && printf '%s' "${image##*:}"
}

load_state() {
  read_service "$SERVICE" LIVE
  [[ "$LIVE_HAS_SLOT" == 1 && -n "$LIVE_SLOT" ]] || die 2 "Service $NAMESPACE/$SERVICE is not blue-green: its selector has no '$SLOT_LABEL' label"
  read_deployments
  read_pods
  detect_pair
}

load_preview() {
  read_service "$PREVIEW_SERVICE" PREVIEW
  [[ "$PREVIEW_HAS_SLOT" == 1 && -n "$PREVIEW_SLOT" ]] || die 2 "Service $NAMESPACE/$PREVIEW_SERVICE (PREVIEW_SERVICE) has no '$SLOT_LABEL' label in its selector: it cannot preview a slot"
  [[ -z "$PREVIEW_PREVIEW_OF" || "$PREVIEW_PREVIEW_OF" == "$SERVICE" ]] \
    || die 2 "Service $PREVIEW_SERVICE is the preview of '$PREVIEW_PREVIEW_OF' ($PREVIEW_OF_ANNOTATION), not of $SERVICE: set PREVIEW_SERVICE"
  [[ "$PREVIEW_REST" == "$LIVE_REST" ]] \
    || die 2 "the preview Service $PREVIEW_SERVICE selects other pods than $SERVICE (besides '$SLOT_LABEL'): [${PREVIEW_REST//$'\n'/ }] vs [${LIVE_REST//$'\n'/ }]"
}

# idle_slot: the one known slot that is not live (status 1 if there is not exactly one).
idle_slot() {
  local s idle=()
  for s in "${SLOTS[@]}"; do [[ "$s" == "$LIVE_SLOT" ]] || idle+=("$s"); done
  ((${#idle[@]} == 1)) || return 1
  printf '%s' "${idle[0]}"
}
# {% endraw %}
