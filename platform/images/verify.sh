#!/usr/bin/env bash
# Verify the platform's images on a throw-away containerd, without a kubelet or a node:
# build (or reuse) each image, `ctr -n k8s.io images import` it, `ctr run` it and check
# that it does its job. Prints a table: build time, import time, sizes, result.
#
# usage: platform/images/verify.sh [pause|busybox|python|fastapi|postgres|node|coredns|metrics-server|local-path-provisioner|portal ...]
#        (default: all of them but portal, whose cold build takes ~20 min: name it)
#
# The containerd (and every shim, mount and container it starts) lives in a private
# mount namespace with root, state, socket, runc root and FIFOs under one temp folder;
# containers get cgroups under /golden-path-images-verify/. All of it is removed on exit,
# also on failure or Ctrl-C.
#
# Env: VERIFY_KEEP=1 keep the temp folder (logs) after a failure.
#      PLATFORM_CACHE as everywhere (images come from the cache or are built).
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=platform/images/lib-images.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-images.sh"

require_cmd containerd containerd
require_cmd ctr containerd
require_cmd runc runc
require_cmd unshare util-linux
require_cmd ip iproute2
require_cmd nsenter util-linux

ALL=(pause busybox python fastapi postgres node coredns metrics-server local-path-provisioner)
# Checked only when named: built by build-portal.sh (its cold build takes ~20 min).
ON_REQUEST=(portal)
CGROUP_PARENT="golden-path-images-verify"
NS=k8s.io

D="$(mktemp -d /tmp/gp-images-verify.XXXXXX)"
SOCK="${D}/containerd.sock"
CONTAINERD_PID=""
NETNS=""
NETNS_PID=""
RESULTS=()
# Its default postgresImage is the image the local postgres image substitutes for.
PG_TEMPLATE="${REPO_ROOT}/templates/fastapi-postgres/template.yaml"
FAILED=0

ctr_() { ctr --address "${SOCK}" --namespace "${NS}" "$@"; }

cleanup() {
  local rc=$? id
  set +e
  if [[ -S "${SOCK}" ]]; then
    for id in $(ctr_ tasks list -q 2>/dev/null); do ctr_ tasks kill -s KILL "${id}" >/dev/null 2>&1; done
    sleep 0.5
    for id in $(ctr_ tasks list -q 2>/dev/null); do ctr_ tasks delete -f "${id}" >/dev/null 2>&1; done
    for id in $(ctr_ containers list -q 2>/dev/null); do ctr_ containers delete "${id}" >/dev/null 2>&1; done
  fi
  if [[ -n "${CONTAINERD_PID}" ]] && kill -0 "${CONTAINERD_PID}" 2>/dev/null; then
    kill -TERM "${CONTAINERD_PID}"
    for _ in $(seq 1 50); do kill -0 "${CONTAINERD_PID}" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "${CONTAINERD_PID}" 2>/dev/null
  fi
  [[ -n "${NETNS_PID}" ]] && kill "${NETNS_PID}" 2>/dev/null
  # cgroups runc left behind (runc removes a container's own; the parents are ours).
  find /sys/fs/cgroup/*/"${CGROUP_PARENT}" -depth -type d -exec rmdir {} + 2>/dev/null
  # Shim sockets live in /run/containerd/s/ whatever the root; ours are gone with the
  # shims. Remove the folders only if we created them and nobody uses them.
  if [[ "${RUN_CONTAINERD_EXISTED:-1}" == 0 ]]; then
    rmdir /run/containerd/fifo /run/containerd/s /run/containerd 2>/dev/null
  fi
  if grep -q "${D}" /proc/self/mountinfo; then
    log "WARNING: mounts under ${D} remain:"; grep "${D}" /proc/self/mountinfo >&2
  fi
  if [[ ${rc} -ne 0 && "${VERIFY_KEEP:-0}" == 1 ]]; then
    log "kept ${D} (VERIFY_KEEP=1)"
  else
    rm -rf "${D}"
  fi
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_containerd() {
  mkdir -p "${D}/root" "${D}/state" "${D}/cni" "${D}/runc" "${D}/fifo" "${D}/logs"
  cat > "${D}/config.toml" <<EOF
version = 2
root = "${D}/root"
state = "${D}/state"
[grpc]
  address = "${SOCK}"
[ttrpc]
  address = "${SOCK}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "${D}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  # Lowering oom_score_adj needs CAP_SYS_RESOURCE, which root lacks on this VM.
  restrict_oom_score_adj = true
  sandbox_image = "${IMAGE_PREFIX}/pause:3.10"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${D}/cni"
EOF
  if [[ -d /run/containerd ]]; then RUN_CONTAINERD_EXISTED=1; else RUN_CONTAINERD_EXISTED=0; fi
  # Private mount namespace: snapshot and rootfs mounts vanish with containerd.
  unshare --mount --propagation private containerd --config "${D}/config.toml" > "${D}/logs/containerd.log" 2>&1 &
  CONTAINERD_PID=$!
  for _ in $(seq 1 100); do
    ctr_ version >/dev/null 2>&1 && return 0
    kill -0 "${CONTAINERD_PID}" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 30 "${D}/logs/containerd.log" >&2
  die "throw-away containerd did not start (log above)"
}

# import_image <archive>: import into k8s.io and print seconds.
import_image() {
  local t
  t="$(now_ms)"
  ctr_ images import "$1" >/dev/null
  secs_since "${t}"
}

# run_bg <id> <image> [ctr run options...] -- [command...]: start detached, log to a file.
run_bg() {
  local id="$1" image="$2"
  shift 2
  local opts=() 
  while (($#)) && [[ "$1" != -- ]]; do opts+=("$1"); shift; done
  [[ "${1:-}" == -- ]] && shift
  ctr_ run -d --runc-root "${D}/runc" --fifo-dir "${D}/fifo" --cgroup "/${CGROUP_PARENT}/${id}" \
    --log-uri "file://${D}/logs/${id}.log" "${opts[@]}" "${image}" "${id}" "$@" >/dev/null
}

# run_fg <id> <image> [ctr run options...] -- [command...]: run to completion, print output.
run_fg() {
  local id="$1" image="$2"
  shift 2
  local opts=()
  while (($#)) && [[ "$1" != -- ]]; do opts+=("$1"); shift; done
  [[ "${1:-}" == -- ]] && shift
  ctr_ run --rm --runc-root "${D}/runc" --fifo-dir "${D}/fifo" --cgroup "/${CGROUP_PARENT}/${id}" \
    "${opts[@]}" "${image}" "${id}" "$@" </dev/null
}

task_status() { ctr_ tasks list 2>/dev/null | awk -v id="$1" '$1 == id { print $3 }'; }

stop_task() {
  local id="$1" sig="${2:-TERM}" i
  ctr_ tasks kill -s "${sig}" "${id}" >/dev/null 2>&1 || true
  for i in $(seq 1 150); do
    [[ "$(task_status "${id}")" == STOPPED || -z "$(task_status "${id}")" ]] && break
    sleep 0.2
  done
  ctr_ tasks delete "${id}" >/dev/null 2>&1 || ctr_ tasks delete -f "${id}" >/dev/null 2>&1 || true
  ctr_ containers delete "${id}" >/dev/null 2>&1 || true
}

# Memory of a running container: RSS of its processes (cgroup v1 memory controller).
cgroup_mem_mib() {
  local f="/sys/fs/cgroup/memory/${CGROUP_PARENT}/$1/memory.usage_in_bytes"
  [[ -r "${f}" ]] && awk '{ printf "%.1f", $1 / 1048576 }' "${f}" || printf '?'
}

free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$(( 20000 + RANDOM % 40000 ))
    (exec 3<>"/dev/tcp/127.0.0.1/${p}") 2>/dev/null || { printf '%s\n' "${p}"; return 0; }
  done
  die "no free port"
}

wait_http() {
  local url="$1" secs="$2" i
  for i in $(seq 1 $((secs * 5))); do
    python3 - "${url}" <<'PY' 2>/dev/null && return 0
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=1).read()
PY
    sleep 0.2
  done
  return 1
}

record() {
  # name build import size result
  RESULTS+=("$(printf '%-24s %-10s %-8s %-12s %s' "$@")")
}

ok() { log "PASS: $*"; }
fail() { log "FAIL: $*"; FAILED=$((FAILED + 1)); }

# build_and_import <label> <archive-printing command...>: sets ARCHIVE REF BUILD_S IMPORT_S SIZE
build_and_import() {
  local label="$1" t
  shift
  t="$(now_ms)"
  if ! ARCHIVE="$("$@")" || [[ ! -s "${ARCHIVE}" ]]; then
    fail "${label}: building the image failed"
    record "${label}" "-" "-" "-" "FAIL (build)"
    return 1
  fi
  BUILD_S="$(secs_since "${t}")"
  REF="$(tar -xOf "${ARCHIVE}" index.json | jq -r '.manifests[0].annotations["io.containerd.image.name"]')"
  IMPORT_S="$(import_image "${ARCHIVE}")"
  SIZE="$(awk -v b="$(stat -c %s "${ARCHIVE}")" 'BEGIN { printf "%.1fMiB", b / 1048576 }')"
  # Not `ctr ... | grep -q`: with pipefail, grep's early exit can fail ctr with SIGPIPE.
  if ! grep -qx "${REF}" <<<"$(ctr_ images list -q)"; then
    fail "${REF} not listed after import"
    record "${label}" "${BUILD_S}s" "-" "${SIZE}" "FAIL (import)"
    return 1
  fi
}

# --------------------------------------------------------------------------------------
v_pause() {
  build_and_import pause "${IMAGES_DIR}/build.sh" pause || return 0
  local res="FAIL"
  run_bg v-pause "${REF}"
  sleep 2
  if [[ "$(task_status v-pause)" == RUNNING ]]; then
    local t; t="$(now_ms)"
    stop_task v-pause TERM
    ok "pause stayed up 2 s, stopped on SIGTERM in $(secs_since "${t}") s ($(tr '\n' ' ' < "${D}/logs/v-pause.log"))"
    res="PASS"
  else
    fail "pause is not running: $(cat "${D}/logs/v-pause.log")"
  fi
  record pause "${BUILD_S}s" "${IMPORT_S}s" "${SIZE}" "${res} (runs until SIGTERM)"
}

v_busybox() {
  build_and_import busybox "${IMAGES_DIR}/build.sh" busybox || return 0
  local out res=FAIL
  # shellcheck disable=SC2016 # expanded by the container's shell
  out="$(run_fg v-busybox "${REF}" -- sh -c 'echo "$(id -u) $(ls /bin | wc -l) $(busybox | head -n1)"' 2>&1)" || true
  if [[ "${out}" == "0 "* ]]; then ok "busybox: ${out}"; res=PASS; else fail "busybox: ${out}"; fi
  record busybox "${BUILD_S}s" "${IMPORT_S}s" "${SIZE}" "${res} (sh -c)"
}

v_python() {
  build_and_import python "${IMAGES_DIR}/build.sh" python || return 0
  local out res=FAIL
  out="$(run_fg v-python "${REF}" -- python -c 'import sys, ssl, venv, zoneinfo; print(sys.version.split()[0], ssl.OPENSSL_VERSION, zoneinfo.ZoneInfo("Europe/Berlin"))' 2>&1)" || true
  if [[ "${out}" == 3.11* ]]; then ok "python: ${out}"; res=PASS; else fail "python: ${out}"; fi
  record python "${BUILD_S}s" "${IMPORT_S}s" "${SIZE}" "${res} (python -c)"
}

# The skeleton's Dockerfile with the static-web app, built by build-dockerfile.sh.
v_fastapi() {
  local ctx
  ctx="$(mktemp -d "${D}/fastapi-ctx.XXXXXX")"
  "${IMAGES_DIR}/example-context.sh" static-web "${ctx}"
  build_and_import fastapi "${IMAGES_DIR}/build-dockerfile.sh" "${ctx}" "${IMAGE_PREFIX}/example-static-web:0.1.0" || return 0
  local port res=FAIL body mem=""
  port="$(free_port)"
  run_bg v-fastapi "${REF}" --net-host --read-only --mount "type=tmpfs,destination=/tmp,options=mode=1777" \
    --env "PORT=${port}" --env HOST=127.0.0.1 --
  if wait_http "http://127.0.0.1:${port}/health" 60; then
    body="$(python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:${port}/health', timeout=2).read().decode())")"
    mem="$(cgroup_mem_mib v-fastapi)"
    ok "FastAPI image answers /health on 127.0.0.1:${port}: ${body} (container memory ${mem} MiB)"
    res="PASS"
  else
    fail "FastAPI image did not answer /health; log: $(tail -n 20 "${D}/logs/v-fastapi.log")"
  fi
  local uid
  uid="$(ctr_ tasks exec --fifo-dir "${D}/fifo" --exec-id uid v-fastapi id -u 2>/dev/null || true)"
  stop_task v-fastapi TERM
  record "fastapi (static-web)" "${BUILD_S}s" "${IMPORT_S}s" "${SIZE}" "${res} (/health, uid ${uid:-?}, ${mem} MiB)"
}

# Node as the official image has it: the pinned version, yarn 1 on PATH, user node 1000.
v_node() {
  build_and_import node "${IMAGES_DIR}/build.sh" node || return 0
  local out res=FAIL want
  want="$("${IMAGES_DIR}/build.sh" --ref node)"
  want="${want##*:}"
  # shellcheck disable=SC2016 # expanded by the container's shell
  # As uid 1000 (setpriv: ctr 1.6 `run` has no --user), with passwd's home for node.
  out="$(run_fg v-node "${REF}" -- setpriv --reuid=1000 --regid=1000 --clear-groups env HOME=/home/node sh -c 'echo "$(node --version) yarn $(yarn --version) $(id -un) $(getent passwd node | cut -d: -f6)"' 2>&1)" || true
  if [[ "${out}" == "v${want%%-*} yarn 1.22."*" node /home/node" ]]; then ok "node: ${out}"; res=PASS; else fail "node: ${out}"; fi
  record node "${BUILD_S}s" "${IMPORT_S}s" "${SIZE}" "${res} (node, yarn, user)"
}

# The portal as deploy/portal runs it (uid 1000 from the image, read-only root, /tmp
# writable) with its production config, but SQLite in /tmp instead of PostgreSQL and a
# free loopback port instead of 7007: readiness answers 200 and / serves the app.
v_portal() {
  build_and_import portal "${IMAGES_DIR}/build-portal.sh" || return 0
  local port res=FAIL t code index="" mem="?" uid="?"
  port="$(free_port)"
  mkdir -p "${D}/portal"
  cat > "${D}/portal/app-config.verify.yaml" <<YAML
backend:
  listen:
    port: ${port}
    host: 127.0.0.1
  database:
    client: better-sqlite3
    connection:
      directory: /tmp/portal-data
YAML
  t="$(now_ms)"
  run_bg v-portal "${REF}" --net-host --read-only --mount "type=tmpfs,destination=/tmp,options=mode=1777" \
    --mount "type=bind,src=${D}/portal,dst=/etc/portal-verify,options=rbind:ro" \
    --env "PORTAL_BASE_URL=http://127.0.0.1:${port}" --env "BACKEND_SECRET=$(head -c 24 /dev/urandom | base64)" \
    --env AUTH_GITHUB_CLIENT_ID=verify-only --env AUTH_GITHUB_CLIENT_SECRET=verify-only -- \
    node packages/backend --config app-config.yaml --config app-config.production.yaml \
    --config /etc/portal-verify/app-config.verify.yaml
  if wait_http "http://127.0.0.1:${port}/.backstage/health/v1/readiness" 180; then
    code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${port}/.backstage/health/v1/readiness")"
    index="$(curl -s "http://127.0.0.1:${port}/" | grep -o '<title>[^<]*</title>' | head -n1)"
    mem="$(cgroup_mem_mib v-portal)"
    uid="$(awk '/^Uid:/ { print $2 }' "/proc/$(ctr_ tasks list | awk '$1 == "v-portal" { print $2 }')/status" 2>/dev/null || echo '?')"
    if [[ "${code}" == 200 && -n "${index}" ]]; then
      ok "portal ready in $(secs_since "${t}") s on 127.0.0.1:${port}: readiness ${code}, / serves ${index} (uid ${uid}, ${mem} MiB)"
      res="PASS"
    else
      fail "portal: readiness ${code}, index '${index}'"
    fi
  else
    fail "portal did not become ready; log: $(tail -n 30 "${D}/logs/v-portal.log")"
  fi
  stop_task v-portal TERM
  record portal "${BUILD_S}s" "${IMPORT_S}s" "${SIZE}" "${res} (readiness, index.html, uid ${uid}, ${mem} MiB)"
}

# PostgreSQL as the template runs it: uid 999 (setpriv from root, like runAsUser), no
# capabilities, read-only root, tmpfs for /var/run/postgresql and /tmp, data on a
# host folder. Its own network namespace with 198.18.0.10 on lo: a connection to that
# address is not "local"/127.0.0.1, so it must pass scram-sha-256 with the password.
v_postgres() {
  build_and_import postgres "${IMAGES_DIR}/build.sh" postgres || return 0
  local data="${D}/pgdata" res=FAIL out t_init t_ready want version=""
  # "postgres:17.9-bookworm@sha256:..." -> 17
  want="$(sed -nE 's/^ *postgresImage: *postgres:([0-9]+)[.-].*/\1/p' "${PG_TEMPLATE}" 2>/dev/null | head -n1)"
  mkdir -p "${data}"
  chown 999:999 "${data}"
  # A network namespace held by a sleeping process and named by /proc/<pid>/ns/net:
  # `ip netns add` would bind-mount it under /run/netns, which containerd's private
  # mount namespace (made earlier) never sees.
  unshare --net sleep 3600 &
  NETNS_PID=$!
  sleep 0.2
  NETNS="/proc/${NETNS_PID}/ns/net"
  nsenter --net="${NETNS}" ip link set lo up
  nsenter --net="${NETNS}" ip addr add 198.18.0.10/32 dev lo
  local common=(--read-only --with-ns "network:${NETNS}"
    --mount "type=bind,src=${data},dst=/var/lib/postgresql/data,options=rbind:rw"
    --mount "type=tmpfs,destination=/var/run/postgresql,options=mode=1777"
    --mount "type=tmpfs,destination=/tmp,options=mode=1777"
    --env POSTGRES_USER=app --env POSTGRES_DB=app --env PGDATA=/var/lib/postgresql/data/pgdata)
  local as999=(setpriv --reuid=999 --regid=999 --clear-groups --inh-caps=-all --bounding-set=-all docker-entrypoint.sh postgres)
  local psql=(psql -h 198.18.0.10 -U app -d app -v ON_ERROR_STOP=1 -tA)

  # 1. No password: refuses to start, with the official message.
  out="$(run_fg v-pg-nopass "${REF}" "${common[@]}" -- "${as999[@]}" 2>&1)" || true
  if grep -q 'superuser password is not specified' <<<"${out}"; then ok "postgres refuses an empty POSTGRES_PASSWORD"; else fail "postgres without password: ${out}"; fi

  # The image's own socket folder (/var/run -> /run), for runs without the template's
  # volume there: owned by 999 and writable by any uid, as in the official image. Read
  # from the layers: `ctr run` mounts a tmpfs over /run (the CRI and Docker do not).
  out="$(layer_entry "${ARCHIVE}" run/postgresql)"
  if [[ "${out}" == "drwxrwsrwt 999/999" ]]; then ok "/run/postgresql in the image: ${out}"; else fail "/run/postgresql in the image: '${out}', want drwxrwsrwt 999/999"; fi

  # 2. First start: initdb, user, database, init script, then serve.
  mkdir -p "${D}/initdb"
  printf 'CREATE TABLE seeded (v text);\nINSERT INTO seeded VALUES (%s);\n' "'from-initdb.d'" > "${D}/initdb/01-seed.sql"
  t_init="$(now_ms)"
  run_bg v-pg "${REF}" "${common[@]}" --env POSTGRES_PASSWORD=s3cret-verify \
    --mount "type=bind,src=${D}/initdb,dst=/docker-entrypoint-initdb.d,options=rbind:ro" -- "${as999[@]}"
  if pg_wait v-pg 120; then
    t_ready="$(secs_since "${t_init}")"
    out="$(pg_sql v-pg-c1 s3cret-verify "${psql[@]}" -c "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('survives-restart'); SELECT current_user, current_database(), (SELECT v FROM seeded);" 2>&1)" || true
    if [[ "${out}" == *"app|app|from-initdb.d"* ]]; then ok "postgres initialised in ${t_ready} s; psql with the password over 198.18.0.10: ${out//$'\n'/ }"; else fail "psql: ${out}"; fi
    # The major version the template pins: a substitute with another major is no equivalent.
    out="$(pg_sql v-pg-c4 s3cret-verify "${psql[@]}" -c 'SHOW server_version' 2>&1)" || true
    version="${out%% *}"
    if [[ -n "${want}" && "${out}" == "${want}."* ]]; then ok "server version ${out} (the template pins postgres ${want})"; else fail "server version '${out}', the template pins postgres '${want:-?}' (${PG_TEMPLATE#"${REPO_ROOT}/"})"; fi
    out="$(pg_sql v-pg-c2 wrong-password "${psql[@]}" -c 'SELECT 1' 2>&1)" || true
    if grep -q 'password authentication failed' <<<"${out}"; then ok "a wrong password is rejected"; else fail "wrong password not rejected: ${out}"; fi
    # shellcheck disable=SC2016 # the template's probe, expanded in the container
    out="$(ctr_ tasks exec --fifo-dir "${D}/fifo" --exec-id probe v-pg sh -c 'pg_isready -h 127.0.0.1 -p 5432 -U "$POSTGRES_USER" -d "$POSTGRES_DB"' 2>&1)" || true
    if [[ "${out}" == *"accepting connections"* ]]; then ok "template probe command: ${out}"; else fail "probe: ${out}"; fi
    PG_MEM="$(cgroup_mem_mib v-pg)"
  else
    fail "postgres did not become ready; log: $(tail -n 30 "${D}/logs/v-pg.log")"
  fi
  # Kubernetes' stop: SIGTERM -> fast shutdown.
  local t_stop; t_stop="$(now_ms)"
  stop_task v-pg TERM
  local stop_s; stop_s="$(secs_since "${t_stop}")"
  if grep -q 'fast shutdown request' "${D}/logs/v-pg.log" && grep -q 'database system is shut down' "${D}/logs/v-pg.log"; then
    ok "SIGTERM -> fast shutdown in ${stop_s} s"
  else
    fail "no fast shutdown on SIGTERM: $(tail -n 10 "${D}/logs/v-pg.log")"
  fi

  # 3. Restart on the same data: no initdb, data kept, password still required.
  run_bg v-pg2 "${REF}" "${common[@]}" --env POSTGRES_PASSWORD=ignored-now -- "${as999[@]}"
  if pg_wait v-pg2 60; then
    out="$(pg_sql v-pg-c3 s3cret-verify "${psql[@]}" -c 'SELECT v FROM kept' 2>&1)" || true
    if [[ "${out}" == survives-restart ]] && grep -q 'Skipping initialization' "${D}/logs/v-pg2.log"; then
      ok "restart kept the data (${out})"; res=PASS
    else
      fail "after restart: ${out}"
    fi
  else
    fail "postgres restart failed; log: $(tail -n 30 "${D}/logs/v-pg2.log")"
  fi
  stop_task v-pg2 TERM

  # 4. The other two ways to start it: as root (the image's default user, as in the
  # official image: it fixes ownership and drops to uid 999) and as an arbitrary uid
  # without a passwd entry (nss_wrapper gives initdb a user name).
  local mode uid dir
  for mode in root 12345; do
    dir="${D}/pgdata-${mode}"
    mkdir -p "${dir}"
    local cmd=(docker-entrypoint.sh postgres)
    if [[ "${mode}" != root ]]; then
      chown "${mode}:${mode}" "${dir}"
      cmd=(setpriv --reuid="${mode}" --regid="${mode}" --clear-groups --inh-caps=-all --bounding-set=-all docker-entrypoint.sh postgres)
    fi
    run_bg "v-pg-${mode}" "${REF}" --read-only --with-ns "network:${NETNS}" \
      --mount "type=bind,src=${dir},dst=/var/lib/postgresql/data,options=rbind:rw" \
      --mount "type=tmpfs,destination=/var/run/postgresql,options=mode=1777" \
      --mount "type=tmpfs,destination=/tmp,options=mode=1777" \
      --env POSTGRES_PASSWORD=x --env PGDATA=/var/lib/postgresql/data/pgdata --env PGPORT=5433 -- "${cmd[@]}"
    uid=""
    for _ in $(seq 1 60); do
      # Ready after the init: the final server's "ready" line follows "init process complete".
      if sed -n '/PostgreSQL init process complete/,$p' "${D}/logs/v-pg-${mode}.log" 2>/dev/null \
           | grep -q 'database system is ready to accept connections'; then
        uid="$(stat -c %u "${dir}/pgdata/PG_VERSION")"
        break
      fi
      sleep 0.5
    done
    if [[ -n "${uid}" && ( ( "${mode}" == root && "${uid}" == 999 ) || "${uid}" == "${mode}" ) ]]; then
      ok "started as ${mode}: initialised, data owned by uid ${uid}"
    else
      fail "started as ${mode}: $(tail -n 15 "${D}/logs/v-pg-${mode}.log")"
    fi
    stop_task "v-pg-${mode}" TERM
  done
  [[ ${FAILED} -eq 0 ]] || res=FAIL
  record postgres "${BUILD_S}s" "${IMPORT_S}s" "${SIZE}" "${res} (${version:-?}, init ${t_ready:-?}s, ${PG_MEM:-?} MiB, stop ${stop_s}s)"
}

# layer_entry <archive> <path>: "<mode> <uid>/<gid>" of a path (no leading or trailing
# slash) in the last of the image's layers that has it.
layer_entry() {
  local manifest layer line="" l
  manifest="$(tar -xOf "$1" index.json | jq -r '.manifests[0].digest')"
  while read -r layer; do
    l="$(tar -xOf "$1" "blobs/sha256/${layer#sha256:}" | tar -tvz --numeric-owner \
      | awk -v p="$2" '{ n = $6; sub(/^\.\//, "", n); sub(/\/$/, "", n) } n == p { print $1, $2 }')"
    [[ -n "${l}" ]] && line="${l}"
  done < <(tar -xOf "$1" "blobs/sha256/${manifest#sha256:}" | jq -r '.layers[].digest')
  printf '%s\n' "${line}"
}

pg_wait() {
  local id="$1" secs="$2" i
  for i in $(seq 1 $((secs * 2))); do
    [[ "$(task_status "${id}")" == RUNNING ]] || return 1
    if grep -q 'PostgreSQL init process complete\|Skipping initialization' "${D}/logs/${id}.log" 2>/dev/null \
       && ctr_ tasks exec --fifo-dir "${D}/fifo" --exec-id "ready${i}" "${id}" pg_isready -q -h 198.18.0.10 -p 5432 2>/dev/null; then
      return 0
    fi
    sleep 0.5
  done
  return 1
}

# pg_sql <id> <password> psql...: a client container in the server's network namespace.
pg_sql() {
  local id="$1" pw="$2"
  shift 2
  run_fg "${id}" "${REF}" --with-ns "network:${NETNS}" --env "PGPASSWORD=${pw}" -- \
    setpriv --reuid=999 --regid=999 --clear-groups "$@"
}

# --------------------------------------------------------------------------------------
# Add-on images: the binary starts as the image's user and does the first thing it must.
v_coredns() {
  build_and_import coredns "${PLATFORM_DIR}/coredns/build.sh" || return 0
  local res=FAIL out
  mkdir -p "${D}/coredns"
  printf '.:53 {\n  errors\n  health :8080\n  ready :8181\n  template IN A example.test {\n    answer "{{ .Name }} 5 IN A 198.18.0.53"\n  }\n}\n' > "${D}/coredns/Corefile"
  # As the manifests run it: non-root (image user), every capability dropped except
  # NET_BIND_SERVICE, no new privileges: binding :53 needs the file capability.
  local drop=() c
  # containerd's default set minus NET_BIND_SERVICE (ctr has no "ALL").
  for c in CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP SETPCAP SYS_CHROOT KILL AUDIT_WRITE; do
    drop+=(--cap-drop "CAP_${c}")
  done
  run_bg v-coredns "${REF}" --read-only "${drop[@]}" \
    --mount "type=bind,src=${D}/coredns,dst=/etc/coredns,options=rbind:ro" -- /coredns -conf /etc/coredns/Corefile
  sleep 2
  out="$(tail -n 5 "${D}/logs/v-coredns.log" | tr '\n' ' ')"
  if [[ "$(task_status v-coredns)" == RUNNING ]] && grep -q 'CoreDNS-' "${D}/logs/v-coredns.log"; then
    local uid; uid="$(awk '/^Uid:/ { print $2 }' "/proc/$(ctr_ tasks list | awk '$1 == "v-coredns" { print $2 }')/status" 2>/dev/null || echo '?')"
    ok "coredns runs as uid ${uid} and listens on :53 in its own network namespace (${out})"
    res="PASS (uid ${uid}, :53, $(cgroup_mem_mib v-coredns) MiB)"
  else
    fail "coredns: ${out}"
  fi
  stop_task v-coredns TERM
  record coredns "${BUILD_S}s" "${IMPORT_S}s" "${SIZE}" "${res}"
}

v_metrics_server() {
  build_and_import metrics-server "${PLATFORM_DIR}/metrics-server/build.sh" || return 0
  local out res=FAIL
  out="$(run_fg v-ms "${REF}" --read-only -- /metrics-server --version 2>&1)" || true
  if [[ "${out}" == v0.* ]]; then ok "metrics-server --version: ${out}"; res=PASS; else fail "metrics-server: ${out}"; fi
  record metrics-server "${BUILD_S}s" "${IMPORT_S}s" "${SIZE}" "${res} (--version)"
}

v_local_path_provisioner() {
  build_and_import local-path-provisioner "${PLATFORM_DIR}/local-path-provisioner/build.sh" || return 0
  local out res=FAIL
  out="$(run_fg v-lpp "${REF}" --read-only -- local-path-provisioner --version 2>&1)" || true
  if [[ "${out}" == *v0.0.* ]]; then ok "local-path-provisioner --version: ${out}"; res=PASS; else fail "local-path-provisioner: ${out}"; fi
  record local-path-provisioner "${BUILD_S}s" "${IMPORT_S}s" "${SIZE}" "${res} (--version)"
}

main() {
  local targets=("$@") t
  [[ ${#targets[@]} -gt 0 ]] || targets=("${ALL[@]}")
  for t in "${targets[@]}"; do
    [[ " ${ALL[*]} ${ON_REQUEST[*]} " == *" ${t} "* ]] || die "unknown image '${t}': one of ${ALL[*]} ${ON_REQUEST[*]}"
  done
  start_containerd
  # The sandbox image first: every other check may need it.
  if [[ " ${targets[*]} " != *" pause "* ]]; then
    ARCHIVE="$("${IMAGES_DIR}/build.sh" pause)" && ctr_ images import "${ARCHIVE}" >/dev/null
  fi
  for t in "${targets[@]}"; do
    log "---- ${t}"
    "v_${t//-/_}"
  done
  printf '%-24s %-10s %-8s %-12s %s\n' IMAGE BUILD IMPORT ARCHIVE RESULT
  printf '%s\n' "${RESULTS[@]}"
  printf 'containerd RSS at the end: %s MiB\n' "$(awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/${CONTAINERD_PID}/status" 2>/dev/null || echo '?')"
  printf 'images-verify: %d passed, %d failed\n' "$(printf '%s\n' "${RESULTS[@]}" | grep -c ' PASS' || true)" "$(printf '%s\n' "${RESULTS[@]}" | grep -c ' FAIL' || true)"
  [[ ${FAILED} -eq 0 ]]
}

main "$@"
