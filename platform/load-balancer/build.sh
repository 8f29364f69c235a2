#!/usr/bin/env bash
# Build (or reuse) the LoadBalancer address controller (main.go). Prints the binary dir.
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=platform/lib/go-build.sh
source "${PLATFORM_DIR}/lib/go-build.sh"
go_build load-balancer "${PLATFORM_DIR}/load-balancer" "-s -w" .=load-balancer
