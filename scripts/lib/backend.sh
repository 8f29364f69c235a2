# shellcheck shell=bash
# Runs the portal backend in the background for tests and waits until it is ready.
#   start_backend LOGFILE [--config FILE ...]  -> sets BACKEND_PID (dev mode, from source)
#   build_backend_bundle DIR                   -> the production bundle, unpacked in DIR
#                                                 (BACKEND_SKIP_BUILD=1: the last build's)
#   start_bundled_backend LOGFILE DIR [--config FILE ...]  -> sets BACKEND_PID
#   start_backend_in_mode MODE LOGFILE WORKDIR [--config FILE ...]
#                          MODE production (the bundle, built in WORKDIR) or dev
#   stop_backend                               -> BACKEND_STOP_SECONDS, BACKEND_STOP_KILLED
#   stop_backend_group PGID NAME               the same for another backend's process group
#   use_free_backend_port DIR                  -> a free BACKEND_PORT (exported) and
#                                                 BACKEND_PORT_CONFIG, a config listening there
# BACKEND_PORT (7007): where it is awaited; a config given to start_backend must
# listen there when it is not 7007.

# A port of its own, so that a portal on 7007 (another stage, make start) is not
# disturbed: writes DIR/app-config.port.yaml for start_backend's --config.
use_free_backend_port() {
  local dir="$1"
  BACKEND_PORT="$(free_port)"
  export BACKEND_PORT
  BACKEND_PORT_CONFIG="$dir/app-config.port.yaml"
  cat >"$BACKEND_PORT_CONFIG" <<YAML
backend:
  baseUrl: http://127.0.0.1:$BACKEND_PORT
  listen: { port: $BACKEND_PORT, host: 127.0.0.1 }
YAML
}

# Runs COMMAND in a session of its own (its process group is what stop_backend signals).
# In make test's host lane (HOST_LANE_NICE set) the new session's autogroup gets the
# lane's nice: with sched_autogroup a session of its own would otherwise take an equal
# share of the CPU beside the main lane's stages (see scripts/lib/host-lane.sh).
exec_in_own_session() {
  # shellcheck disable=SC2016 # expanded by the inner shell
  exec setsid bash -c '
    if [ -n "${HOST_LANE_NICE:-}" ] && [ -w /proc/self/autogroup ]; then
      echo "$HOST_LANE_NICE" >/proc/self/autogroup || true
    fi
    exec "$@"' backend-session "$@"
}

start_backend() {
  local logfile="$1"; shift
  (cd "$REPO_ROOT/packages/backend" && exec_in_own_session yarn backstage-cli package start "$@") >"$logfile" 2>&1 &
  BACKEND_PID=$!
  await_backend "$logfile"
}

# The backend as the image runs it (packages/backend/Dockerfile): `yarn build`'s bundle,
# unpacked, run by node with NODE_ENV=production (JSON logs, no transpiling loaders).
# Third-party packages come from the repo's node_modules (the image installs the same
# lockfile); the workspace packages are the bundle's built ones.
# BACKEND_SKIP_BUILD=1 reuses packages/backend/dist/bundle.tar.gz as it is.
build_backend_bundle() {
  local dir="$1" entry
  if [ "${BACKEND_SKIP_BUILD:-}" != 1 ]; then
    yarn --cwd "$REPO_ROOT/packages/backend" build >"$dir.build.log" 2>&1 \
      || { tail -n 40 "$dir.build.log"; die "the backend bundle did not build (log: $dir.build.log)"; }
  fi
  rm -rf "$dir"
  mkdir -p "$dir/node_modules"
  tar -xzf "$REPO_ROOT/packages/backend/dist/bundle.tar.gz" -C "$dir"
  for entry in "$REPO_ROOT"/node_modules/* "$REPO_ROOT"/node_modules/.bin; do
    ln -s "$entry" "$dir/node_modules/$(basename "$entry")"
  done
  # Workspace packages: the bundle's copies (dist/, publishConfig applied), not the
  # sources. Their scopes become real folders first, so that no link into the repo's
  # node_modules is replaced.
  local pkg name scope
  for pkg in "$dir"/packages/*/package.json "$dir"/plugins/*/package.json; do
    name="$(node -p "require('$pkg').name")"
    scope="$(dirname "$name")"
    if [ "$scope" != . ] && [ -L "$dir/node_modules/$scope" ]; then
      rm "$dir/node_modules/$scope"
      mkdir "$dir/node_modules/$scope"
      for entry in "$REPO_ROOT/node_modules/$scope"/*; do
        ln -s "$entry" "$dir/node_modules/$scope/$(basename "$entry")"
      done
    fi
    ln -sfn "$(dirname "$pkg")" "$dir/node_modules/$name"
  done
}

start_bundled_backend() {
  local logfile="$1" dir="$2"; shift 2
  # The working directory of `start_backend`, so relative paths in app-config.yaml hold;
  # the image's NODE_OPTIONS, plus BACKEND_NODE_OPTIONS (e.g. --cpu-prof).
  (cd "$REPO_ROOT/packages/backend" &&
    NODE_ENV=production NODE_OPTIONS="--no-node-snapshot ${BACKEND_NODE_OPTIONS:-}" \
      exec_in_own_session node "$dir/packages/backend" "$@") >"$logfile" 2>&1 &
  BACKEND_PID=$!
  await_backend "$logfile"
}

# Either way of running the backend, for benchmarks: "production" (what users run) or
# "dev". Production mode allows the guest sign-in the benchmarks use, which Backstage
# refuses under NODE_ENV=production unless told.
start_backend_in_mode() {
  local mode="$1" logfile="$2" workdir="$3"; shift 3
  case "$mode" in
    dev) start_backend "$logfile" "$@" ;;
    production)
      log "building the backend bundle (yarn --cwd packages/backend build)"
      build_backend_bundle "$workdir/bundle"
      cat >"$workdir/app-config.guest.yaml" <<'YAML'
auth:
  providers:
    guest:
      dangerouslyAllowOutsideDevelopment: true
YAML
      start_bundled_backend "$logfile" "$workdir/bundle" "$@" --config "$workdir/app-config.guest.yaml"
      ;;
    *) die "unknown backend mode '$mode' (production, dev)" ;;
  esac
}

await_backend() {
  local logfile="$1"
  local waited=0
  until curl -sf "http://127.0.0.1:${BACKEND_PORT:-7007}/.backstage/health/v1/readiness" >/dev/null; do
    if ! kill -0 "$BACKEND_PID" 2>/dev/null; then
      tail -n 40 "$logfile"; die "the backend exited during start-up (log: $logfile)"
    fi
    [ $waited -ge 240 ] && { tail -n 40 "$logfile"; die "the backend was not ready after ${waited}s"; }
    sleep 1; waited=$((waited + 1))
  done
  log "backend ready after ${waited}s"
}

# TERM, then KILL if the backend still runs 30 s later, as Kubernetes does at the end of
# deploy/portal's grace period. Sets BACKEND_STOP_SECONDS and BACKEND_STOP_KILLED (1: it
# needed the KILL).
stop_backend() {
  [ -n "${BACKEND_PID:-}" ] || return 0
  stop_backend_group "$BACKEND_PID" backend
  BACKEND_PID=
}

# stop_backend_group PGID NAME: stop_backend for any backend started with setsid (its
# process group id is the pid `$!` gave), logged as NAME. It waits for the whole group,
# not only its leader: in dev mode yarn exits about 0.1 s after TERM while the backend it
# started runs on. BACKEND_STOP_TIMEOUT (30) is the seconds between TERM and KILL.
stop_backend_group() {
  local pgid="$1" name="$2" start_ms polls
  start_ms=$(date +%s%3N)
  polls=$((${BACKEND_STOP_TIMEOUT:-30} * 5))
  BACKEND_STOP_KILLED=0
  kill -TERM -- "-$pgid" 2>/dev/null || kill -TERM "$pgid" 2>/dev/null || true
  for _ in $(seq 1 "$polls"); do group_running "$pgid" || break; sleep 0.2; done
  if group_running "$pgid"; then BACKEND_STOP_KILLED=1; fi
  kill -KILL -- "-$pgid" 2>/dev/null || true
  BACKEND_STOP_SECONDS="$(awk -v ms=$(($(date +%s%3N) - start_ms)) 'BEGIN { printf "%.1f", ms / 1000 }')"
  if [ "$BACKEND_STOP_KILLED" = 1 ]; then
    log "the $name still ran ${BACKEND_STOP_TIMEOUT:-30} s after SIGTERM: killed"
  else
    log "$name stopped ${BACKEND_STOP_SECONDS} s after SIGTERM"
  fi
}

# Whether any process of the group (or its leader) still runs.
group_running() {
  kill -0 -- "-$1" 2>/dev/null || kill -0 "$1" 2>/dev/null
}

# Throw-away SQLite and TechDocs directories for a test backend, under DIR.
#   use_scratch_data DIR
use_scratch_data() {
  export PORTAL_SQLITE_DIR="$1/db" PORTAL_TECHDOCS_DIR="$1/techdocs"
  mkdir -p "$PORTAL_SQLITE_DIR" "$PORTAL_TECHDOCS_DIR"
}

# The demo workload (deploy/demo) on the cluster in KUBECONFIG, or on the local control
# plane, which demo.sh starts when it is not running (then CLUSTER_STARTED=1: the caller
# stops it). Exports the portal's K8S_CLUSTER_* settings for app-config.cluster.yaml.
demo_cluster_up() {
  if [ -z "${KUBECONFIG:-}" ] && ! bash "$REPO_ROOT/platform/cluster.sh" status >/dev/null 2>&1; then
    # shellcheck disable=SC2034  # read by the caller (test-e2e.sh's EXIT trap)
    CLUSTER_STARTED=1
  fi
  bash "$REPO_ROOT/platform/demo.sh" up || return 1
  # shellcheck disable=SC1091
  source "${PLATFORM_STATE:-/tmp/golden-path-platform}/portal.env"
}
