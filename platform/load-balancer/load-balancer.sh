#!/usr/bin/env bash
# LoadBalancer Services for the local cluster: main.go assigns addresses from
# ${LB_POOL_CIDR} to status.loadBalancer.ingress; network/network.sh routes that pool from
# the host to node-0, whose kube-proxy forwards it to the Service's endpoints.
# Runs on the host, like a cloud provider's controller; only with real nodes.
#
# Usage (normally through platform/cluster.sh): load-balancer.sh start|stop
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=platform/lib/pki.sh
source "${PLATFORM_DIR}/lib/pki.sh"

NAME=load-balancer

start() {
  local bin
  bin="$(bash "${PLATFORM_DIR}/load-balancer/build.sh")"
  gen_cert "${NAME}" "/CN=golden-path:load-balancer-controller" clientAuth
  write_kubeconfig "${STATE}/${NAME}.kubeconfig" "${NAME}" "https://${API_HOST}:${API_PORT}"
  kubectl_admin apply -f "${PLATFORM_DIR}/load-balancer/rbac.yaml" >> "${LOGS}/bootstrap.log" 2>&1 \
    || { cat "${LOGS}/bootstrap.log" >&2; fail "${NAME}" "could not apply load-balancer/rbac.yaml"; }
  launch "${NAME}" "${bin}/load-balancer" --kubeconfig="${STATE}/${NAME}.kubeconfig" --pool="${LB_POOL_CIDR}"
  wait_for "${NAME}" "its Service cache" grep -q 'assigning LoadBalancer addresses' "${LOGS}/${NAME}.log"
  log "load-balancer: assigns ${LB_POOL_CIDR} (routed from the host to node-0)"
}

case "${1:-}" in
  start) load_ports; start ;;
  stop) stop_process "${NAME}" ;;
  *) die "usage: $0 start|stop" ;;
esac
