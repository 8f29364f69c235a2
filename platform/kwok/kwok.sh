#!/usr/bin/env bash
# kwok: a fake kubelet for fake nodes (scale tests, benchmarks: thousands of pods that
# are never run). Pods on them get IPs from ${KWOK_POD_CIDR}, never a real node's.
#
# Usage (normally through platform/cluster.sh):
#   kwok.sh start   needs BIN; NODES>0 taints the fake nodes (see below)
#   kwok.sh stop
#
# Fake nodes carry the label type=kwok. When real nodes run, they are also tainted
# kwok.x-k8s.io/node=fake:NoSchedule, so ordinary workloads never land on a node that
# only pretends; a test that wants a fake node tolerates the taint and selects
# type=kwok. Without real nodes (NODES=0) they are not tainted: they are the only
# place a pod can run.
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=platform/lib/pki.sh
source "${PLATFORM_DIR}/lib/pki.sh"

FAKE_NODES=(kwok-node-0 kwok-node-1)

start_kwok() {
  launch kwok "${BIN}/kwok" \
    --kubeconfig="${STATE}/kwok.kubeconfig" \
    --config="${BIN}/kwok-stages.yaml" \
    --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --cidr="${KWOK_POD_CIDR}" \
    --node-ip=127.0.0.1 \
    --node-lease-duration-seconds=40 \
    --server-address="127.0.0.1:${KWOK_PORT}"
}
kwok_ready() { curl -fsS --max-time 2 "http://127.0.0.1:${KWOK_PORT}/healthz"; }

create_fake_nodes() {
  local n taints="[]"
  if (( ${NODES:-0} > 0 )); then
    taints="[{key: ${KWOK_TAINT_KEY}, value: ${KWOK_TAINT_VALUE}, effect: NoSchedule}]"
  fi
  for n in "${FAKE_NODES[@]}"; do
    kubectl_admin apply -f - >> "${LOGS}/bootstrap.log" 2>&1 <<EOF || fail kwok "could not create fake node ${n}"
apiVersion: v1
kind: Node
metadata:
  name: ${n}
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: ${n}
    kubernetes.io/os: linux
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: ""
    ${KWOK_NODE_LABEL_KEY}: ${KWOK_NODE_LABEL_VALUE}
spec:
  taints: ${taints}
status:
  allocatable: {cpu: "8", memory: 32Gi, pods: "110"}
  capacity: {cpu: "8", memory: 32Gi, pods: "110"}
  phase: Running
EOF
  done
}

fake_nodes_ready() {
  local ready
  ready="$(kubectl_admin get nodes -l "${KWOK_NODE_LABEL_KEY}=${KWOK_NODE_LABEL_VALUE}" \
    -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$' || true)"
  [[ "${ready}" -ge "${#FAKE_NODES[@]}" ]]
}

start() {
  [[ -n "${BIN:-}" ]] || die "BIN (the Kubernetes binary dir) is not set; start the cluster with platform/cluster.sh start"
  local t0; t0=$(date +%s.%N)
  gen_cert kwok "/CN=kwok-controller" clientAuth
  write_kubeconfig "${STATE}/kwok.kubeconfig" kwok "https://${API_HOST}:${API_PORT}"
  # Its least-privileged role, before it starts.
  kubectl_admin apply -f "${PLATFORM_DIR}/kwok/kwok-rbac.yaml" >> "${LOGS}/bootstrap.log" 2>&1 \
    || { cat "${LOGS}/bootstrap.log" >&2; fail kwok "could not apply kwok RBAC"; }
  set_port KWOK_PORT "$(pick_port "" kwok)"
  launch_on_port kwok KWOK_PORT start_kwok kwok_ready
  create_fake_nodes
  wait_for kwok "the fake nodes to become Ready" fake_nodes_ready
  log "kwok: ${#FAKE_NODES[@]} fake nodes Ready in $(elapsed "${t0}" "$(date +%s.%N)") s$( (( ${NODES:-0} > 0 )) && echo " (tainted ${KWOK_TAINT_KEY}=${KWOK_TAINT_VALUE}:NoSchedule)")"
}

case "${1:-}" in
  start) load_ports; start ;;
  stop) stop_process kwok ;;
  *) die "usage: $0 start|stop" ;;
esac
