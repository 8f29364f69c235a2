#!/usr/bin/env bash
# Build (or reuse) every Go program and asset of the local platform, one after the other,
# in the order make test needs them: Gitea (templates stage), Kubernetes and the cluster
# add-ons (kube-multinode, the first cluster stage), then Jaeger and Flux (kube-integration,
# the next one: they build while kube-multinode runs). `make test` runs it in the background
# from the end of setup on (first stages and the host lane leave a core and the network
# idle), so a cold run finds most of it built when a cluster stage starts. Each build
# holds its own lock (take_build_lock in lib/go-build.sh): a stage that needs one while it
# is being built waits for it and reuses it. Warm: every build is a cache hit (a few
# seconds in all).
# Prints one line per build with its time; exits non-zero on the first failure.
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUILDS=(
  gitea/build.sh gitea/build-assets.sh
  "${CLUSTER_BUILDS[@]}"
  jaeger/build.sh flux/build.sh
)
total_start=$(date +%s)
for build in "${BUILDS[@]}"; do
  start=$(date +%s)
  bash "${PLATFORM_DIR}/${build}" >/dev/null || die "platform/${build} failed (above)"
  log "prebuild: platform/${build} $(( $(date +%s) - start )) s"
done
log "prebuild: everything in $(( $(date +%s) - total_start )) s"
