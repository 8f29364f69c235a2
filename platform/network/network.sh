#!/usr/bin/env bash
# The node network: one layer-2 segment that joins the host and every real node, as a
# bridge inside a network namespace of its own ("lan").
#
#   host  gp-nodenet 198.51.100.1/25 ──veth── uplink ┐
#                                                    br0 (in the lan namespace)
#   node-i  eth0 198.51.100.(11+i)/25 ──veth── node-i ┘
#
# Why a separate namespace: a bridge on the host would be a host-wide interface, and
# routing between veths on the host would need ip_forward (a host-wide sysctl). Here
# the host gains exactly one veth (with its routes); killing the lan namespace's holder
# process removes the bridge, the veth pair and with it every route through it.
#
# Host routes (all via gp-nodenet, gone with it):
#   198.18.i.0/24  -> node-i      pod IPs
#   198.19.0.0/16  -> node-0      Service ClusterIPs (kube-proxy on node-0 answers)
#   198.51.100.128/25 -> node-0   LoadBalancer addresses (kube-proxy on node-0 answers)
#
# Usage (normally through platform/cluster.sh):
#   network.sh up N      N real nodes
#   network.sh down
#   network.sh lan-pid   pid whose network namespace is the lan (for nsenter -t)
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

HOLDER=network/lan-holder

lan_pid() { alive "${HOLDER}" || die "the node network is not up (no ${HOLDER} process)"; pid_of "${HOLDER}"; }
in_lan() { nsenter -t "$(lan_pid)" -n -- "$@"; }

ip_to_int() { local IFS=.; read -r a b c d <<< "$1"; printf '%s\n' $(( (a << 24) | (b << 16) | (c << 8) | d )); }
# in_cidr IP CIDR
in_cidr() {
  local ip net bits mask
  ip="$(ip_to_int "$1")"; net="$(ip_to_int "${2%/*}")"; bits="${2#*/}"
  mask=$(( bits == 0 ? 0 : (0xffffffff << (32 - bits)) & 0xffffffff ))
  (( (ip & mask) == (net & mask) ))
}

# Addresses this machine needs to keep reaching: the package registries and their
# proxy, the resolvers. If one falls into a range we route to the nodes, every
# download on the machine would break while the cluster runs.
upstream_addresses() {
  local hosts h
  hosts="proxy.golang.org sum.golang.org registry.npmjs.org registry.yarnpkg.com pypi.org files.pythonhosted.org deb.debian.org"
  hosts+=" $(go env GOPROXY 2>/dev/null | tr ',|' '\n\n' | sed -n 's#^https\?://\([^/:]*\).*#\1#p' | xargs)"
  hosts+=" $(env | sed -n 's#^\(https\?_proxy\|HTTPS\?_PROXY\)=https\?://\([^/:@]*@\)\?\([^/:]*\).*#\3#p' | xargs)"
  hosts+=" $(grep -rhoE '^(deb|URIs:)[^#]*https?://[^/ ]+' /etc/apt/sources.list /etc/apt/sources.list.d 2>/dev/null | sed -E 's#.*https?://##' | xargs)"
  for h in ${hosts}; do
    getent ahostsv4 "${h}" 2>/dev/null | awk -v h="${h}" '{ print $1, h }'
  done | sort -u
  awk '$1 == "nameserver" { print $2, "resolver" }' /etc/resolv.conf
}

# Refuse to start if the host already routes or owns any of our ranges, or needs an
# address inside one: the platform would shadow (or break) the machine's real network.
preflight() {
  local cidr addr what upstream
  [[ "$(id -u)" == 0 ]] || die "real nodes need root (network and mount namespaces, cgroups)"
  require_cmd ip iproute2
  require_cmd nsenter util-linux
  require_cmd unshare util-linux
  # Names, addresses and cgroups of real nodes are machine-wide: one cluster at a time.
  ip link show "${NODE_NET_HOST_IF}" >/dev/null 2>&1 \
    && die "interface ${NODE_NET_HOST_IF} already exists: another cluster with real nodes runs on this machine (stop it: PLATFORM_STATE=<its state dir> platform/cluster.sh stop), or a crashed one left it behind (ip link del ${NODE_NET_HOST_IF})"
  compgen -G '/sys/fs/cgroup/*/golden-path-node-*' >/dev/null \
    && die "node cgroups $(compgen -G '/sys/fs/cgroup/memory/golden-path-node-*' | xargs) exist: another cluster with real nodes runs on this machine, or a crashed one left them behind"
  upstream="$(upstream_addresses)"
  for cidr in "${NODE_NET_CIDR}" "${LB_POOL_CIDR}" "${POD_CIDR}" "${SERVICE_CIDR}"; do
    if ip -4 route show match "${cidr}" | grep -v '^default' | grep -q . \
       || ip -4 route show root "${cidr}" | grep -q .; then
      die "the host already routes ${cidr} ($(ip -4 route show root "${cidr}"; ip -4 route show match "${cidr}" | grep -v '^default' | head -1)); change the address plan in platform/lib.sh"
    fi
    while read -r addr what; do
      [[ -n "${addr}" ]] || continue
      in_cidr "${addr}" "${cidr}" \
        && die "${what} resolves to ${addr}, inside ${cidr}: routing that range to the nodes would cut the machine off from it; change the address plan in platform/lib.sh"
    done <<< "${upstream}"
  done
  return 0
}

up() {
  local nodes="$1" i
  preflight
  # The holder only keeps the namespace alive; everything is configured from outside.
  launch "${HOLDER}" unshare --net -- sleep infinity
  local deadline=$(( $(date +%s) + 10 ))
  until [[ "$(readlink "/proc/$(pid_of "${HOLDER}")/ns/net" 2>/dev/null)" != "$(readlink /proc/self/ns/net)" ]]; do
    (( $(date +%s) < deadline )) || fail "${HOLDER}" "the lan namespace did not appear"
    sleep 0.05
  done
  readlink "/proc/$(lan_pid)/ns/net" > "${STATE}/network.netns"

  in_lan ip link set lo up
  in_lan ip link add br0 type bridge
  in_lan ip link set br0 up
  ip link add "${NODE_NET_HOST_IF}" type veth peer name uplink netns "$(lan_pid)"
  in_lan ip link set uplink master br0 up
  # Per-interface settings vanish with the interface: nothing host-wide changes.
  sysctl -qw "net.ipv6.conf.${NODE_NET_HOST_IF}.disable_ipv6=1"
  ip addr add "${NODE_NET_HOST_IP}/${NODE_NET_MASK}" dev "${NODE_NET_HOST_IF}"
  ip link set "${NODE_NET_HOST_IF}" up

  for (( i=0; i<nodes; i++ )); do
    ip route add "$(node_pod_cidr "${i}")" via "$(node_ip "${i}")" dev "${NODE_NET_HOST_IF}"
  done
  ip route add "${SERVICE_CIDR}" via "$(node_ip 0)" dev "${NODE_NET_HOST_IF}"
  ip route add "${LB_POOL_CIDR}" via "$(node_ip 0)" dev "${NODE_NET_HOST_IF}"
  log "node network ${NODE_NET_CIDR} up: host ${NODE_NET_HOST_IP} on ${NODE_NET_HOST_IF}, routes to ${POD_CIDR%/*}/24 x ${nodes}, ${SERVICE_CIDR} and ${LB_POOL_CIDR} via node-0"
}

# Only what this cluster created (network.netns is written once the lan exists): the
# interface names and addresses are machine-wide, and another cluster's must survive a
# failed start of this one.
down() {
  local netns deadline p left
  [[ -f "${STATE}/network.netns" ]] || { rm -f "${PIDS}/${HOLDER}.pid"; return 0; }
  netns="$(cat "${STATE}/network.netns")"
  stop_process "${HOLDER}" 5
  # Anything else inside the lan namespace keeps it (and the host's veth) alive.
  deadline=$(( $(date +%s) + 10 ))
  while :; do
    left=""
    for p in /proc/[0-9]*; do
      [[ "$(readlink "${p}/ns/net" 2>/dev/null)" == "${netns}" ]] && left+=" ${p#/proc/}"
    done
    [[ -z "${left}" ]] && break
    # shellcheck disable=SC2086
    kill -KILL ${left} 2>/dev/null || true
    (( $(date +%s) < deadline )) || { log "processes${left} keep the lan namespace alive"; return 1; }
    sleep 0.2
  done
  rm -f "${STATE}/network.netns"
}

case "${1:-}" in
  up) up "${2:?usage: $0 up NODES}" ;;
  down) down ;;
  lan-pid) lan_pid ;;
  *) die "usage: $0 up N|down|lan-pid" ;;
esac
