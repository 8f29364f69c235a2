#!/usr/bin/env bash
# The local Kubernetes cluster: one entry point that composes the platform's components
#   control-plane/  etcd, kube-apiserver, kube-controller-manager, kube-scheduler
#   kwok/           fake nodes (scale tests, benchmarks)
#   network/        the node network (a bridge in its own namespace, one veth on the host)
#   node/           real nodes: containerd + runc + CNI, kubelet, kube-proxy
#   network-policies/  NetworkPolicy enforcement on every real node
#   load-balancer/  addresses for LoadBalancer Services
#   flux/           GitOps controllers, when started (flux/flux.sh; make demo, make start);
#                   stopped here with the rest
#   add-ons (CLUSTER_ADDONS below), applied once the real nodes are Ready
# See platform/README.md (address plan, ports, state, logs, debugging).
#
# Usage: platform/cluster.sh start|stop|status|stats|env|logs [name]|images import ARCHIVE...|images list
#
# Env:
#   NODES=N              real nodes to start next to the control plane (default 1;
#                        NODES=3 for spreading, PDBs and drains; NODES=0: only kwok's
#                        fake nodes, which is all the API-only tests need)
#   PLATFORM_STATE       state dir (default /tmp/golden-path-platform)
#   PLATFORM_CACHE       build cache root (default ~/.cache/golden-path-portal)
#   KUBE_BIN_DIR         use Kubernetes binaries from this dir instead of building
#   KUBE_APISERVER_PORT, KUBE_ETCD_PORT  fixed ports (default: pick free ones)
#   KUBE_KEEP_STATE=1    `stop` keeps the state dir (logs) instead of deleting it
#   KUBE_START_TIMEOUT   seconds to wait for each component (default 90)
#   CLUSTER_ADDONS       space-separated add-on folders (overrides the list below)
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Add-ons, applied in this order after the real nodes are Ready (only with NODES>0).
# Each is a folder platform/<name>/ with an executable addon.sh:
#   addon.sh images   print the OCI archives its pods need, one path per line
#   addon.sh apply    create its objects (env: KUBECONFIG, KUBECTL, PLATFORM_STATE)
#   addon.sh wait     return once it serves (e.g. its Deployment is available)
DEFAULT_ADDONS=(
  coredns                # cluster DNS: *.svc.cluster.local
  metrics-server         # real CPU and memory for HPAs and `kubectl top`
  local-path-provisioner # the default StorageClass: PVCs get a folder on their node
)
read -r -a ADDONS <<< "${CLUSTER_ADDONS-${DEFAULT_ADDONS[*]}}"

usage() {
  cat >&2 <<EOF
usage: $0 start|stop|status|stats|env|logs [name]|images import ARCHIVE...|images list
  start   build-or-reuse binaries, start the control plane, kwok's fake nodes and
          NODES=${NODES:-1} real nodes, wait until ready, write ${KUBECONFIG_OUT}
  stop    stop everything and delete ${STATE} (KUBE_KEEP_STATE=1 keeps it); the machine
          is left as it was found
  status  which processes run and whether /readyz answers (exit 1 if not all up)
  stats   start-up times and memory (RSS, peak RSS) of every process, node processes too
  env     print 'export KUBECONFIG=... KUBE_AUDIT_LOG=...' (use: eval "\$($0 env)")
  logs    the tail of every log (or of one: $0 logs node-0/kubelet)
  images import ARCHIVE...   import OCI archives into every real node's containerd
  images list                images on every real node
EOF
  exit 2
}

cp_sh() { bash "${PLATFORM_DIR}/control-plane/control-plane.sh" "$@"; }

running() {
  load_ports
  [[ -n "${API_PORT:-}" ]] && alive kube-apiserver && alive etcd \
    && curl -fsS --max-time 5 --cacert "${PKI}/ca.crt" --cert "${PKI}/admin.crt" --key "${PKI}/admin.key" \
      "https://${API_HOST}:${API_PORT}/readyz" >/dev/null 2>&1
}

build_all() {
  local t0 b
  t0=$(date +%s.%N)
  BIN="$(bash "${PLATFORM_DIR}/kubernetes/build.sh")"
  for b in "${KUBE_BINARIES[@]}"; do
    [[ -x "${BIN}/${b}" ]] || die "missing ${BIN}/${b}; run platform/kubernetes/build.sh"
  done
  if (( NODES > 0 )); then
    bash "${PLATFORM_DIR}/network-policies/build.sh" > /dev/null
    bash "${PLATFORM_DIR}/load-balancer/build.sh" > /dev/null
    bash "${PLATFORM_DIR}/node/images.sh" pause > /dev/null
  fi
  printf 'binaries_ready_seconds=%s\n' "$(elapsed "${t0}" "$(date +%s.%N)")" >> "${STATE}/start-time"
}

# The add-on waits running side by side (start_addons), each in a process group of its
# own: an interrupted start stops each group whole, so no kubectl outlives the cluster it
# waits on (killing the wait's shell alone left its kubectl running, and a TERM sent to
# every `cluster.sh start` process kills those shells before this runs).
ADDON_WAIT_PIDS=()
kill_addon_waits() {
  local pid
  for pid in "${ADDON_WAIT_PIDS[@]}"; do
    kill -TERM -- "-${pid}" 2>/dev/null || true
  done
  ADDON_WAIT_PIDS=()
}

start_addons() {
  local a archives pid ready_at failed=0
  local -A started waits
  for a in "${ADDONS[@]}"; do
    [[ -x "${PLATFORM_DIR}/${a}/addon.sh" ]] || die "add-on ${a}: ${PLATFORM_DIR}/${a}/addon.sh is missing or not executable"
    started[${a}]=$(date +%s.%N)
    mapfile -t archives < <(bash "${PLATFORM_DIR}/${a}/addon.sh" images)
    (( ${#archives[@]} == 0 )) || bash "${PLATFORM_DIR}/node/images.sh" import "${archives[@]}"
    KUBECONFIG="${KUBECONFIG_OUT}" KUBECTL="${BIN}/kubectl" bash "${PLATFORM_DIR}/${a}/addon.sh" apply
  done
  # All applied, then waited for side by side: most of a wait is the cluster's (a first
  # metrics scrape, a test volume provisioned), and no add-on needs another to serve.
  # setsid: a new process group whose id is $! (a background job of a script is never
  # a group leader, so setsid needs no fork); the wait records when it ended.
  for a in "${ADDONS[@]}"; do
    rm -f "${STATE}/.addon-${a}-ready-at"
    KUBECONFIG="${KUBECONFIG_OUT}" KUBECTL="${BIN}/kubectl" setsid bash -c \
      'bash "$1" wait && date +%s.%N > "$2"' _ "${PLATFORM_DIR}/${a}/addon.sh" "${STATE}/.addon-${a}-ready-at" &
    waits[${a}]=$!
    ADDON_WAIT_PIDS+=("$!")
  done
  for a in "${ADDONS[@]}"; do
    pid=${waits[${a}]}
    if wait "${pid}"; then
      ready_at="$(cat "${STATE}/.addon-${a}-ready-at")"
      printf 'addon_%s_seconds=%s\n' "${a//-/_}" "$(elapsed "${started[${a}]}" "${ready_at}")" >> "${STATE}/start-time"
      log "add-on ${a} ready in $(elapsed "${started[${a}]}" "${ready_at}") s"
    else
      log "add-on ${a} did not become ready (its output is above)"; failed=1
    fi
    rm -f "${STATE}/.addon-${a}-ready-at"
  done
  ADDON_WAIT_PIDS=()
  (( failed == 0 )) || die "add-ons not ready: the cluster is not usable"
}

start_all() {
  NODES="${NODES:-1}"
  [[ "${NODES}" =~ ^[0-9]+$ ]] && (( NODES <= MAX_REAL_NODES )) || die "NODES must be 0..${MAX_REAL_NODES} (got '${NODES}')"
  if running; then
    local have; have="$(running_nodes)"
    (( have == NODES )) || die "a cluster with ${have} real node(s) already runs; stop it first (platform/cluster.sh stop) to start one with NODES=${NODES}"
    log "cluster already running (kube-apiserver https://${API_HOST}:${API_PORT}, ${have} real node(s))"
    print_env_hint
    return 0
  fi
  # Leftovers of a crashed or half-stopped run: clear them.
  [[ -d "${STATE}" ]] && { stop_all >/dev/null 2>&1 || true; }
  (( NODES == 0 )) || ensure_platform_packages
  command -v openssl >/dev/null || die "openssl is required to create the cluster's certificates (apt-get install -y openssl)"
  require_cmd curl curl
  require_cmd ss iproute2

  mkdir -p "${STATE}" "${LOGS}" "${PIDS}"
  chmod 700 "${STATE}"
  : > "${STATE}/.ports-taken"
  : > "${STATE}/start-time"
  printf '%s\n' "${NODES}" > "${STATE}/nodes.count"
  # Whatever fails or is interrupted from here on, stop what was started (keep the logs).
  trap 'rc=$?; kill_addon_waits; if (( rc != 0 )); then log "start failed: stopping the partial cluster (logs kept in ${LOGS})"; KUBE_KEEP_STATE=1 stop_all >/dev/null 2>&1 || true; fi' EXIT
  trap 'exit 130' INT TERM

  local t0 i; t0=$(date +%s.%N)
  build_all
  export BIN NODES
  (( NODES == 0 )) || bash "${PLATFORM_DIR}/network/network.sh" up "${NODES}"
  cp_sh start
  load_ports
  bash "${PLATFORM_DIR}/kwok/kwok.sh" start
  if (( NODES > 0 )); then
    bash "${PLATFORM_DIR}/network-policies/agent.sh" prepare
    for (( i=0; i<NODES; i++ )); do bash "${PLATFORM_DIR}/node/node.sh" start "${i}"; done
    for (( i=0; i<NODES; i++ )); do bash "${PLATFORM_DIR}/node/node.sh" wait "${i}"; done
    bash "${PLATFORM_DIR}/load-balancer/load-balancer.sh" start
    start_addons
  fi
  local total; total="$(elapsed "${t0}" "$(date +%s.%N)")"
  printf 'all_ready_seconds=%s\n' "${total}" >> "${STATE}/start-time"
  trap - EXIT INT TERM
  log "cluster ready in ${total} s: Kubernetes $("${BIN}/kube-apiserver" --version | awk '{print $2}'), ${NODES} real node(s), 2 kwok nodes"
  print_env_hint
}

print_env_hint() {
  cat >&2 <<EOF
[platform] kubeconfig (admin, system:masters): ${KUBECONFIG_OUT}
[platform] use it:   export KUBECONFIG=${KUBECONFIG_OUT}
[platform]           ${BIN:-$(kube_bin_dir)}/kubectl get nodes
[platform] stop it:  platform/cluster.sh stop
EOF
}

stop_all() {
  local n i rc=0
  n="$(running_nodes)"
  # Keep going when one part fails: the rest must still be stopped.
  bash "${PLATFORM_DIR}/flux/flux.sh" stop || rc=1
  bash "${PLATFORM_DIR}/load-balancer/load-balancer.sh" stop || rc=1
  for (( i=n-1; i>=0; i-- )); do bash "${PLATFORM_DIR}/node/node.sh" stop "${i}" || rc=1; done
  bash "${PLATFORM_DIR}/kwok/kwok.sh" stop || rc=1
  cp_sh stop || rc=1
  # Last: the API server listens on the node network and talks to itself while it shuts
  # down (it deletes its endpoint lease).
  bash "${PLATFORM_DIR}/network/network.sh" down || rc=1
  if (( rc != 0 )); then
    log "some parts did not stop cleanly (messages above); state kept in ${STATE}"
    return 1
  fi
  if [[ "${KUBE_KEEP_STATE:-0}" == 1 ]]; then
    rm -rf "${STATE}/etcd" "${PKI}" "${STATE}/nodes"
    log "stopped; logs kept in ${LOGS}"
  else
    rm -rf "${STATE}"
    log "stopped; removed ${STATE}"
  fi
}

# Every process of the cluster: "name pid" lines (node shims included).
processes() {
  local c n i dir mntns p
  for c in $(cp_sh components) kwok load-balancer flux/source-controller flux/kustomize-controller; do
    alive "${c}" && printf '%s %s\n' "${c}" "$(pid_of "${c}")"
  done
  n="$(running_nodes)"
  for (( i=0; i<n; i++ )); do
    for c in containerd kubelet kube-proxy network-policies; do
      alive "$(node_name "${i}")/${c}" && printf '%s %s\n' "$(node_name "${i}")/${c}" "$(pid_of "$(node_name "${i}")/${c}")"
    done
    dir="$(node_dir "${i}")"
    mntns="$(cat "${dir}/mntns" 2>/dev/null || true)"
    [[ -n "${mntns}" ]] || continue
    for p in /proc/[0-9]*; do
      [[ "$(cat "${p}/comm" 2>/dev/null)" == containerd-shim* && "$(readlink "${p}/ns/mnt" 2>/dev/null)" == "${mntns}" ]] \
        && printf '%s %s\n' "$(node_name "${i}")/shim" "${p#/proc/}"
    done
  done
  return 0
}

# Resident memory: current (VmRSS) and peak (VmHWM), per process and summed.
stats_all() {
  local name p rss hwm total_rss=0 total_hwm=0
  [[ -f "${STATE}/start-time" ]] && sed 's/=/: /; s/$/ s/' "${STATE}/start-time"
  while read -r name p; do
    rss="$(awk '/^VmRSS:/ {print $2}' "/proc/${p}/status" 2>/dev/null || echo 0)"
    hwm="$(awk '/^VmHWM:/ {print $2}' "/proc/${p}/status" 2>/dev/null || echo 0)"
    printf '%-30s pid %-7s rss %6d MiB  peak %6d MiB\n' "${name}" "${p}" $((rss / 1024)) $((hwm / 1024))
    total_rss=$((total_rss + rss)); total_hwm=$((total_hwm + hwm))
  done < <(processes)
  printf '%-30s %-11s rss %6d MiB  peak %6d MiB (sum of per-process peaks)\n' total "" $((total_rss / 1024)) $((total_hwm / 1024))
}

status_all() {
  local c rc=0 n i
  load_ports
  for c in $(cp_sh components) kwok; do
    if alive "${c}"; then printf '%-30s running (pid %s)\n' "${c}" "$(pid_of "${c}")"; else printf '%-30s stopped\n' "${c}"; rc=1; fi
  done
  n="$(running_nodes)"
  if (( n > 0 )); then
    if alive load-balancer; then printf '%-30s running (pid %s)\n' load-balancer "$(pid_of load-balancer)"; else printf '%-30s stopped\n' load-balancer; rc=1; fi
    for (( i=0; i<n; i++ )); do bash "${PLATFORM_DIR}/node/node.sh" status "${i}" || rc=1; done
  fi
  # Flux is optional: shown when it was started, a failure only if it then stopped.
  if [[ -d "${PIDS}/flux" ]] && compgen -G "${PIDS}/flux/*.pid" >/dev/null; then
    bash "${PLATFORM_DIR}/flux/flux.sh" status || rc=1
  fi
  if running; then
    printf '%-30s ok (https://%s:%s)\n' readyz "${API_HOST}" "${API_PORT}"
  else
    printf '%-30s not answering\n' readyz; rc=1
  fi
  return "${rc}"
}

logs_all() {
  local f
  if [[ -n "${1:-}" ]]; then tail_log "$1" 200; return; fi
  [[ -d "${LOGS}" ]] || die "no logs at ${LOGS}"
  while read -r f; do
    f="${f#"${LOGS}"/}"; tail_log "${f%.log}" 30
  done < <(find "${LOGS}" -name '*.log' ! -name audit.log ! -name bootstrap.log | sort)
}

case "${1:-}" in
  start) start_all ;;
  stop) stop_all ;;
  status) status_all ;;
  stats) stats_all ;;
  env)
    [[ -f "${KUBECONFIG_OUT}" ]] || die "no cluster state at ${STATE}; run: platform/cluster.sh start"
    printf 'export KUBECONFIG=%q\n' "${KUBECONFIG_OUT}"
    printf 'export KUBE_AUDIT_LOG=%q\n' "${LOGS}/audit.log"
    ;;
  logs) logs_all "${2:-}" ;;
  images)
    case "${2:-}" in
      import) shift 2; bash "${PLATFORM_DIR}/node/images.sh" import "$@" ;;
      list) bash "${PLATFORM_DIR}/node/images.sh" list ;;
      *) usage ;;
    esac ;;
  *) usage ;;
esac
