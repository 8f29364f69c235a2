#!/usr/bin/env bash
# Build (or reuse) Jaeger v2, the trace store and UI next to the cluster: the tests of
# the fastapi-microservices template send one request through its services and read the
# trace back from Jaeger's query API. github.com/jaegertracing/jaeger at the version
# go.mod requires (its `tool` directive), no replaces. Cached in
# ${PLATFORM_CACHE}/jaeger-<version>/ (binary `jaeger`). Prints the binary directory.
# Cold: ~3 min on 2 cores plus module downloads; warm: instant.
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=platform/lib/go-build.sh
source "${PLATFORM_DIR}/lib/go-build.sh"

here="${PLATFORM_DIR}/jaeger"
version="$(go_mod_version "${here}" github.com/jaegertracing/jaeger)"
go_build "jaeger-${version}" "${here}" "-s -w" "github.com/jaegertracing/jaeger/cmd/jaeger=jaeger"
