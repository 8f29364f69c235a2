#!/usr/bin/env bash
# go_build_cached NAME MODULE_DIR PACKAGE=BINARY...
# Builds Go programs from a wrapper module (go.mod + go.sum pin every dependency) into
#   ${PLATFORM_CACHE}/<NAME>-<input hash>/
# and reuses that directory while the inputs (go.mod, go.sum, the module's .go files,
# the Go version, the flags) are unchanged. Prints the directory on stdout, the build
# time on stderr. Source after platform/lib.sh.

go_build_cached() {
  local name="$1" module_dir="$2"; shift 2
  local go_version stamp out tmp t0 spec pkg bin
  command -v go >/dev/null 2>&1 || die "go is not on PATH. Install Go >= 1.26 (the machine's /usr/local/go/bin) and retry."
  go_version="$(GOTOOLCHAIN=local go env GOVERSION)"
  stamp="$(
    cd "${module_dir}"
    cat go.mod go.sum
    find . -type f -name '*.go' | LC_ALL=C sort | xargs cat
    printf 'go=%s cgo=0 trimpath ldflags=-s -w targets=%s\n' "${go_version}" "$*"
  )"
  stamp="$(printf '%s' "${stamp}" | sha256sum | cut -c1-16)"
  out="${PLATFORM_CACHE}/${name}-${stamp}"
  if [[ -f "${out}/.complete" ]]; then
    printf '%s\n' "${out}"
    return 0
  fi
  mkdir -p "${PLATFORM_CACHE}"
  tmp="$(mktemp -d "${PLATFORM_CACHE}/.build-${name}.XXXXXX")"
  t0=$(date +%s)
  log "building ${name} with ${go_version} (cached in ${out})"
  for spec in "$@"; do
    pkg="${spec%%=*}"; bin="${spec#*=}"
    # GOTOOLCHAIN=local: never download another Go; -mod=readonly: go.sum must be complete.
    (cd "${module_dir}" && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" \
      nice -n 10 go build -trimpath -ldflags "-s -w" -o "${tmp}/${bin}" "${pkg}") \
      || { rm -rf "${tmp}"; die "go build of ${pkg} failed (errors above); if modules could not be downloaded, check that the Go module proxy is reachable (GOPROXY=$(go env GOPROXY))"; }
  done
  printf 'go=%s built=%s seconds=%s\n' "${go_version}" "$(date -u +%FT%TZ)" "$(( $(date +%s) - t0 ))" > "${tmp}/.complete"
  rm -rf "${out}"
  mv "${tmp}" "${out}"
  log "built ${name} in $(( $(date +%s) - t0 )) s"
  printf '%s\n' "${out}"
}
