#!/usr/bin/env bash
# Concurrent callers of platform/kubernetes/build.sh on a cache whose binaries are built
# but whose kwok-stages.yaml is not yet written (what a cold `make test` has when its
# background prebuild and a stage wait for the same build): every caller succeeds and
# kwok-stages.yaml is whole. Before the fix they shared one temporary file, and a cold CI
# run failed with "mv: cannot stat '.../kwok-stages.yaml.tmp'".
#
# Works on a hard-linked copy of the built binaries in a temporary cache: the real cache
# is not touched, nothing is compiled. Needs the binaries built once (build.sh).
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

CALLERS="${CALLERS:-8}"
real="$(bash "${PLATFORM_DIR}/kubernetes/build.sh" 2>/dev/null)"
[[ -s "${real}/kwok-stages.yaml" ]] || die "no built Kubernetes binaries in ${real}: run platform/kubernetes/build.sh first"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
mkdir -p "${work}/cache"
cp -al "${real}" "${work}/cache/$(basename "${real}")"
rm "${work}/cache/$(basename "${real}")/kwok-stages.yaml"

pids=()
for i in $(seq 1 "${CALLERS}"); do
  PLATFORM_CACHE="${work}/cache" bash "${PLATFORM_DIR}/kubernetes/build.sh" >"${work}/out.${i}" 2>&1 &
  pids+=("$!")
done
failed=0
for i in "${!pids[@]}"; do
  wait "${pids[${i}]}" || { failed=1; echo "caller $((i + 1)) failed:" >&2; tail -n 5 "${work}/out.$((i + 1))" >&2; }
done
((failed == 0)) || die "concurrent build.sh callers failed (above)"
stages="${work}/cache/$(basename "${real}")/kwok-stages.yaml"
cmp -s "${stages}" "${real}/kwok-stages.yaml" \
  || die "kwok-stages.yaml written by ${CALLERS} concurrent callers differs from a single caller's"
leftovers="$(find "${work}/cache" -name '*kwok-stages*' ! -name kwok-stages.yaml)"
[[ -z "${leftovers}" ]] || die "temporary files left behind: ${leftovers}"
echo "build.sh: ${CALLERS} concurrent callers on a fresh cache, one whole kwok-stages.yaml, no temporary file left"
