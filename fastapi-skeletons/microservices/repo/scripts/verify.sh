#!/usr/bin/env bash
# Checks the requirements on the running pods (docs/verify.md); PASS or FAIL for each.
# Env: NAMESPACE, KUBECTL, VERIFY_OUT, VERIFY_TIMEOUT.
set -euo pipefail

NAMESPACE="${NAMESPACE:-${{ values.namespace }}}"
APP=${{ values.name | dump }}
# {% raw %}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/verify-lib.sh
source "$ROOT/scripts/verify-lib.sh"
SERVICES=(gateway orders inventory payments)

check_services() {
  local service
  for service in "${SERVICES[@]}"; do
    k rollout status "deployment/$APP-$service" --timeout="${VERIFY_TIMEOUT}s" \
      || fail "deployment/$APP-$service did not become Ready"
    note "deployment/$APP-$service Ready"
  done
}

verify_begin "$APP: microservices with API keys, NetworkPolicies, circuit breakers and tracing"
requirement SERVICES "the four Deployments are Ready" check_services
verify_end
# {% endraw %}
