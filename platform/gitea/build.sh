#!/usr/bin/env bash
# Build (or reuse) Gitea, the local Git server of the golden path: code.gitea.io/gitea
# at the version go.mod requires, through this wrapper module (its replace directives
# pin the few dependencies whose required versions the Go proxy does not serve; see
# ../../../shared/notes or docs/architecture/local-golden-path.md). SQLite needs cgo
# (tags sqlite sqlite_unlock_notify). Cached in ${PLATFORM_CACHE}/gitea-<version>/.
# Prints the binary directory. Cold: ~5 min on 2 cores; warm: instant.
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=platform/lib/go-build.sh
source "${PLATFORM_DIR}/lib/go-build.sh"

here="${PLATFORM_DIR}/gitea"
version="$(go_mod_version "${here}" code.gitea.io/gitea)"
command -v gcc >/dev/null 2>&1 || die "Gitea's SQLite driver needs a C compiler: apt-get install gcc"
go_build "gitea-${version}" "${here}" "-s -w -X main.Version=${version#v} -X 'main.Tags=sqlite sqlite_unlock_notify'" \
  --tags "sqlite sqlite_unlock_notify" --cgo "code.gitea.io/gitea=gitea"
