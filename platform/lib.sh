#!/usr/bin/env bash
# Shared by every script of the local platform (platform/*). Source it; do not run it.
#
# The one place for the platform's state, caches, addresses and ports:
#   PLATFORM_STATE  running cluster: kubeconfig, pki, logs, pids, ports, node state
#                   (default /tmp/golden-path-platform; removed by `cluster.sh stop`)
#   PLATFORM_CACHE  built binaries and images, keyed by version and inputs
#                   (default ~/.cache/golden-path-portal; never needed, always reused)
# shellcheck disable=SC2034

PLATFORM_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${PLATFORM_DIR}/.." && pwd)"
KUBERNETES_MODULE_DIR="${PLATFORM_DIR}/kubernetes"

PLATFORM_CACHE="${PLATFORM_CACHE:-${HOME}/.cache/golden-path-portal}"
PLATFORM_STATE="${PLATFORM_STATE:-/tmp/golden-path-platform}"
# kubectl's discovery and HTTP caches go with the platform's other caches, not in the
# user's ~/.kube/cache, where each local cluster (a new API port every start) would add
# its own folder.
export KUBECACHEDIR="${KUBECACHEDIR:-${PLATFORM_CACHE}/kubectl}"
# The builds `cluster.sh start` needs (each a cached Go build under its own lock), relative
# to platform/: prebuild.sh runs them ahead, tests that time a start run them first.
# shellcheck disable=SC2034  # used by the scripts that source this file
CLUSTER_BUILDS=(kubernetes/build.sh network-policies/build.sh load-balancer/build.sh
  coredns/build.sh metrics-server/build.sh local-path-provisioner/build.sh)

STATE="${PLATFORM_STATE}"
PKI="${STATE}/pki"
LOGS="${STATE}/logs"
PIDS="${STATE}/pids"
KUBECONFIG_OUT="${STATE}/kubeconfig"
PORTS_ENV="${STATE}/ports.env"

# ---------------------------------------------------------------- address plan
# Only ranges reserved for documentation and benchmarks (RFC 5737, RFC 2544), never
# 10/8, 172.16/12 or 192.168/16, so no traffic looks as if it leaves the machine. On
# this VM two of the reserved ranges are the machine's real network and cannot be used:
# 192.0.2.0/24 is the uplink (eth0 192.0.2.2, gateway 192.0.2.1) and 203.0.113.80 is
# the package registries' proxy (Go, npm, PyPI and Debian resolve to it). preflight
# (network/network.sh) refuses to start if a range is routed or a registry resolves
# into one.
NODE_NET_PREFIX="198.51.100"        # node network (a bridge in the "lan" namespace)
NODE_NET_MASK=25
NODE_NET_CIDR="${NODE_NET_PREFIX}.0/${NODE_NET_MASK}"
NODE_NET_HOST_IP="${NODE_NET_PREFIX}.1" # the host's side; the API server listens here
NODE_NET_HOST_IF="gp-nodenet"       # the host's only new interface (a veth)
LB_POOL_CIDR="${NODE_NET_PREFIX}.128/25" # LoadBalancer addresses, routed from the host to node-0
POD_CIDR="198.18.0.0/16"            # node i: 198.18.i.0/24
KWOK_POD_CIDR="198.18.128.0/17"     # IPs of fake pods: never those of a real node
SERVICE_CIDR="198.19.0.0/16"
KUBERNETES_SERVICE_IP="198.19.0.1"
CLUSTER_DNS_IP="198.19.0.10"        # reserved for the cluster DNS add-on
CLUSTER_DOMAIN="cluster.local"
MAX_REAL_NODES=8

node_name() { printf 'node-%s\n' "$1"; }
node_ip() { printf '%s.%s\n' "${NODE_NET_PREFIX}" "$((11 + $1))"; }
node_pod_cidr() { printf '198.18.%s.0/24\n' "$1"; }
node_pod_gateway() { printf '198.18.%s.1\n' "$1"; }
node_dir() { printf '%s/nodes/%s\n' "${STATE}" "$(node_name "$1")"; }
node_cgroup_root() { printf '/golden-path-%s\n' "$(node_name "$1")"; }

# Labels and taints that keep real and fake (KWOK) nodes apart.
REAL_NODE_LABEL_KEY="golden-path.dev/node"
REAL_NODE_LABEL_VALUE="real"
KWOK_NODE_LABEL_KEY="type"
KWOK_NODE_LABEL_VALUE="kwok"
KWOK_TAINT_KEY="kwok.x-k8s.io/node"
KWOK_TAINT_VALUE="fake"

log() { printf '[platform] %s\n' "$*" >&2; }
die() { printf '[platform] ERROR: %s\n' "$*" >&2; exit 1; }

# shellcheck source=scripts/lib/apt.sh
source "${REPO_ROOT}/scripts/lib/apt.sh"

# The Debian packages of real nodes (containerd, runc, CNI plugins, nftables, ...) and of
# the images built here (mmdebstrap, buildah, a static busybox, gcc for pause). The
# setup stage of `make test`, `make cluster` and `make demo` install them when run as
# root; otherwise they name the apt-get line.
PLATFORM_APT_PACKAGES=(
  containerd runc containernetworking-plugins nftables iproute2 util-linux openssl curl
  patch busybox-static gcc libc6-dev jq libcap2-bin mmdebstrap buildah python3 python3-venv
)
ensure_platform_packages() { ensure_apt_packages "${PLATFORM_APT_PACKAGES[@]}"; }

# take_build_lock <name>: one build of a name at a time (Go programs, images). A second
# caller (make test's background prebuild, platform/prebuild.sh, and a stage that needs
# the result now; two test files building one image) waits, then reuses what the first
# built. Sets BUILD_LOCK_FD; the lock goes with the process, or earlier with
# `exec {BUILD_LOCK_FD}>&-`.
take_build_lock() {
  mkdir -p "${PLATFORM_CACHE}"
  exec {BUILD_LOCK_FD}>"${PLATFORM_CACHE}/.$1.lock"
  if ! flock -n "${BUILD_LOCK_FD}"; then
    log "waiting for the build of $1 that is running"
    flock "${BUILD_LOCK_FD}"
  fi
}

# require_cmd COMMAND DEBIAN_PACKAGE
require_cmd() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is missing: apt-get install -y $2"
}

# The Kubernetes version is whatever platform/kubernetes/go.mod requires.
kube_version() {
  local v
  v="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v1\./ { print $2; exit }' "${KUBERNETES_MODULE_DIR}/go.mod")"
  [[ -n "${v}" ]] || die "cannot find the k8s.io/kubernetes requirement in ${KUBERNETES_MODULE_DIR}/go.mod"
  printf '%s\n' "${v}"
}

# Directory holding the built Kubernetes binaries (override with KUBE_BIN_DIR).
kube_bin_dir() {
  if [[ -n "${KUBE_BIN_DIR:-}" ]]; then
    printf '%s\n' "${KUBE_BIN_DIR}"
  else
    printf '%s/kube-%s\n' "${PLATFORM_CACHE}" "$(kube_version)"
  fi
}

KUBE_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler etcd kwok kubectl kubelet kube-proxy)

# Number of real nodes of the running cluster (0 when none runs).
running_nodes() {
  local n=0
  [[ -f "${STATE}/nodes.count" ]] && n="$(cat "${STATE}/nodes.count")"
  printf '%s\n' "${n}"
}

kubectl_admin() { "${BIN:-$(kube_bin_dir)}/kubectl" --kubeconfig "${KUBECONFIG_OUT}" "$@"; }

# ---------------------------------------------------------------- ports
# Ports come from outside the kernel's ephemeral range (ip_local_port_range): a
# listener there can lose its port to any outgoing connection opened in between
# picking and binding (seen: "kwok ... bind: address already in use").
ephemeral_range() { read -r EPHEMERAL_LOW EPHEMERAL_HIGH < /proc/sys/net/ipv4/ip_local_port_range; }

port_in_use() { ss -Htan "( sport = :$1 )" 2>/dev/null | grep -q .; }
# A server listens on the port (TIME-WAIT leftovers of closed connections do not count:
# a server that sets SO_REUSEADDR, as Go's do, binds next to them).
port_listening() { ss -Hltn "( sport = :$1 )" 2>/dev/null | grep -q .; }

# pick_port WANT WHAT -> WANT (error if busy) or a free port outside the ephemeral range.
pick_port() {
  local want="$1" what="$2" p i span_low span_high
  if [[ -n "${want}" ]]; then
    port_in_use "${want}" && die "port ${want} for ${what} is already in use; free it or unset the variable to let the script pick a free port"
    printf '%s\n' "${want}"; return
  fi
  ephemeral_range
  # Below the range (down to 10000) and above it (up to 65535).
  span_low=$(( EPHEMERAL_LOW > 10000 ? EPHEMERAL_LOW - 10000 : 0 ))
  span_high=$(( 65535 - EPHEMERAL_HIGH ))
  (( span_low + span_high > 100 )) || die "no room for ports outside ip_local_port_range (${EPHEMERAL_LOW}-${EPHEMERAL_HIGH})"
  for i in $(seq 1 200); do
    p=$(( (RANDOM * 32768 + RANDOM) % (span_low + span_high) ))
    if (( p < span_low )); then p=$(( 10000 + p )); else p=$(( EPHEMERAL_HIGH + 1 + p - span_low )); fi
    if ! port_in_use "${p}" && ! grep -qx "${p}" "${STATE}/.ports-taken" 2>/dev/null; then
      printf '%s\n' "${p}" >> "${STATE}/.ports-taken"
      printf '%s\n' "${p}"; return
    fi
  done
  die "could not find a free port for ${what}"
}

# set_port VAR VALUE: remember a port in ports.env (sourced by every component script).
set_port() {
  local var="$1" value="$2"
  touch "${PORTS_ENV}"
  sed -i "/^${var}=/d" "${PORTS_ENV}"
  printf '%s=%s\n' "${var}" "${value}" >> "${PORTS_ENV}"
  printf -v "${var}" '%s' "${value}"
}

load_ports() {
  # shellcheck disable=SC1090
  [[ -f "${PORTS_ENV}" ]] && source "${PORTS_ENV}"
  return 0
}

# ---------------------------------------------------------------- processes
# Each process has a name (e.g. kube-apiserver, node-0/kubelet), a log in
# ${LOGS}/<name>.log and a pid file in ${PIDS}/<name>.pid.
pid_of() { [[ -f "${PIDS}/$1.pid" ]] && cat "${PIDS}/$1.pid"; }
# A process that exited stays a zombie until its parent reaps it; ours are reparented
# to this VM's init, which reaps only every few seconds. A zombie is not running.
pid_running() { kill -0 "$1" 2>/dev/null && [[ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]]; }
alive() { local p; p="$(pid_of "$1" 2>/dev/null)" && [[ -n "${p}" ]] && pid_running "${p}"; }

launch() {
  local name="$1"; shift
  mkdir -p "$(dirname "${LOGS}/${name}")" "$(dirname "${PIDS}/${name}")"
  # setsid: each process leads its own process group, so stop can signal the group.
  setsid "$@" >> "${LOGS}/${name}.log" 2>&1 < /dev/null &
  echo $! > "${PIDS}/${name}.pid"
}

# stop_process NAME [GRACE_SECONDS]: SIGTERM the process group, SIGKILL after the grace.
stop_process() {
  local name="$1" grace="${2:-15}" p deadline
  p="$(pid_of "${name}" 2>/dev/null || true)"
  [[ -n "${p}" ]] || return 0
  if pid_running "${p}"; then
    kill -TERM -- "-${p}" 2>/dev/null || kill -TERM "${p}" 2>/dev/null || true
    deadline=$(( $(date +%s) + grace ))
    while pid_running "${p}" && (( $(date +%s) < deadline )); do sleep 0.1; done
    if pid_running "${p}"; then
      log "${name} (pid ${p}) ignored SIGTERM for ${grace} s; sending SIGKILL"
      kill -KILL -- "-${p}" 2>/dev/null || kill -KILL "${p}" 2>/dev/null || true
      while pid_running "${p}"; do sleep 0.1; done
    fi
  fi
  rm -f "${PIDS}/${name}.pid"
}

tail_log() {
  local name="$1" n="${2:-40}"
  if [[ -f "${LOGS}/${name}.log" ]]; then
    printf -- '----- last %s lines of %s -----\n' "${n}" "${LOGS}/${name}.log" >&2
    tail -n "${n}" "${LOGS}/${name}.log" >&2
  fi
}

# fail NAME MESSAGE: print the component's log tail and exit (the caller's trap cleans up).
fail() {
  local name="$1"; shift
  printf '[platform] ERROR: %s: %s\n' "${name}" "$*" >&2
  tail_log "${name}" 60
  printf '[platform] all logs: %s\n' "${LOGS}" >&2
  exit 1
}

START_TIMEOUT="${KUBE_START_TIMEOUT:-90}"

# wait_for NAME WHAT CMD...: until CMD succeeds; fail if NAME exits or on timeout.
wait_for() {
  local name="$1" what="$2"; shift 2
  local deadline=$(( $(date +%s) + START_TIMEOUT ))
  until "$@" >/dev/null 2>&1; do
    alive "${name}" || fail "${name}" "process exited while waiting for ${what}"
    (( $(date +%s) < deadline )) || fail "${name}" "timed out after ${START_TIMEOUT}s waiting for ${what}"
    sleep 0.3
  done
}

# launch_on_port NAME PORT_VARS START_FN READY_FN...: start a listener whose ports are
# in PORT_VARS (space separated ports.env variables, already set), wait for READY_FN.
# If the process exits with "address already in use" (another program took a port
# between picking and binding), pick new ports and start it again (up to 5 times).
launch_on_port() {
  local name="$1" vars="$2" start_fn="$3"; shift 3
  local attempt var deadline
  for attempt in 1 2 3 4 5; do
    "${start_fn}"
    deadline=$(( $(date +%s) + START_TIMEOUT ))
    while ! "$@" >/dev/null 2>&1; do
      if ! alive "${name}"; then
        if grep -qi 'address already in use' "${LOGS}/${name}.log" 2>/dev/null && (( attempt < 5 )); then
          log "${name}: a port was taken before it could bind; picking new ports (attempt $((attempt + 1)))"
          for var in ${vars}; do set_port "${var}" "$(pick_port "" "${name}")"; done
          mv "${LOGS}/${name}.log" "${LOGS}/${name}.log.${attempt}"
          continue 2
        fi
        fail "${name}" "process exited while waiting for it to become ready"
      fi
      (( $(date +%s) < deadline )) || fail "${name}" "timed out after ${START_TIMEOUT}s waiting for it to become ready"
      sleep 0.3
    done
    return 0
  done
}

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }
