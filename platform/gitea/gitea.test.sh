#!/usr/bin/env bash
# platform/gitea/gitea.sh against a real Gitea in a throw-away GITEA_HOME: bad input is
# refused with a message that says what to fix; a second start reuses the running
# server; stop + start keeps the repositories and the portal's token; a start on another
# port with the same data moves it; a taken port is refused; nothing is left running.
# Needs the Gitea binary (platform/gitea/build.sh builds it; this test does not wait for
# a cold build) and no web assets (GITEA_ASSETS=0).
#
# usage: platform/gitea/gitea.test.sh    (prints ok/FAIL per case; exit 1 on a failure)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=platform/lib.sh
source "${here}/../lib.sh"

work="$(mktemp -d)"
export GITEA_ASSETS=0
HOME_A="${work}/a" HOME_B="${work}/b"
# The home of the user who runs the server (on a developer's machine, their own): Gitea
# must not write its ~/.ssh/authorized_keys (rewritten on every user deletion).
USER_HOME="${work}/user-home"
mkdir -p "${USER_HOME}"
# The caches stay the real user's: the built Gitea (PLATFORM_CACHE), Go's module and build
# caches. Derived from HOME, they would move to the empty one and Gitea be built again.
export PLATFORM_CACHE
GOMODCACHE="$(go env GOMODCACHE)" GOCACHE="$(go env GOCACHE)"
export GOMODCACHE GOCACHE
failures=0

# A free port outside the kernel's ephemeral range, so no outgoing connection takes it.
free_port() {
  local p
  ephemeral_range
  for _ in $(seq 1 100); do
    p=$(( 20000 + RANDOM % (EPHEMERAL_LOW - 20000) ))
    port_in_use "${p}" || { printf '%s\n' "${p}"; return; }
  done
  die "no free port below ${EPHEMERAL_LOW}"
}
PORT="$(free_port)"
PORT2="$(free_port)"

gitea() { # gitea HOME PORT COMMAND
  HOME="${USER_HOME}" GITEA_HOME="$1" GITEA_PORT="$2" bash "${here}/gitea.sh" "$3"
}
cleanup() {
  gitea "${HOME_A}" "${PORT}" stop >/dev/null 2>&1 || true
  gitea "${HOME_A}" "${PORT2}" stop >/dev/null 2>&1 || true
  gitea "${HOME_B}" "${PORT2}" stop >/dev/null 2>&1 || true
  rm -rf "${work}"
}
trap cleanup EXIT

pass() { echo "  ok   $1"; }
fail() {
  echo "  FAIL $1"
  if [[ -n "${2:-}" ]]; then printf '%s\n' "$2" | tail -n 8 | sed 's/^/         /'; fi
  failures=$((failures + 1))
}
# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() {
  local what="$1"
  shift
  if "$@"; then pass "${what}"; else fail "${what}"; fi
}

# expect_error DESCRIPTION EXPECTED_SUBSTRING COMMAND...
expect_error() {
  local what="$1" expected="$2" out rc=0
  shift 2
  out="$("$@" 2>&1)" || rc=$?
  if (( rc != 0 )) && [[ "${out}" == *"${expected}"* ]]; then pass "${what}"; else
    fail "${what}: exit ${rc}, expected a message with '${expected}'" "${out}"
  fi
}

api() { # api URL TOKEN PATH [METHOD BODY]: prints the HTTP status
  curl -s -o /dev/null -w '%{http_code}' -u "portal:$2" -X "${4:-GET}" \
    -H 'Content-Type: application/json' ${5:+--data "$5"} "$1/api/v1$3"
}

[[ -x "${PLATFORM_CACHE}/gitea-$(awk '$1 == "require" && $2 == "code.gitea.io/gitea" { print $3 }' "${here}/go.mod")/gitea" ]] \
  || die "Gitea is not built yet: run platform/gitea/build.sh first (~5 min cold)"

echo "gitea.sh: bad input"
for port in abc 80 70000 08080 '3300;id'; do
  expect_error "GITEA_PORT=${port} is refused" "GITEA_PORT must be a port number from 1024 to 65535" \
    gitea "${HOME_A}" "${port}" start
done
for org in 'a"b' '-leading' 'with space' "$(printf 'x%.0s' {1..50})"; do
  expect_error "GITEA_ORG='${org}' is refused" "GITEA_ORG must be letters, digits" \
    env HOME="${USER_HOME}" GITEA_ORG="${org}" GITEA_HOME="${HOME_A}" GITEA_PORT="${PORT}" bash "${here}/gitea.sh" start
done
expect_error "an unknown command is refused" "usage:" gitea "${HOME_A}" "${PORT}" restart
check "bad input started nothing" test ! -e "${HOME_A}/gitea.pid"
expect_error "env before the first start says to start it" "run '" gitea "${HOME_A}" "${PORT}" env

echo "gitea.sh: start, reuse, stop + start"
if out="$(gitea "${HOME_A}" "${PORT}" start 2>&1)"; then pass "first start"; else fail "first start" "${out}"; fi
eval "$(gitea "${HOME_A}" "${PORT}" env)"
pid1="$(cat "${HOME_A}/gitea.pid")"
check "env names the server and the organisation" test \
  "${GITEA_URL} ${GITEA_HOST} ${GITEA_ORG}" = "http://127.0.0.1:${PORT} 127.0.0.1:${PORT} golden-path"
token="${GITEA_TOKEN}"
check "the portal's token works" test "$(api "${GITEA_URL}" "${token}" /user)" = 200
check "the token creates a repository in the organisation" \
  test "$(api "${GITEA_URL}" "${token}" /orgs/golden-path/repos POST '{"name":"kept","auto_init":true}')" = 201

admin_api() { # admin_api METHOD PATH [BODY]: prints the HTTP status of the admin's call
  curl -s -o /dev/null -w '%{http_code}' -u "golden-path-admin:$(cat "${HOME_A}/admin-password")" \
    -X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} "${GITEA_URL}/api/v1$2"
}
check "the admin creates and deletes a user" test "$(admin_api POST /admin/users \
  '{"username":"leaver","email":"leaver@golden-path.invalid","password":"leaver-password-1","must_change_password":false}'
  ):$(admin_api DELETE /admin/users/leaver)" = 201:204
if [[ ! -e "${USER_HOME}/.ssh" ]]; then pass "the deletion left the server's user's ~/.ssh alone"; else
  fail "the deletion wrote in the server's user's ~/.ssh" "$(ls -la "${USER_HOME}/.ssh")"
fi

out="$(gitea "${HOME_A}" "${PORT}" start 2>&1)"
if [[ "${out}" == *"already running"* && "$(cat "${HOME_A}/gitea.pid")" == "${pid1}" ]]; then
  pass "a second start reuses the running server"
else
  fail "a second start reuses the running server" "${out}"
fi
check "status: running" gitea "${HOME_A}" "${PORT}" status

# A client with an open keep-alive connection, as the portal has: the stop closes it
# from the server's side, which leaves the port in TIME-WAIT for a minute. A start right
# after must not take that for another program on the port.
python3 -c "
import socket, sys, time
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.sendall(b'GET /api/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
s.recv(4096)
time.sleep(30)
" "${PORT}" &
keep_alive_client=$!
sleep 0.5
gitea "${HOME_A}" "${PORT}" stop 2>/dev/null
stopped() { ! pid_running "$1" && ! port_listening "$2"; }
check "stop ends the server and frees the port" stopped "${pid1}" "${PORT}"
not_running() { ! gitea "$1" "$2" status; }
check "status after stop: not running" not_running "${HOME_A}" "${PORT}"
if ! out="$(gitea "${HOME_A}" "${PORT}" start 2>&1)"; then fail "start right after a stop that closed a client's connection" "${out}"; fi
kill "${keep_alive_client}" 2>/dev/null || true
wait "${keep_alive_client}" 2>/dev/null || true
eval "$(gitea "${HOME_A}" "${PORT}" env)"
check "stop + start keeps the token" test "${GITEA_TOKEN}:$(api "${GITEA_URL}" "${token}" /user)" = "${token}:200"
check "stop + start keeps the repositories" test "$(api "${GITEA_URL}" "${token}" /repos/golden-path/kept)" = 200
if [[ "${out}" != *"created"* ]]; then
  pass "stop + start creates no second admin, organisation or token"
else
  fail "stop + start creates no second admin, organisation or token" "${out}"
fi

echo "gitea.sh: ports"
expect_error "a port taken by another program is refused" "port ${PORT} is taken by another program" \
  gitea "${HOME_B}" "${PORT}" start
check "the refused start started nothing" test ! -e "${HOME_B}/gitea.pid"
expect_error "the running data on another port is refused, not started twice" "was started with GITEA_PORT=${PORT}" \
  gitea "${HOME_A}" "${PORT2}" start
gitea "${HOME_A}" "${PORT}" stop 2>/dev/null
# As a configuration written by an older gitea.sh: the next start adds the SSH settings.
sed -i '/^SSH_CREATE_AUTHORIZED_KEYS_FILE\|^SSH_ROOT_PATH/d' "${HOME_A}/app.ini"
if ! out="$(gitea "${HOME_A}" "${PORT2}" start 2>&1)"; then fail "a start on another port" "${out}"; fi
check "a start adds the SSH settings to an older configuration" \
  test "$(grep -c '^SSH_CREATE_AUTHORIZED_KEYS_FILE = false$\|^SSH_ROOT_PATH = '"${HOME_A}"'/ssh$' "${HOME_A}/app.ini")" = 2
check "the same data served on another port after stop" \
  test "$(api "http://127.0.0.1:${PORT2}" "${token}" /repos/golden-path/kept)" = 200
gitea "${HOME_A}" "${PORT2}" stop 2>/dev/null

none_left() { ! pgrep -f "work-path $1" >/dev/null; }
check "nothing left running" none_left "${work}"
echo
if (( failures > 0 )); then echo "gitea.sh: ${failures} failed"; exit 1; fi
echo "gitea.sh: all cases passed"
