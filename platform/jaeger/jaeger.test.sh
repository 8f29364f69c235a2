#!/usr/bin/env bash
# The checks are strings, eval'ed by check(): they expand there, not here.
# shellcheck disable=SC2016,SC2034
# Tests of platform/jaeger/jaeger.sh: refuses to run without JAEGER_HOME; starts on
# loopback, takes one span over OTLP/HTTP (JSON) and serves it from the query API;
# a second start reuses the running one; stop ends it. Leaves nothing running.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
home="$(mktemp -d)"
trap 'JAEGER_HOME="$home" bash "$here/jaeger.sh" stop >/dev/null 2>&1 || true; rm -rf "$home"' EXIT
failures=0
check() { if eval "$2"; then echo "PASS $1"; else echo "FAIL $1"; failures=$((failures + 1)); fi; }

out="$(env -u JAEGER_HOME bash "$here/jaeger.sh" start 2>&1 || true)"
check "start without JAEGER_HOME is refused, saying what to set" '[[ "$out" == *"set JAEGER_HOME"* ]]'

env_out="$(JAEGER_HOME="$home" JAEGER_OTLP_ADDRESS=127.0.0.1 bash "$here/jaeger.sh" start)"
eval "$(grep -E '^JAEGER_(OTLP_ENDPOINT|URL)=' <<<"$env_out" | sed 's/^/export /')"
check "start prints the OTLP endpoint and the query URL" '[[ -n "${JAEGER_OTLP_ENDPOINT:-}" && -n "${JAEGER_URL:-}" ]]'

trace_id="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
now="$(date +%s)000000000"
curl -fsS -X POST "$JAEGER_OTLP_ENDPOINT/v1/traces" -H 'Content-Type: application/json' -d '{
  "resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "jaeger-test"}}]},
    "scopeSpans": [{"spans": [{"traceId": "'"$trace_id"'", "spanId": "0123456789abcdef", "name": "probe",
      "kind": 2, "startTimeUnixNano": "'"$now"'", "endTimeUnixNano": "'"$now"'"}]}]}]}' >/dev/null
found=""
for _ in $(seq 1 30); do
  found="$(curl -fsS "$JAEGER_URL/api/traces/$trace_id" 2>/dev/null || true)"
  [[ "$found" == *'"operationName":"probe"'* ]] && break
  sleep 0.5
done
check "a span sent over OTLP/HTTP is served by the query API" '[[ "$found" == *"\"operationName\":\"probe\""* && "$found" == *jaeger-test* ]]'

again="$(JAEGER_HOME="$home" JAEGER_OTLP_ADDRESS=127.0.0.1 bash "$here/jaeger.sh" start)"
check "a second start reuses the running Jaeger" '[[ "$again" == "$env_out" || "$env_out" == *"$again"* ]]'
check "status: running" 'JAEGER_HOME="$home" bash "$here/jaeger.sh" status'
JAEGER_HOME="$home" bash "$here/jaeger.sh" stop 2>/dev/null
check "status after stop: not running" '! JAEGER_HOME="$home" bash "$here/jaeger.sh" status'
check "stop ends the process" '! curl -fsS --max-time 2 "$JAEGER_URL/api/services" >/dev/null 2>&1'

echo "jaeger.test.sh: $failures failure(s)"
(( failures == 0 ))
