#!/usr/bin/env bash
# Build actionlint from the Go module proxy into ~/.cache/golden-path-portal/bin
# (or $GOLDEN_PATH_BIN), once per version. Reuses the cached binary when it is
# already the pinned version. Prints the binary's path on stdout.
set -euo pipefail

ACTIONLINT_VERSION="${ACTIONLINT_VERSION:-v1.7.12}"
BIN_DIR="${GOLDEN_PATH_BIN:-$HOME/.cache/golden-path-portal/bin}"
BIN="$BIN_DIR/actionlint"

log() { echo "[build-actionlint] $*" >&2; }

current_version() { "$BIN" -version 2>/dev/null | head -n1 || true; }

if [[ -x "$BIN" && "$(current_version)" == "$ACTIONLINT_VERSION" ]]; then
  echo "$BIN"; exit 0
fi

command -v go >/dev/null 2>&1 || {
  log "ERROR: 'go' not found. Install Go >= 1.24 (https://go.dev/dl, or Debian's golang-go) or put a prebuilt"
  log "actionlint $ACTIONLINT_VERSION at $BIN (or set ACTIONLINT=/path/to/actionlint)."
  exit 1
}

mkdir -p "$BIN_DIR"
exec 9>"$BIN_DIR/.actionlint.lock"
flock 9
if [[ -x "$BIN" && "$(current_version)" == "$ACTIONLINT_VERSION" ]]; then
  echo "$BIN"; exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
log "building github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION (about 1 minute on 2 cores)"
start=$SECONDS
if ! GOBIN="$tmp" GOFLAGS="${GOFLAGS:-} -buildvcs=false" GOTOOLCHAIN=local \
    go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"; then
  log "ERROR: go install failed. Check that the Go module proxy is reachable (GOPROXY=$(go env GOPROXY))"
  log "and that your Go ($(go version)) satisfies actionlint's go.mod."
  exit 1
fi
mv -f "$tmp/actionlint" "$BIN"
log "built $("$BIN" -version | head -n1) in $((SECONDS - start))s -> $BIN"
echo "$BIN"
