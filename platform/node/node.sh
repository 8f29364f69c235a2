#!/usr/bin/env bash
# One real node: containerd + runc + CNI (Debian packages) and kubelet + kube-proxy
# (built with the control plane) + kube-network-policies, all inside the node's own
# network and mount namespaces, as kind gives every node its own container.
#
# How a node starts (node.sh start I):
#   1. certificates: kubelet client (system:node:node-I), kubelet serving cert (SAN =
#      the node IP, verified by the API server), kube-proxy client (system:kube-proxy)
#   2. cgroup root /golden-path-node-I in every cgroup v1 hierarchy (kubelet cgroupRoot)
#   3. holder.sh under `unshare --net --mount`: the namespaces every node process enters
#   4. network: veth eth0 (198.51.100.(11+I)/25) on the lan bridge, cni0 bridge
#      198.18.I.1/24, routes to the other nodes' pod ranges (no default route),
#      ip_forward in the node only
#   5. containerd (own root, /run, socket ${node_dir}/containerd.sock), pause image
#   6. the Node object (podCIDR 198.18.I.0/24, label golden-path.dev/node=real), kubelet
#   7. kube-proxy (nftables mode), kube-network-policies (network-policies/agent.sh)
# node.sh wait I waits until the Node is Ready. node.sh stop I stops the processes,
# kills what is left in the node's cgroups and namespaces, and removes its cgroups.
#
# Logs: ${PLATFORM_STATE}/logs/node-I/{holder,containerd,kubelet,kube-proxy,network-policies}.log
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=platform/lib/pki.sh
source "${PLATFORM_DIR}/lib/pki.sh"
# shellcheck source=platform/lib/oci.sh
source "${PLATFORM_DIR}/lib/oci.sh"

I="${2:?usage: $0 start|wait|stop|status NODE_INDEX}"
NAME="$(node_name "${I}")"
DIR="$(node_dir "${I}")"
IP="$(node_ip "${I}")"
CGROUP_ROOT="$(node_cgroup_root "${I}")"
NODE_PKI="nodes/${NAME}"
HERE="${PLATFORM_DIR}/node"

holder() { pid_of "${NAME}/holder"; }
in_node_net() { nsenter -t "$(holder)" -n -- "$@"; }
in_lan() { nsenter -t "$(bash "${PLATFORM_DIR}/network/network.sh" lan-pid)" -n -- "$@"; }

# cgroup v1 hierarchies (mount points), where kubelet and runc create the node's cgroups.
v1_hierarchies() { awk '$9 == "cgroup" { print $5 }' /proc/self/mountinfo; }
# Every hierarchy, v2 included: stop removes the node's cgroups wherever they appeared.
all_hierarchies() { awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo; }

preflight() {
  local p
  require_cmd containerd containerd
  require_cmd ctr containerd
  require_cmd runc runc
  require_cmd nft nftables
  for p in bridge host-local loopback; do
    [[ -x "/usr/lib/cni/${p}" ]] || die "CNI plugin /usr/lib/cni/${p} is missing: apt-get install -y containernetworking-plugins"
  done
  [[ -d /sys/fs/cgroup/memory ]] || die "no cgroup v1 memory hierarchy at /sys/fs/cgroup/memory: the node config (cgroupDriver cgroupfs, failCgroupV1 false) assumes this VM's cgroup v1 hybrid layout"
}

make_certs() {
  mkdir -p "${PKI}/${NODE_PKI}"
  gen_cert "${NODE_PKI}/kubelet-client" "/O=system:nodes/CN=system:node:${NAME}" clientAuth
  gen_cert "${NODE_PKI}/kubelet-serving" "/O=system:nodes/CN=system:node:${NAME}" serverAuth "IP:${IP},DNS:${NAME}"
  gen_cert "${NODE_PKI}/kube-proxy" "/CN=system:kube-proxy" clientAuth
  local server="https://${NODE_NET_HOST_IP}:${API_PORT}"
  write_kubeconfig "${DIR}/kubelet.kubeconfig" "${NODE_PKI}/kubelet-client" "${server}"
  write_kubeconfig "${DIR}/kube-proxy.kubeconfig" "${NODE_PKI}/kube-proxy" "${server}"
}

make_cgroups() {
  local h
  for h in $(all_hierarchies); do
    [[ ! -e "${h}${CGROUP_ROOT}" ]] \
      || die "${h}${CGROUP_ROOT} already exists: another cluster's ${NAME} runs on this machine, or a crashed one left it behind"
  done
  # From here on, stop removes them.
  touch "${DIR}/cgroups.owned"
  for h in $(v1_hierarchies); do
    mkdir -p "${h}${CGROUP_ROOT}"
    # A new cpuset cgroup starts with no CPUs and no memory nodes; inherit the parent's.
    if [[ -f "${h}${CGROUP_ROOT}/cpuset.cpus" ]]; then
      cat "${h}/cpuset.cpus" > "${h}${CGROUP_ROOT}/cpuset.cpus"
      cat "${h}/cpuset.mems" > "${h}${CGROUP_ROOT}/cpuset.mems"
    fi
  done
}

start_holder() {
  rm -f "${DIR}/holder.ready"
  launch "${NAME}/holder" unshare --net --mount --propagation private -- bash "${HERE}/holder.sh" "${DIR}"
  local deadline=$(( $(date +%s) + 15 ))
  until [[ -f "${DIR}/holder.ready" ]]; do
    alive "${NAME}/holder" || fail "${NAME}/holder" "the node's namespaces could not be set up"
    (( $(date +%s) < deadline )) || fail "${NAME}/holder" "timed out setting up the node's namespaces"
    sleep 0.05
  done
  # The namespaces' identities: stop finds every process still inside them.
  readlink "/proc/$(holder)/ns/net" > "${DIR}/netns"
  readlink "/proc/$(holder)/ns/mnt" > "${DIR}/mntns"
}

setup_network() {
  local j
  in_lan ip link add "${NAME}" type veth peer name eth0 netns "$(holder)"
  in_lan ip link set "${NAME}" master br0 up
  in_node_net ip addr add "${IP}/${NODE_NET_MASK}" dev eth0
  in_node_net ip link set eth0 up
  # No default route: nothing a pod sends to an address outside the cluster leaves the
  # node (it fails at once, "no route"), even on a host that forwards. Node processes
  # reach Services (kube-proxy rewrites them after this routing decision) via the host.
  in_node_net ip route add "${SERVICE_CIDR}" via "${NODE_NET_HOST_IP}"
  in_node_net ip route add "${LB_POOL_CIDR}" via "${NODE_NET_HOST_IP}"
  for (( j=0; j<NODES; j++ )); do
    (( j == I )) && continue
    in_node_net ip route add "$(node_pod_cidr "${j}")" via "$(node_ip "${j}")"
  done
  # Per network namespace: these change the node, not the host.
  in_node_net sysctl -qw net.ipv4.ip_forward=1
  # Bridged pod-to-pod packets must pass netfilter: kube-proxy's DNAT for a Service
  # whose endpoint sits on the same bridge (hairpin) and NetworkPolicy enforcement.
  in_node_net sysctl -qw net.bridge.bridge-nf-call-iptables=1
  # The CNI bridge plugin would create it on the first pod; pre-created, the node's pod
  # range is routable (and the gateway answers) before any pod exists.
  in_node_net ip link add cni0 type bridge
  in_node_net ip addr add "$(node_pod_gateway "${I}")/24" dev cni0
  in_node_net ip link set cni0 up
}

write_cni_config() {
  mkdir -p "${DIR}/cni/net.d" "${DIR}/cni/ipam"
  cat > "${DIR}/cni/net.d/10-golden-path.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "golden-path",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "${DIR}/cni/ipam",
        "ranges": [[{ "subnet": "$(node_pod_cidr "${I}")", "gateway": "$(node_pod_gateway "${I}")" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    }
  ]
}
EOF
}

start_containerd() {
  local pause_image="$1"
  mkdir -p "${DIR}/containerd"
  cat > "${DIR}/containerd.toml" <<EOF
# containerd of ${NAME}. /run is node-private (holder.sh), so the default state dir is.
version = 2
root = "${DIR}/containerd"
state = "/run/containerd"
# opt would install into /opt/containerd on the host; the others are unused snapshotters.
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = "${DIR}/containerd.sock"

[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${pause_image}"
  # Without CAP_SYS_RESOURCE runc cannot lower oom_score_adj below the parent's.
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${DIR}/cni/net.d"
    max_conf_num = 1
EOF
  launch "${NAME}/containerd" nsenter -t "$(holder)" -n -m -- containerd --config "${DIR}/containerd.toml"
  wait_for "${NAME}/containerd" "its socket" ctr -a "${DIR}/containerd.sock" version
}

# The Node object, created before kubelet registers: podCIDR is set once, at creation,
# and fixes this node's pod range (198.18.I.0/24) so the routes above are right.
create_node_object() {
  kubectl_admin apply -f - >> "${LOGS}/bootstrap.log" 2>&1 <<EOF || fail "${NAME}/kubelet" "could not create the Node object ${NAME}"
apiVersion: v1
kind: Node
metadata:
  name: ${NAME}
  labels:
    kubernetes.io/hostname: ${NAME}
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    ${REAL_NODE_LABEL_KEY}: ${REAL_NODE_LABEL_VALUE}
spec:
  podCIDR: $(node_pod_cidr "${I}")
  podCIDRs: [$(node_pod_cidr "${I}")]
EOF
}

start_kubelet() {
  mkdir -p "${DIR}/kubelet"
  cat > "${DIR}/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# Serves logs/exec/port-forward on the node IP; the API server dials it there and checks
# the serving certificate against the cluster CA.
address: ${IP}
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: ${PKI}/${NODE_PKI}/kubelet-serving.crt
tlsPrivateKeyFile: ${PKI}/${NODE_PKI}/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: ${PKI}/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://${DIR}/containerd.sock
# This VM: cgroup v1 (KEP-5573 made v1 opt-in), containerd 1.6 (no RuntimeConfig RPC,
# so the driver is set here).
failCgroupV1: false
cgroupDriver: cgroupfs
# Each node's pods live under its own root, so two nodes never share /kubepods and stop
# removes exactly this node's cgroups.
cgroupRoot: ${CGROUP_ROOT}
cgroupsPerQOS: true
failSwapOn: false
# KUBE-FIREWALL and friends would land in iptables; kube-proxy does the node's rules.
makeIPTablesUtilChains: false
# Images come from imports, never from a registry: never delete them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
clusterDNS: [${CLUSTER_DNS_IP}]
clusterDomain: ${CLUSTER_DOMAIN}
# Pods with dnsPolicy Default get no nameserver rather than the VM's.
resolvConf: ""
maxPods: 110
serializeImagePulls: false
# ConfigMap and Secret volumes follow their objects on each pod sync (default every 1 min
# plus jitter): 10 s lets the generated repositories' verify scripts watch a ConfigMap
# change reach the page in seconds, at a little CPU per pod.
syncFrequency: 10s
EOF
  launch "${NAME}/kubelet" nsenter -t "$(holder)" -n -m -- "${BIN}/kubelet" \
    --config="${DIR}/kubelet.yaml" \
    --kubeconfig="${DIR}/kubelet.kubeconfig" \
    --root-dir="${DIR}/kubelet" \
    --hostname-override="${NAME}" \
    --node-ip="${IP}" \
    --v=1
  date +%s.%N > "${DIR}/kubelet.started"
}

start_kube_proxy() {
  cat > "${DIR}/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
clientConnection: {kubeconfig: ${DIR}/kube-proxy.kubeconfig}
hostnameOverride: ${NAME}
bindAddress: ${IP}
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# Traffic from outside the pod range (the host, another node) to a Service is
# masqueraded, so replies come back through this node.
clusterCIDR: ${POD_CIDR}
detectLocalMode: ClusterCIDR
nodePortAddresses: [primary]
# nf_conntrack_max and the hash size are host-wide: leave them (and the timeouts) alone.
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
oomScoreAdj: 0
EOF
  launch "${NAME}/kube-proxy" nsenter -t "$(holder)" -n -m -- "${BIN}/kube-proxy" \
    --config="${DIR}/kube-proxy.yaml" --v=1
  wait_for "${NAME}/kube-proxy" "its /healthz" in_node_net curl -fsS --max-time 2 http://127.0.0.1:10256/healthz
}

start() {
  [[ -n "${BIN:-}" ]] || die "BIN (the Kubernetes binary dir) is not set; start nodes with platform/cluster.sh start"
  preflight
  local pause_archive pause_image t0
  t0=$(date +%s.%N)
  mkdir -p "${DIR}" "${LOGS}/${NAME}"
  pause_archive="$(bash "${HERE}/images.sh" pause)"
  pause_image="$(oci_archive_image_name "${pause_archive}")"
  [[ -n "${pause_image}" ]] || die "${pause_archive} names no image (annotation io.containerd.image.name)"

  make_certs
  make_cgroups
  start_holder
  setup_network
  write_cni_config
  start_containerd "${pause_image}"
  ctr -a "${DIR}/containerd.sock" -n k8s.io images import "${pause_archive}" > /dev/null \
    || fail "${NAME}/containerd" "could not import the pause image ${pause_archive}"
  create_node_object
  start_kubelet
  start_kube_proxy
  bash "${PLATFORM_DIR}/network-policies/agent.sh" start "${I}"
  log "${NAME}: processes up in $(elapsed "${t0}" "$(date +%s.%N)") s (${IP}, pods $(node_pod_cidr "${I}"))"
}

node_ready() {
  [[ "$(kubectl_admin get node "${NAME}" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

wait_ready() {
  wait_for "${NAME}/kubelet" "Node ${NAME} to become Ready" node_ready
  local s
  s="$(elapsed "$(cat "${DIR}/kubelet.started")" "$(date +%s.%N)")"
  printf '%s_ready_after_kubelet_start_seconds=%s\n' "${NAME//-/_}" "${s}" >> "${STATE}/start-time"
  log "${NAME}: Ready ${s} s after kubelet started"
}

# PIDs of processes inside the node's namespaces (containerd shims, CNI plugins, ...).
ns_pids() {
  local netns mntns p
  netns="$(cat "${DIR}/netns" 2>/dev/null || true)"
  mntns="$(cat "${DIR}/mntns" 2>/dev/null || true)"
  [[ -n "${netns}" || -n "${mntns}" ]] || return 0
  # Never match the host's own namespaces (that would be every process).
  [[ "${netns}" != "$(readlink /proc/self/ns/net)" && "${mntns}" != "$(readlink /proc/self/ns/mnt)" ]] \
    || die "${DIR}/netns or mntns names the host's namespace; refusing to kill by namespace"
  for p in /proc/[0-9]*; do
    if [[ "$(readlink "${p}/ns/net" 2>/dev/null)" == "${netns}" || "$(readlink "${p}/ns/mnt" 2>/dev/null)" == "${mntns}" ]]; then
      printf '%s\n' "${p#/proc/}"
    fi
  done
}

# PIDs in the node's cgroups (containers and their pause processes); only if this
# cluster created them (the names are machine-wide).
cgroup_pids() {
  local h
  [[ -f "${DIR}/cgroups.owned" ]] || return 0
  for h in $(all_hierarchies); do
    [[ -d "${h}${CGROUP_ROOT}" ]] && find "${h}${CGROUP_ROOT}" -name cgroup.procs -exec cat {} + 2>/dev/null
  done | sort -u
}

kill_all() { # kill_all SIGNAL PID...
  local sig="$1"; shift
  (( $# > 0 )) && kill "-${sig}" "$@" 2>/dev/null
  return 0
}

stop() {
  local deadline left h
  stop_process "${NAME}/network-policies" 10
  stop_process "${NAME}/kube-proxy" 10
  stop_process "${NAME}/kubelet" 15
  # Containers first (their shims would otherwise restart nothing, but keep them alive).
  # shellcheck disable=SC2046
  kill_all KILL $(cgroup_pids)
  stop_process "${NAME}/containerd" 10
  # Shims, the holder and anything else that entered the node's namespaces.
  # shellcheck disable=SC2046
  kill_all TERM $(ns_pids)
  deadline=$(( $(date +%s) + 10 ))
  while left="$( { ns_pids; cgroup_pids; } | xargs)" && [[ -n "${left}" ]]; do
    if (( $(date +%s) >= deadline )); then
      # shellcheck disable=SC2086
      kill_all KILL ${left}
    fi
    (( $(date +%s) < deadline + 10 )) || { log "${NAME}: processes ${left} survive SIGKILL"; break; }
    sleep 0.2
  done
  rm -f "${PIDS}/${NAME}/holder.pid"
  # Depth first: a cgroup can only be removed once its children are.
  [[ -f "${DIR}/cgroups.owned" ]] || return 0
  for h in $(all_hierarchies); do
    [[ -d "${h}${CGROUP_ROOT}" ]] || continue
    deadline=$(( $(date +%s) + 10 ))
    until find "${h}${CGROUP_ROOT}" -depth -type d -exec rmdir {} + 2>/dev/null; [[ ! -d "${h}${CGROUP_ROOT}" ]]; do
      (( $(date +%s) < deadline )) || { log "${NAME}: could not remove ${h}${CGROUP_ROOT}"; break; }
      sleep 0.2
    done
  done
}

status() {
  local c rc=0
  for c in holder containerd kubelet kube-proxy network-policies; do
    if alive "${NAME}/${c}"; then
      printf '%-30s running (pid %s)\n' "${NAME}/${c}" "$(pid_of "${NAME}/${c}")"
    else
      printf '%-30s stopped\n' "${NAME}/${c}"; rc=1
    fi
  done
  return "${rc}"
}

load_ports
NODES="${NODES:-$(running_nodes)}"
case "${1:-}" in
  start) start ;;
  wait) wait_ready ;;
  stop) stop ;;
  status) status ;;
  *) die "usage: $0 start|wait|stop|status NODE_INDEX" ;;
esac
