#!/usr/bin/env bash
# Runs as the first process of a real node's own network and mount namespaces
# (node.sh starts it under `unshare --net --mount --propagation private`). It shapes the
# node's private view of the file system, then sleeps: containerd, kubelet, kube-proxy
# and the network-policy agent enter these namespaces with nsenter, so they share ONE
# mount namespace (kubelet mounts volumes that runc bind-mounts into containers).
# Propagation is private: no mount made here or by the node's processes reaches the
# host, and all of them vanish with the last process of the node.
#
# Usage: holder.sh NODE_DIR
set -euo pipefail
node_dir="$1"

# A node-private /run: containerd 1.6 puts pod network namespaces in /run/netns, shim
# sockets in /run/containerd and runc state in /run/containerd/runc, and has no option
# to move some of them. The node's API credentials for in-cluster clients live here too.
mount -t tmpfs -o mode=0755,size=64m golden-path-node-run /run

# Copy-on-write views of /var/lib and /var/log: CNI's result cache (/var/lib/cni),
# kubelet's /var/log/containers symlinks and anything else a component writes there
# lands in the node's directory, not on the host.
for d in var/lib var/log; do
  mkdir -p "${node_dir}/fs/${d}/upper" "${node_dir}/fs/${d}/work"
  mount -t overlay golden-path-node-overlay \
    -o "lowerdir=/${d},upperdir=${node_dir}/fs/${d}/upper,workdir=${node_dir}/fs/${d}/work" "/${d}"
done

# kubelet sets these host-wide kernel tunables to its preferred values unless they
# already have them (container_manager_linux.go setupKernelTunables); they are not
# per namespace. Show kubelet its preferred values from node-private files so that it
# never writes the host's (e.g. kernel.panic_on_oops=1 would change the whole VM).
mkdir -p "${node_dir}/sysctl"
for kv in vm/overcommit_memory=1 vm/panic_on_oom=0 kernel/panic=10 kernel/panic_on_oops=1 \
          kernel/keys/root_maxkeys=1000000 kernel/keys/root_maxbytes=25000000; do
  key="${kv%%=*}"
  file="${node_dir}/sysctl/${key//\//.}"
  printf '%s\n' "${kv#*=}" > "${file}"
  mount --bind -o ro "${file}" "/proc/sys/${key}"
done

ip link set lo up
touch "${node_dir}/holder.ready"
exec sleep infinity
