#!/usr/bin/env bash
# Go programs of the platform, built from wrapper modules and cached. Source after
# platform/lib.sh; do not run.
#
# go_build <name> <module dir> <ldflags> [--tags TAGS] [--cgo] <package[=binary]>...
#   Builds the packages (CGO_ENABLED=0 unless --cgo, for Gitea's SQLite; -trimpath;
#   GOTOOLCHAIN=local: never another Go; -mod=readonly: go.sum must be complete) into
#   ${PLATFORM_CACHE}/<name>/ and prints that folder. <name> carries the version
#   (coredns-v1.15.0, kube-v1.37.2). Reused while its .stamp (sha256 of go.mod, go.sum,
#   the module's .go files, the packages, ldflags, tags, cgo and the Go version)
#   matches; otherwise rebuilt and replaced atomically.
#   A package builds to its own name; `pkg=binary` names the binary.
#   GO_BUILD_FORCE=1 rebuilds; GO_BUILD_PARALLEL sets `go build -p` (default 2).
#   Prints how long the build took on stderr. Holds ${PLATFORM_CACHE}/.<name>.lock while
#   it checks and builds, so concurrent callers build once.
go_build() {
  local name="$1" module_dir="$2" ldflags="$3" tags="" cgo=0
  shift 3
  if [[ "${1:-}" == --tags ]]; then tags="$2"; shift 2; fi
  if [[ "${1:-}" == --cgo ]]; then cgo=1; shift; fi
  local go_version out stamp tmp t0 spec together=()
  command -v go >/dev/null 2>&1 || die "go is not on PATH. Install Go >= 1.26 (the machine's /usr/local/go/bin) and retry."
  go_version="$(GOTOOLCHAIN=local go env GOVERSION)"
  case "${go_version}" in
    go1.2[6-9]*|go1.[3-9][0-9]*) ;;
    *) die "Go ${go_version} is too old for ${name}: the platform's modules need go1.26 or newer" ;;
  esac
  out="${PLATFORM_CACHE}/${name}"
  local lock_fd
  take_build_lock "${name}"
  lock_fd="${BUILD_LOCK_FD}"
  stamp="$(
    cd "${module_dir}" || exit 1
    cat go.mod go.sum
    find . -type f -name '*.go' | LC_ALL=C sort | xargs -r cat
    printf 'go=%s ldflags=%s tags=%s packages=%s cgo=%s trimpath\n' "${go_version}" "${ldflags}" "${tags}" "$*" "${cgo}"
  )"
  stamp="$(printf '%s' "${stamp}" | sha256sum | cut -d' ' -f1)"
  if [[ "${GO_BUILD_FORCE:-0}" != 1 && -f "${out}/.stamp" && "$(cat "${out}/.stamp")" == "${stamp}" ]]; then
    log "reusing ${name} (${out})"
    exec {lock_fd}>&-
    printf '%s\n' "${out}"
    return 0
  fi
  log "building ${name} with ${go_version}: $*"
  mkdir -p "${PLATFORM_CACHE}"
  tmp="$(mktemp -d "${PLATFORM_CACHE}/.build-${name}.XXXXXX")"
  t0=$(date +%s)
  # A subshell, so the EXIT trap that removes the half-built folder leaves the
  # caller's traps alone.
  (
    trap 'rm -rf "${tmp}"' EXIT
    cd "${module_dir}"
    export GOTOOLCHAIN=local CGO_ENABLED="${cgo}" GOFLAGS="-mod=readonly -buildvcs=false"
    gobuild() {
      nice -n 10 go build -p "${GO_BUILD_PARALLEL:-2}" -trimpath -tags "${tags}" -ldflags "${ldflags}" "$@" \
        || die "go build of ${name} failed (see above). If modules could not be downloaded, check that the Go module proxy is reachable (GOPROXY=$(go env GOPROXY)); if go.sum is incomplete run: (cd ${module_dir} && GOTOOLCHAIN=local go mod tidy)"
    }
    for spec in "$@"; do
      if [[ "${spec}" == *=* ]]; then
        gobuild -o "${tmp}/${spec#*=}" "${spec%%=*}"
      else
        together+=("${spec}")
      fi
    done
    (( ${#together[@]} == 0 )) || gobuild -o "${tmp}/" "${together[@]}"
    printf '%s\n' "${stamp}" > "${tmp}/.stamp"
    printf 'name=%s go=%s built=%s seconds=%s\n' "${name}" "${go_version}" \
      "$(date -u +%FT%TZ)" "$(( $(date +%s) - t0 ))" > "${tmp}/.build-info"
    rm -rf "${out}"
    mv "${tmp}" "${out}"
    trap - EXIT
  ) || exit 1
  exec {lock_fd}>&-
  log "built ${name} in $(( $(date +%s) - t0 )) s -> ${out}"
  printf '%s\n' "${out}"
}

# go_mod_version <module dir> <module path>: the version go.mod requires (not the
# module's line in a `tool` block, which names it without a version).
go_mod_version() {
  local v
  v="$(awk -v m="$2" '$1 == m && $2 ~ /^v/ { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "$1/go.mod")"
  [[ -n "${v}" ]] || die "cannot find the $2 requirement in $1/go.mod"
  printf '%s\n' "${v}"
}
