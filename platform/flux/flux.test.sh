#!/usr/bin/env bash
# Bad input and no cluster for platform/flux/flux.sh: each case must fail (or succeed)
# with a message that says what to do, and start nothing. Needs no cluster: every case
# runs against an empty PLATFORM_STATE. The real controllers are tested by
# plugins/scaffolder-backend-module-golden-path/src/integration/fluxRegister.integration.test.ts
# (scripts/test-kube-integration.sh runs both).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
state="$(mktemp -d)"
trap 'rm -rf "${state}"' EXIT
failures=0

# expect RC DESCRIPTION EXPECTED_SUBSTRING COMMAND...: exit code RC and the text in its output.
expect() {
  local want_rc="$1" what="$2" expected="$3" out rc=0
  shift 3
  out="$(PLATFORM_STATE="${state}" "$@" 2>&1)" || rc=$?
  if (( rc == want_rc )) && [[ "${out}" == *"${expected}"* ]]; then
    echo "  ok   ${what}"
  else
    echo "  FAIL ${what}: exit ${rc} (wanted ${want_rc}), expected a message with '${expected}', got:"
    printf '%s\n' "${out}" | tail -n 5 | sed 's/^/         /'
    failures=$((failures + 1))
  fi
}

flux() { bash "${here}/flux.sh" "$@"; }

expect 2 "an unknown command prints the usage" "usage: platform/flux/flux.sh start|stop|status|connect-gitea" flux restart
expect 2 "no command prints the usage" "start          install the CRDs" flux
expect 1 "a Secret name that is not a DNS label" "FLUX_GITEA_SECRET must be a DNS label" \
  env FLUX_GITEA_SECRET='Gitea_Secret' bash "${here}/flux.sh" status
expect 1 "start without the local cluster says how to start it" "start it with platform/cluster.sh start (or make demo)" flux start
expect 1 "connect-gitea without the local cluster" "the local cluster is not running" flux connect-gitea
expect 1 "status when nothing runs" "flux/source-controller         stopped" flux status
expect 0 "stop when nothing runs" "" flux stop
if [[ -n "$(find "${state}" -mindepth 1 -print -quit)" ]]; then
  echo "  FAIL the failed commands left files in the state dir: $(find "${state}" -mindepth 1 | head -3 | xargs)"
  failures=$((failures + 1))
fi

if (( failures > 0 )); then
  echo "flux.test.sh: ${failures} failure(s)"
  exit 1
fi
echo "flux.test.sh: all cases passed"
