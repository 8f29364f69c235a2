#!/usr/bin/env bash
# Jaeger v2 next to the cluster: OTLP/HTTP in (on the host's node-network address, which
# pods reach), traces kept in memory, the query API and UI on loopback. For the
# fastapi-microservices template's demo and tests (its scripts/verify.sh, check TRACE).
#
# usage: platform/jaeger/jaeger.sh start|stop|status
#   start   build or reuse Jaeger (build.sh), start it unless it runs, wait until it
#           answers; prints JAEGER_OTLP_ENDPOINT=<url> and JAEGER_URL=<url>
#   stop    stop it (its traces are gone: memory store)
#   status  exit 0 when it runs and its query API answers
# Env: JAEGER_HOME (required: config, pid and log), JAEGER_OTLP_ADDRESS (default the
#      host's node-network address ${NODE_NET_HOST_IP}; 127.0.0.1 for local use only),
#      JAEGER_OTLP_PORT, JAEGER_QUERY_PORT (default: free ports outside the ephemeral range).
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

[[ -n "${JAEGER_HOME:-}" ]] || die "set JAEGER_HOME (a folder for Jaeger's config, pid and log)"
OTLP_ADDRESS="${JAEGER_OTLP_ADDRESS:-${NODE_NET_HOST_IP}}"
PID_FILE="${JAEGER_HOME}/jaeger.pid"
LOG_FILE="${JAEGER_HOME}/jaeger.log"
ENV_FILE="${JAEGER_HOME}/jaeger.env"

running() { [[ -f "${PID_FILE}" ]] && pid_running "$(cat "${PID_FILE}")"; }

# free_port: a port nothing listens on, outside the ephemeral range (see pick_port).
free_port() {
  local p _
  ephemeral_range
  for _ in $(seq 1 200); do
    p=$(( 10000 + (RANDOM * 32768 + RANDOM) % (EPHEMERAL_LOW - 10000) ))
    port_in_use "${p}" || { printf '%s\n' "${p}"; return; }
  done
  die "no free port for Jaeger"
}

# shellcheck disable=SC1090 # written by start
load_env() { source "${ENV_FILE}"; }

answers() { curl -fs --max-time 2 "${JAEGER_URL}/api/services" >/dev/null 2>&1; }

start() {
  if running; then
    cat "${ENV_FILE}"
    return
  fi
  [[ "${OTLP_ADDRESS}" == 127.0.0.1 ]] || ip -o addr show | grep -q " ${OTLP_ADDRESS}/" \
    || die "no interface has ${OTLP_ADDRESS}: start the cluster first (platform/cluster.sh start), or set JAEGER_OTLP_ADDRESS=127.0.0.1"
  local bin otlp_port query_port
  bin="$("${PLATFORM_DIR}/jaeger/build.sh")"
  otlp_port="${JAEGER_OTLP_PORT:-$(free_port)}"
  query_port="${JAEGER_QUERY_PORT:-$(free_port)}"
  mkdir -p "${JAEGER_HOME}"
  # Only what the tests need: OTLP/HTTP in, the memory store, the query API. No gRPC
  # listeners, no collector self-metrics port.
  cat > "${JAEGER_HOME}/config.yaml" <<YAML
service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
extensions:
  jaeger_storage:
    backends:
      memory_store:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: memory_store
    http:
      endpoint: 127.0.0.1:${query_port}
    grpc:
      endpoint: 127.0.0.1:$(free_port)
receivers:
  otlp:
    protocols:
      http:
        endpoint: ${OTLP_ADDRESS}:${otlp_port}
processors:
  batch:
    timeout: 1s
exporters:
  jaeger_storage_exporter:
    trace_storage: memory_store
YAML
  JAEGER_URL="http://127.0.0.1:${query_port}"
  printf 'JAEGER_OTLP_ENDPOINT=http://%s:%s\nJAEGER_URL=%s\n' "${OTLP_ADDRESS}" "${otlp_port}" "${JAEGER_URL}" > "${ENV_FILE}"
  setsid "${bin}/jaeger" --config "${JAEGER_HOME}/config.yaml" >> "${LOG_FILE}" 2>&1 < /dev/null &
  echo $! > "${PID_FILE}"
  local deadline=$(( $(date +%s) + 60 ))
  until answers; do
    running || { tail -n 30 "${LOG_FILE}" >&2; die "Jaeger exited (log: ${LOG_FILE})"; }
    (( $(date +%s) < deadline )) || { tail -n 30 "${LOG_FILE}" >&2; die "Jaeger did not answer within 60 s (log: ${LOG_FILE})"; }
    sleep 0.3
  done
  log "Jaeger runs: OTLP/HTTP on ${OTLP_ADDRESS}:${otlp_port}, UI and query API on ${JAEGER_URL}"
  cat "${ENV_FILE}"
}

stop() {
  running || { rm -f "${PID_FILE}"; return 0; }
  local p; p="$(cat "${PID_FILE}")"
  kill -TERM -- "-${p}" 2>/dev/null || kill -TERM "${p}" 2>/dev/null || true
  local deadline=$(( $(date +%s) + 15 ))
  while pid_running "${p}" && (( $(date +%s) < deadline )); do sleep 0.2; done
  if pid_running "${p}"; then kill -KILL -- "-${p}" 2>/dev/null || true; fi
  rm -f "${PID_FILE}"
  log "Jaeger stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) running && { load_env; answers; } ;;
  *) die "usage: $0 start|stop|status (JAEGER_HOME=<folder>)" ;;
esac
