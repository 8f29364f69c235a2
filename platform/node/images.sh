#!/usr/bin/env bash
# Images on real nodes. There is no registry: every image a pod uses is imported into
# each node's containerd (namespace k8s.io, where the CRI plugin looks) from an OCI
# archive built on this machine.
#
# Usage:
#   images.sh import ARCHIVE...   into every running real node, by name and by digest
#                                 (also: cluster.sh images import)
#   images.sh list                images of every running real node
#   images.sh pause               print the pause image archive (build it if needed)
#
# Each node's containerd socket: ${PLATFORM_STATE}/nodes/node-<i>/containerd.sock
# (`ctr -a <socket> -n k8s.io images ls`).
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=platform/lib/oci.sh
source "${PLATFORM_DIR}/lib/oci.sh"

# The pod sandbox image (containerd's sandbox_image), built by platform/images.
pause_archive() { bash "${PLATFORM_DIR}/images/build.sh" pause; }

node_socket() { printf '%s/containerd.sock\n' "$(node_dir "$1")"; }

# import_into NODE_INDEX ARCHIVE...: each image under its name and, as a registry pull
# records it, under <name>@<manifest digest>, so manifests may pin the build by digest
# (the GitOps template's environments do).
import_into() {
  local i="$1" a name by_digest socket; shift
  socket="$(node_socket "${i}")"
  for a in "$@"; do
    ctr -a "${socket}" -n k8s.io images import "${a}" >/dev/null \
      || die "could not import ${a} into $(node_name "${i}") (containerd log: ${LOGS}/$(node_name "${i}")/containerd.log)"
    name="$(oci_archive_image_name "${a}")"
    by_digest="$(oci_archive_digest_reference "${a}")"
    [[ -n "${by_digest}" ]] || continue
    ctr -a "${socket}" -n k8s.io images tag --force "${name}" "${by_digest}" >/dev/null \
      || die "could not name ${name} ${by_digest} on $(node_name "${i}")"
  done
}

import_all() {
  local n i a t0
  (( $# > 0 )) || die "usage: images.sh import ARCHIVE..."
  for a in "$@"; do [[ -s "${a}" ]] || die "no such image archive: ${a}"; done
  n="$(running_nodes)"
  (( n > 0 )) || die "no real nodes run (start them with NODES=1 platform/cluster.sh start)"
  t0=$(date +%s.%N)
  for (( i=0; i<n; i++ )); do import_into "${i}" "$@"; done
  for a in "$@"; do log "imported $(oci_archive_image_name "${a}") ($(oci_archive_digest_reference "${a}")) into ${n} node(s)"; done
  log "import took $(elapsed "${t0}" "$(date +%s.%N)") s"
}

list_all() {
  local n i
  n="$(running_nodes)"
  for (( i=0; i<n; i++ )); do
    printf '== %s (%s)\n' "$(node_name "${i}")" "$(node_socket "${i}")"
    ctr -a "$(node_socket "${i}")" -n k8s.io images ls -q | grep -v '^sha256:' || true
  done
}

case "${1:-}" in
  import) shift; import_all "$@" ;;
  list) list_all ;;
  pause) pause_archive ;;
  *) die "usage: $0 import ARCHIVE...|list|pause" ;;
esac
