#!/usr/bin/env bash
# "Leaves nothing behind": snapshots what a local cluster could change on the host, so
# a run can be checked by comparing the state before `cluster.sh start` with the state
# after `cluster.sh stop`.
#
# Usage:
#   host-snapshot.sh snapshot DIR          write the host's state into DIR
#   host-snapshot.sh compare BEFORE AFTER  exit 1 and show the differences if any
#   host-snapshot.sh selftest              prove that compare catches a leftover
#
# Recorded: mounts (/proc/self/mountinfo), interfaces and addresses, routes and rules,
# network namespaces (ip netns, /run/netns, and every namespace any process is in),
# the nft ruleset and iptables-save (when installed), cgroups (top level of every
# hierarchy and any golden-path*/kubepods* below), the platform's processes (naming the
# state dir, or living in a network namespace other than the host's), files that node
# components write by default (/var/lib/cni, /etc/cni, ...) and host-wide sysctls that
# kubelet and kube-proxy would like to change.
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../platform/lib.sh"

DEFAULT_PATHS=(/var/lib/cni /etc/cni /opt/cni /opt/containerd /var/lib/kubelet /var/log/pods
  /var/log/containers /run/containerd /run/netns /var/run/nri /etc/kubernetes /var/lib/kube-proxy)
SYSCTLS=(vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops kernel/keys/root_maxkeys
  kernel/keys/root_maxbytes net/netfilter/nf_conntrack_max net/ipv4/ip_forward net/ipv4/conf/all/route_localnet
  net/ipv4/conf/all/rp_filter net/bridge/bridge-nf-call-iptables net/bridge/bridge-nf-call-ip6tables
  net/ipv4/ip_unprivileged_port_start)

snapshot() {
  local d="$1" h p host_net
  mkdir -p "${d}"
  # Mount point, type and source; mount ids and peer groups change on every boot.
  awk '{ sep = 0; for (i = 7; i <= NF; i++) if ($i == "-") { sep = i; break }
         print $5, $(sep + 1), $(sep + 2) }' /proc/self/mountinfo | sort > "${d}/mounts"
  ip -o link | awk -F': ' '{ print $2 }' | sed 's/@.*//' | sort > "${d}/interfaces"
  ip -o addr | awk '{ print $2, $3, $4 }' | sort > "${d}/addresses"
  { ip -4 route show table all; ip -6 route show table all; ip rule; ip -6 rule; } 2>/dev/null | sort > "${d}/routes"
  {
    echo "# ip netns"; ip netns list 2>/dev/null || true
    echo "# /run/netns"; ls -A /run/netns 2>/dev/null || true
    echo "# namespaces in use"; for p in /proc/[0-9]*; do readlink "${p}/ns/net" 2>/dev/null || true; done | sort -u
  } > "${d}/netns"
  { nft list ruleset 2>&1 || true; } > "${d}/nftables"
  {
    if command -v iptables-save >/dev/null; then iptables-save 2>&1 | grep -v '^#'; ip6tables-save 2>&1 | grep -v '^#'; fi
  } > "${d}/iptables" || true
  for h in $(awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo); do
    find "${h}" -mindepth 1 -maxdepth 1 -type d 2>/dev/null
    find "${h}" -mindepth 2 -type d \( -name 'golden-path*' -o -name 'kubepods*' \) 2>/dev/null
  done | sort > "${d}/cgroups"
  host_net="$(readlink /proc/self/ns/net)"
  for p in /proc/[0-9]*; do
    local comm cmd net
    comm="$(cat "${p}/comm" 2>/dev/null)" || continue
    cmd="$(tr '\0' ' ' < "${p}/cmdline" 2>/dev/null)" || continue
    net="$(readlink "${p}/ns/net" 2>/dev/null)" || continue
    # Every process the platform starts names its state dir (configs, kubeconfigs, the
    # containerd socket a shim serves) or lives in a node's network namespace (holders,
    # pods). Matching by name would also report other clusters' processes (another
    # PLATFORM_STATE) on a shared machine.
    if [[ "${cmd}" == *"${PLATFORM_STATE}"* || "${net}" != "${host_net}" ]]; then
      printf '%s %s [%s]\n' "${comm}" "${cmd:0:160}" "${net}"
    fi
  done | sort > "${d}/processes"
  for p in "${DEFAULT_PATHS[@]}" "${PLATFORM_STATE}"; do
    [[ ! -e "${p}" ]] || printf '%s exists\n' "${p}"
  done > "${d}/paths"
  # What the platform's tools write in the user's home by default: kubectl's discovery
  # cache of a local cluster's API server (on the node network), and Gitea's
  # authorized_keys (inode and mtime: a rewrite counts, even with the same lines).
  {
    find "${HOME}/.kube/cache/discovery" -mindepth 1 -maxdepth 1 -name "${NODE_NET_PREFIX}.*" 2>/dev/null || true
    [[ ! -e "${HOME}/.ssh/authorized_keys" ]] || stat -c '%n inode %i mtime %Y' "${HOME}/.ssh/authorized_keys"
  } > "${d}/home"
  for p in "${SYSCTLS[@]}"; do
    printf '%s = %s\n' "${p}" "$(cat "/proc/sys/${p}" 2>/dev/null || echo '<none>')"
  done > "${d}/sysctls"
  printf 'nf_conntrack hashsize = %s\n' "$(cat /sys/module/nf_conntrack/parameters/hashsize 2>/dev/null || echo '<none>')" >> "${d}/sysctls"
}

# Fails on anything present after that was not before (a changed value counts: its new
# line is new). Things that disappeared meanwhile are reported but do not fail: on a
# shared machine other work cleans up its own state while the cluster runs.
compare() {
  local before="$1" after="$2" f rc=0 added removed
  for f in "${before}"/*; do
    f="$(basename "${f}")"
    added="$(comm -13 <(sort "${before}/${f}") <(sort "${after}/${f}"))"
    removed="$(comm -23 <(sort "${before}/${f}") <(sort "${after}/${f}"))"
    if [[ -n "${added}" ]]; then
      printf 'LEFTOVER (%s):\n' "${f}" >&2
      sed 's/^/  + /' <<< "${added}" >&2
      [[ -z "${removed}" ]] || sed 's/^/  - /' <<< "${removed}" >&2
      rc=1
    elif [[ -n "${removed}" ]]; then
      printf 'gone meanwhile (%s, not a leftover):\n' "${f}" >&2
      sed 's/^/  - /' <<< "${removed}" >&2
    fi
  done
  if (( rc == 0 )); then
    log "host unchanged: mounts, interfaces, addresses, routes, network namespaces, nftables/iptables, cgroups, processes, paths, sysctls, home"
  fi
  return "${rc}"
}

# Leave a mount, a network namespace (held by a process), a cgroup and a kubectl cache and
# authorized_keys in the home behind on purpose; compare must fail. Then remove them;
# compare must pass. The home is a fake one: the selftest never writes in the real one.
selftest() {
  local tmp pid real_home="${HOME}"
  tmp="$(mktemp -d)"
  HOME="${tmp}/home"
  snapshot "${tmp}/before"
  mkdir -p "${tmp}/mnt" /sys/fs/cgroup/memory/golden-path-selftest
  mount -t tmpfs golden-path-selftest "${tmp}/mnt"
  unshare --net sleep 300 &
  pid=$!
  sleep 0.2
  mkdir -p "${HOME}/.kube/cache/discovery/${NODE_NET_PREFIX}.1_6443" "${HOME}/.ssh"
  touch "${HOME}/.ssh/authorized_keys"
  snapshot "${tmp}/leftover"
  local caught=0
  compare "${tmp}/before" "${tmp}/leftover" 2> "${tmp}/report" || caught=1
  kill "${pid}"; wait "${pid}" 2>/dev/null || true
  umount "${tmp}/mnt"
  rmdir /sys/fs/cgroup/memory/golden-path-selftest
  rm -rf "${HOME}/.kube" "${HOME}/.ssh"
  # Other work on a shared machine may change the host meanwhile: allow a few tries.
  local clean=0
  for _ in 1 2 3; do
    snapshot "${tmp}/after"
    if compare "${tmp}/before" "${tmp}/after" 2> "${tmp}/report-after"; then clean=1; break; fi
    sleep 1
  done
  (( clean == 1 )) || cat "${tmp}/report-after" >&2
  local found=1 what
  for what in mounts netns cgroups processes home; do
    grep -q "LEFTOVER (${what})" "${tmp}/report" || { found=0; log "selftest: the leftover in ${what} was not reported"; }
  done
  HOME="${real_home}"
  rm -rf "${tmp}"
  if (( caught == 1 && found == 1 && clean == 1 )); then
    log "selftest passed: a leftover mount, network namespace, cgroup, process and kubectl cache and authorized_keys in the home were reported; after removing them the host compared clean"
  else
    die "selftest failed (caught=${caught} all-reported=${found} clean-after-cleanup=${clean})"
  fi
}

case "${1:-}" in
  snapshot) snapshot "${2:?usage: $0 snapshot DIR}" ;;
  compare) compare "${2:?usage: $0 compare BEFORE AFTER}" "${3:?usage: $0 compare BEFORE AFTER}" ;;
  selftest) selftest ;;
  *) die "usage: $0 snapshot DIR | compare BEFORE AFTER | selftest" ;;
esac
