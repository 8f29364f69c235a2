#!/usr/bin/env bash
# kube-network-policies on one real node: enforces NetworkPolicy with nftables + NFQUEUE
# in the node's network namespace (the first packet of every connection to or from a
# pod selected by a policy is judged in user space; later packets follow conntrack).
#
# It runs as a process inside the node's namespaces, like kube-proxy, not as the
# upstream DaemonSet: a DaemonSet needs a container image (there is no registry here)
# and a privileged hostNetwork pod, which the cluster's Pod Security and
# --allow-privileged=false rightly refuse. The identity is the DaemonSet's: the
# ServiceAccount kube-system/kube-network-policies with the upstream ClusterRole
# (rbac.yaml), its token mounted where in-cluster clients look for it
# (/run/secrets/kubernetes.io/serviceaccount inside the node's private /run), so the
# upstream command runs unmodified.
#
# Usage (from node/node.sh): agent.sh prepare          once per cluster (RBAC, token)
#                            agent.sh start NODE_INDEX
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

TOKEN="${STATE}/network-policies.token"

prepare() {
  kubectl_admin apply -f "${PLATFORM_DIR}/network-policies/rbac.yaml" >> "${LOGS}/bootstrap.log" 2>&1 \
    || { cat "${LOGS}/bootstrap.log" >&2; die "could not apply network-policies/rbac.yaml"; }
  # A bound token that outlives any test run; the cluster (and its signing key) is
  # thrown away on stop.
  (umask 077; kubectl_admin -n kube-system create token kube-network-policies --duration=720h > "${TOKEN}") \
    || die "could not create a token for kube-system/kube-network-policies"
}

start() {
  local i="$1" name holder bin
  name="$(node_name "${i}")"
  holder="$(pid_of "${name}/holder")" || die "${name} is not running"
  bin="$(bash "${PLATFORM_DIR}/network-policies/build.sh")"
  [[ -s "${TOKEN}" ]] || prepare
  nsenter -t "${holder}" -m -- sh -c 'd=/run/secrets/kubernetes.io/serviceaccount; mkdir -p "$d" && chmod 700 "$d" &&
    cat > "$d/token" && cp "$1" "$d/ca.crt" && echo kube-system > "$d/namespace"' sh "${PKI}/ca.crt" < "${TOKEN}"
  # Straight to the API server, not through the kubernetes Service: it must not depend
  # on kube-proxy having programmed the node yet.
  launch "${name}/network-policies" nsenter -t "${holder}" -n -m -- env \
    KUBERNETES_SERVICE_HOST="${NODE_NET_HOST_IP}" KUBERNETES_SERVICE_PORT="${API_PORT}" \
    "${bin}/kube-network-policies" \
      --hostname-override="${name}" \
      --metrics-bind-address=127.0.0.1:9080 \
      --netfilter-bug-1766-fix=false \
      --v=1
}

case "${1:-}" in
  prepare) load_ports; prepare ;;
  start) load_ports; start "${2:?usage: $0 start NODE_INDEX}" ;;
  *) die "usage: $0 prepare|start NODE_INDEX" ;;
esac
