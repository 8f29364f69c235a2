#!/usr/bin/env bash
# The local Git server of the golden path: Gitea (build.sh, build-assets.sh) serving
# http://127.0.0.1:${GITEA_PORT} on loopback only, with an organisation the portal
# publishes new repositories to and a token the portal uses. Its data (SQLite database,
# repositories, secrets) stays in GITEA_HOME across restarts, like the portal's own.
#
# usage: platform/gitea/gitea.sh start|stop|status|env
#   start   build or reuse Gitea, start it unless it runs, create the admin user, the
#           organisation and the portal's token on first start; prints where it is
#   stop    stop it (data kept)
#   status  exit 0 when it runs and answers /api/healthz
#   env     print the shell exports the portal's app-config reads (GITEA_*)
#   read-token  print a token that may only read repositories (created once, kept in
#           GITEA_HOME/read-token): what Flux's GitRepositories use (platform/flux)
# Env: GITEA_HOME (default <repo>/.tools/data/gitea), GITEA_PORT (3300),
#      GITEA_ORG (golden-path), GITEA_ADMIN (golden-path-admin),
#      GITEA_ASSETS=0 to skip building the web UI's assets (the API works without them;
#      the web UI is then unstyled: templates and locales come from the Go module).
# One server per GITEA_HOME; a start with another GITEA_PORT moves it (after a stop).
# Tested by platform/gitea/gitea.test.sh (make test, template-checks stage).
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=platform/lib/go-build.sh
source "${PLATFORM_DIR}/lib/go-build.sh"

GITEA_HOME="${GITEA_HOME:-${REPO_ROOT}/.tools/data/gitea}"
GITEA_PORT="${GITEA_PORT:-3300}"
GITEA_ORG="${GITEA_ORG:-golden-path}"
GITEA_ADMIN="${GITEA_ADMIN:-golden-path-admin}"
GITEA_URL="http://127.0.0.1:${GITEA_PORT}"
INI="${GITEA_HOME}/app.ini"
PID_FILE="${GITEA_HOME}/gitea.pid"
LOG_FILE="${GITEA_HOME}/log/gitea.out"
TOKEN_FILE="${GITEA_HOME}/portal-token"
# What publish:gitea and the catalog need: create repositories in the organisation,
# push to them, read them. Nothing on users, admin or packages.
TOKEN_SCOPES="write:organization,write:repository,read:user"
# What a GitOps engine needs: clone and fetch, nothing else.
READ_TOKEN_FILE="${GITEA_HOME}/read-token"
READ_TOKEN_SCOPES="read:repository"

validate_input() {
  # No leading zero: bash arithmetic would read 08080 as octal.
  if ! [[ "${GITEA_PORT}" =~ ^[1-9][0-9]{3,4}$ ]] || (( GITEA_PORT > 65535 )); then
    die "GITEA_PORT must be a port number from 1024 to 65535 (got '${GITEA_PORT}')"
  fi
  [[ "${GITEA_ORG}" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,38}$ ]] \
    || die "GITEA_ORG must be letters, digits, '.', '_' or '-' (got '${GITEA_ORG}')"
  [[ "${GITEA_ADMIN}" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,38}$ ]] \
    || die "GITEA_ADMIN must be letters, digits, '.', '_' or '-' (got '${GITEA_ADMIN}')"
}

gitea_pid() { [[ -f "${PID_FILE}" ]] && cat "${PID_FILE}"; }
healthy() { curl -sf --max-time 2 "${GITEA_URL}/api/healthz" >/dev/null 2>&1; }
running() { local p; p="$(gitea_pid 2>/dev/null)" && [[ -n "${p}" ]] && pid_running "${p}"; }

gitea_cli() { "${BIN_DIR}/gitea" --config "${INI}" --work-path "${GITEA_HOME}" "$@"; }

# The last lines of Gitea's own log (fatal errors go there, not to its stdout).
show_logs() {
  local f
  for f in "${LOG_FILE}" "${GITEA_HOME}/log/gitea.log"; do
    [[ -f "${f}" ]] && { printf -- '----- last lines of %s -----\n' "${f}" >&2; tail -n 25 "${f}" >&2; }
  done
  return 0
}

# Without the built web assets, Gitea still needs its templates and options (locales:
# without them it stops at start-up, "translation is missing"). Both are in the Go
# module, which build.sh has downloaded; the built CSS/JS (public/) are not.
module_assets() {
  local version src web="${GITEA_HOME}/module-assets"
  version="$(go_mod_version "${PLATFORM_DIR}/gitea" code.gitea.io/gitea)"
  src="$(cd "${PLATFORM_DIR}/gitea" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly \
    go mod download -json "code.gitea.io/gitea@${version}" | awk -F'"' '$2 == "Dir" { print $4 }')"
  [[ -d "${src}/templates" && -d "${src}/options" ]] \
    || die "could not find code.gitea.io/gitea@${version} in the Go module cache (run platform/gitea/build.sh)"
  mkdir -p "${web}/public"
  ln -sfn "${src}/templates" "${web}/templates"
  ln -sfn "${src}/options" "${web}/options"
  printf '%s\n' "${web}"
}

# The configuration, written once: secrets are generated on first start and kept.
write_config() {
  local web="$1" secret internal jwt
  mkdir -p "${GITEA_HOME}/data" "${GITEA_HOME}/repositories" "${GITEA_HOME}/log"
  chmod 700 "${GITEA_HOME}"
  if [[ ! -f "${INI}" ]]; then
    secret="$("${BIN_DIR}/gitea" generate secret SECRET_KEY)"
    internal="$("${BIN_DIR}/gitea" generate secret INTERNAL_TOKEN)"
    jwt="$("${BIN_DIR}/gitea" generate secret JWT_SECRET)"
    umask 077
    cat > "${INI}" <<INI
; Written by platform/gitea/gitea.sh on first start. The secrets are this machine's own.
APP_NAME = Golden Path Git
RUN_MODE = prod
RUN_USER = $(id -un)
WORK_PATH = ${GITEA_HOME}
; The local loop runs as whatever user runs make start, root on CI machines.
I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true

[server]
PROTOCOL = http
HTTP_ADDR = 127.0.0.1
HTTP_PORT = ${GITEA_PORT}
DOMAIN = 127.0.0.1
ROOT_URL = ${GITEA_URL}/
DISABLE_SSH = true
START_SSH_SERVER = false
OFFLINE_MODE = true
LFS_START_SERVER = false
APP_DATA_PATH = ${GITEA_HOME}/data
STATIC_ROOT_PATH = ${web}

[database]
DB_TYPE = sqlite3
PATH = ${GITEA_HOME}/data/gitea.db

[repository]
ROOT = ${GITEA_HOME}/repositories
DEFAULT_BRANCH = main

[security]
INSTALL_LOCK = true
SECRET_KEY = ${secret}
INTERNAL_TOKEN = ${internal}

[oauth2]
JWT_SECRET = ${jwt}

[service]
DISABLE_REGISTRATION = true
REQUIRE_SIGNIN_VIEW = false
DEFAULT_KEEP_EMAIL_PRIVATE = true

[mailer]
ENABLED = false

[session]
PROVIDER = file

[webhook]
; Flux's receiver and other local services.
ALLOWED_HOST_LIST = loopback,private

[log]
MODE = file
LEVEL = Info
ROOT_PATH = ${GITEA_HOME}/log
INI
  fi
  # The web assets' folder is a cache path that changes with the Gitea version, and the
  # port may differ from the first start's: both follow this start's settings.
  sed -i -e "s|^STATIC_ROOT_PATH = .*|STATIC_ROOT_PATH = ${web}|" \
    -e "s|^HTTP_PORT = .*|HTTP_PORT = ${GITEA_PORT}|" \
    -e "s|^ROOT_URL = .*|ROOT_URL = ${GITEA_URL}/|" "${INI}"
  # DISABLE_SSH does not stop Gitea from rewriting <RUN_USER's home>/.ssh/authorized_keys
  # (on every user deletion, for one): every configuration, the one just written and one
  # an older gitea.sh wrote, says never to write it and keeps Gitea's SSH folder here.
  grep -q '^SSH_CREATE_AUTHORIZED_KEYS_FILE' "${INI}" || sed -i \
    -e "/^START_SSH_SERVER = /a SSH_CREATE_AUTHORIZED_KEYS_FILE = false\\nSSH_ROOT_PATH = ${GITEA_HOME}/ssh" "${INI}"
}

api() { # api METHOD PATH [JSON]: the admin's basic-auth call; prints the body
  local method="$1" path="$2" body="${3:-}"
  curl -sS --max-time 20 -u "${GITEA_ADMIN}:$(cat "${GITEA_HOME}/admin-password")" \
    -H 'Content-Type: application/json' -X "${method}" ${body:+--data "${body}"} \
    -w '\n%{http_code}' "${GITEA_URL}/api/v1${path}"
}

# The admin user, the organisation and the portal's token; each only when missing.
seed() {
  local out code
  if [[ ! -f "${GITEA_HOME}/admin-password" ]]; then
    (umask 077; openssl rand -hex 24 > "${GITEA_HOME}/admin-password.new")
    gitea_cli admin user create --admin --username "${GITEA_ADMIN}" \
      --password "$(cat "${GITEA_HOME}/admin-password.new")" \
      --email "${GITEA_ADMIN}@golden-path.invalid" --must-change-password=false >/dev/null \
      || die "could not create the Gitea admin user '${GITEA_ADMIN}' (log: ${GITEA_HOME}/log)"
    mv "${GITEA_HOME}/admin-password.new" "${GITEA_HOME}/admin-password"
    log "gitea: created admin user ${GITEA_ADMIN} (password in ${GITEA_HOME}/admin-password)"
  fi
  out="$(api GET "/orgs/${GITEA_ORG}")"; code="${out##*$'\n'}"
  if [[ "${code}" == 404 ]]; then
    out="$(api POST /orgs "{\"username\":\"${GITEA_ORG}\",\"visibility\":\"public\",\"description\":\"Repositories created by the golden-path portal\"}")"
    code="${out##*$'\n'}"
    [[ "${code}" == 201 ]] || die "could not create the Gitea organisation '${GITEA_ORG}' (HTTP ${code}): ${out%$'\n'*}"
    log "gitea: created organisation ${GITEA_ORG}"
  elif [[ "${code}" != 200 ]]; then
    die "could not read the Gitea organisation '${GITEA_ORG}' (HTTP ${code}): ${out%$'\n'*}"
  fi
  if [[ ! -s "${TOKEN_FILE}" ]]; then
    new_token "${TOKEN_FILE}" backstage-portal "${TOKEN_SCOPES}"
    log "gitea: created the portal's token (${TOKEN_SCOPES}) in ${TOKEN_FILE}"
  fi
}

# new_token FILE NAME_PREFIX SCOPES: an access token of the admin user, kept in FILE.
new_token() {
  local file="$1" out
  out="$(gitea_cli admin user generate-access-token --username "${GITEA_ADMIN}" \
    --token-name "$2-$(date +%s)" --scopes "$3" --raw 2>/dev/null)" \
    || die "could not create the Gitea token $2 ($3)"
  # The CLI prints its warnings on stdout too: the token is the line of 40 hex digits.
  out="$(grep -Eo '^[0-9a-f]{40}$' <<<"${out}" | tail -n1)" \
    || die "gitea printed no token (expected 40 hex digits on a line of its own)"
  (umask 077; printf '%s\n' "${out}" > "${file}.new")
  mv "${file}.new" "${file}"
}

# The read-only token, created on first use (Gitea must run: its database is the truth).
print_read_token() {
  if [[ ! -s "${READ_TOKEN_FILE}" ]]; then
    if ! { running && healthy; }; then die "gitea does not run at ${GITEA_URL}: run '$0 start' first"; fi
    BIN_DIR="$(bash "${PLATFORM_DIR}/gitea/build.sh")"
    new_token "${READ_TOKEN_FILE}" read-only "${READ_TOKEN_SCOPES}"
    log "gitea: created a read-only token (${READ_TOKEN_SCOPES}) in ${READ_TOKEN_FILE}"
  fi
  cat "${READ_TOKEN_FILE}"
}

# wait_healthy SECONDS: until it answers; 1 when it exits or the time is up.
wait_healthy() {
  local deadline=$(( $(date +%s) + $1 ))
  until healthy; do
    running && (( $(date +%s) < deadline )) || return 1
    sleep 0.3
  done
}

start() {
  local web t0 running_port
  t0=$(date +%s.%N)
  if running; then
    # This GITEA_HOME's server (one per home: they share the SQLite database). It may
    # still be starting; a second one must never start next to it.
    running_port="$(sed -n 's/^HTTP_PORT = //p' "${INI}" 2>/dev/null)"
    if [[ "${running_port}" == "${GITEA_PORT}" ]] && wait_healthy 30; then
      log "gitea: already running at ${GITEA_URL} (pid $(gitea_pid))"
      return 0
    fi
    die "gitea (pid $(gitea_pid), data in ${GITEA_HOME}) runs but does not answer ${GITEA_URL}/api/healthz (it was started with GITEA_PORT=${running_port:-?}): run '$0 stop' first"
  fi
  if port_listening "${GITEA_PORT}"; then
    die "port ${GITEA_PORT} is taken by another program: stop it, or choose another port with GITEA_PORT=<port>"
  fi
  BIN_DIR="$(bash "${PLATFORM_DIR}/gitea/build.sh")"
  if [[ "${GITEA_ASSETS:-1}" == 0 ]]; then
    web="$(module_assets)"
  else
    web="$(bash "${PLATFORM_DIR}/gitea/build-assets.sh")"
  fi
  write_config "${web}"
  rm -f "${PID_FILE}"
  setsid "${BIN_DIR}/gitea" web --config "${INI}" --work-path "${GITEA_HOME}" \
    >> "${LOG_FILE}" 2>&1 < /dev/null &
  echo $! > "${PID_FILE}"
  if ! wait_healthy 60; then
    show_logs
    if running; then
      stop
      die "gitea did not answer ${GITEA_URL}/api/healthz within 60 s; stopped it (logs above; all in ${GITEA_HOME}/log)"
    fi
    rm -f "${PID_FILE}"
    die "gitea exited while starting (logs above; all in ${GITEA_HOME}/log)"
  fi
  seed
  log "gitea: ready in $(elapsed "${t0}" "$(date +%s.%N)") s at ${GITEA_URL} (organisation ${GITEA_ORG}, data in ${GITEA_HOME})"
}

stop() {
  local p deadline
  p="$(gitea_pid 2>/dev/null || true)"
  if [[ -n "${p}" ]] && pid_running "${p}"; then
    kill -TERM -- "-${p}" 2>/dev/null || kill -TERM "${p}" 2>/dev/null || true
    deadline=$(( $(date +%s) + 15 ))
    while pid_running "${p}" && (( $(date +%s) < deadline )); do sleep 0.2; done
    pid_running "${p}" && { kill -KILL -- "-${p}" 2>/dev/null || kill -KILL "${p}" 2>/dev/null || true; }
    log "gitea: stopped (data kept in ${GITEA_HOME})"
  fi
  rm -f "${PID_FILE}"
}

print_env() {
  [[ -s "${TOKEN_FILE}" ]] || die "no portal token yet in ${TOKEN_FILE}: run '$0 start' first"
  printf 'export GITEA_URL=%q GITEA_HOST=%q GITEA_ORG=%q GITEA_USERNAME=%q GITEA_TOKEN=%q\n' \
    "${GITEA_URL}" "127.0.0.1:${GITEA_PORT}" "${GITEA_ORG}" "${GITEA_ADMIN}" "$(cat "${TOKEN_FILE}")"
}

validate_input
case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) running && healthy ;;
  env) print_env ;;
  read-token) print_read_token ;;
  *) die "usage: $0 start|stop|status|env|read-token" ;;
esac
