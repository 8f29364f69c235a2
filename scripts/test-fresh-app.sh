#!/usr/bin/env bash
# The proof that the published packages install into any Backstage app (issue 17, item 1):
# packs the four packages with `yarn pack`, creates an app with @backstage/create-app,
# installs the tarballs there by running the install steps of the packages' READMEs (the
# code blocks marked `<!-- fresh-app-test: ID -->`), starts the app on a free port and
# has a browser open the Rollouts tab of an entity with `backstage.io/kubernetes-id`.
# No file of this repository is copied into the app.
#
# With KUBECONFIG the app reads that cluster with the identity the backend README's RBAC
# block creates (its objects are removed afterwards) and the tab must show the cluster as
# connected; without it the tab must show the plugin's "No cluster configured" state.
#
#   scripts/test-fresh-app.sh                   # FRESH_APP_KEEP=1 keeps the app's folder
# Caches (never required): ~/.cache/golden-path-portal/fresh-app/create-app-<version>/
# holds the app's resolved yarn.lock and its last built frontend; Yarn's global cache
# holds the packages.
set -euo pipefail
source "$(dirname "$0")/lib/toolchain.sh"
# shellcheck source=scripts/lib/backend.sh
source "$(dirname "$0")/lib/backend.sh"
ensure_toolchain
ensure_apt_packages chromium

CREATE_APP_VERSION="${FRESH_APP_CREATE_APP_VERSION:-0.9.2}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/golden-path-portal/fresh-app/create-app-$CREATE_APP_VERSION"
ARTIFACTS="$REPO_ROOT/artifacts/fresh-app"
# The published packages: folder under plugins/ and README with the install steps.
PACKAGES=(rollouts-common rollouts rollouts-backend scaffolder-backend-module-golden-path)
ENTITY=fresh-app-demo
CLUSTER_NAME=fresh-app-cluster

WORK="$(mktemp -d /tmp/golden-path-fresh-app.XXXXXX)"
APP="$WORK/app"
BACKEND_PID=""
CREATED_RBAC=""
CREATED_NAMESPACE=""
INSTALLED=""
cleanup() {
  local rc=$?
  [ -z "$BACKEND_PID" ] || stop_backend_group "$BACKEND_PID" "fresh app's backend"
  [ -z "$CREATED_RBAC" ] || kubectl delete -f "$CREATED_RBAC" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  [ -z "$CREATED_NAMESPACE" ] || kubectl delete namespace "$CREATED_NAMESPACE" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  [ -z "$INSTALLED" ] || [ -n "${FRESH_APP_KEEP:-}" ] || keep_installation
  if [ -n "${FRESH_APP_KEEP:-}" ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

TIMINGS=()
timed() { # timed NAME COMMAND...: runs it, records its time
  local name="$1" start=$SECONDS; shift
  "$@"
  TIMINGS+=("$name $((SECONDS - start))s")
  log "$name done in $((SECONDS - start))s"
}

# The code block after `<!-- fresh-app-test: ID -->` in README FILE, as a user copies it.
readme_block() {
  local file="$1" id="$2" block
  # The block may sit in a list item: its fence's indentation is taken off every line.
  block="$(awk -v id="$id" '
    !found && $0 ~ ("^ *<!-- fresh-app-test: " id " -->$") { found = 1; next }
    found && /^ *```/ { if (inside) exit; inside = 1; match($0, /^ */); indent = RLENGTH; next }
    inside { print substr($0, indent + 1) }
  ' "$file")"
  [ -n "$block" ] || die "$file has no code block marked <!-- fresh-app-test: $id -->"
  printf '%s\n' "$block"
}

# 1. The tarballs, as `npm publish` would upload them.
pack_packages() {
  mkdir -p "$WORK/packs"
  local p name key typed=""
  for p in "${PACKAGES[@]}"; do
    name="$(node -p "require('./plugins/$p/package.json').name")"
    if key="$(package_key "$p")" && [ -f "$CACHE/packs/$p@$key.tgz" ]; then
      log "reusing the tarball of $name ($key): its sources did not change"
      cp "$CACHE/packs/$p@$key.tgz" "$WORK/packs/$p.tgz"
      continue
    fi
    # The build bundles the declarations tsc writes to dist-types/.
    if [ -z "$typed" ]; then
      yarn tsc >"$WORK/tsc.log" 2>&1 || { tail -n 30 "$WORK/tsc.log"; die "yarn tsc failed"; }
      typed=1
    fi
    (cd "plugins/$p" && yarn build) >"$WORK/build-$p.log" 2>&1 \
      || { tail -n 30 "$WORK/build-$p.log"; die "building $name failed"; }
    yarn workspace "$name" pack --out "$WORK/packs/$p.tgz" >"$WORK/pack-$p.log" 2>&1 \
      || { tail -n 30 "$WORK/pack-$p.log"; die "yarn pack of $name failed"; }
    [ -n "$key" ] || continue
    mkdir -p "$CACHE/packs"
    rm -f "$CACHE/packs/$p@"*.tgz
    cp "$WORK/packs/$p.tgz" "$CACHE/packs/$p@$key.tgz"
  done
  # What a registry would serve: built entry points, real version ranges.
  node "$REPO_ROOT/tests/fresh-app/check-tarballs.js" "$WORK/packs"/*.tgz
}

# What a package's tarball is made of: its files as they are in the working tree (tracked
# and new; not dist/), the lockfile and the root build settings. Fails without git: then
# the package is always built.
package_key() {
  git rev-parse --is-inside-work-tree >/dev/null 2>&1 || return 1
  local inputs=("plugins/$1" yarn.lock package.json tsconfig.json ':!**/dist/**')
  {
    node --version
    { git ls-files -z -- "${inputs[@]}"; git ls-files -z --others --exclude-standard -- "${inputs[@]}"; } \
      | xargs -0 -r sha256sum
  } | sha256sum | cut -c1-16
}

# 2. A new app, exactly as `npx @backstage/create-app` makes one.
create_app() {
  (cd "$WORK" && BACKSTAGE_APP_NAME=fresh-app npx --yes "@backstage/create-app@$CREATE_APP_VERSION" \
    --skip-install --path app) >"$WORK/create-app.log" 2>&1 \
    || { tail -n 30 "$WORK/create-app.log"; die "@backstage/create-app@$CREATE_APP_VERSION failed"; }
}

# 3. The READMEs' install steps, then one install.
install_packages() {
  cd "$APP"
  # The tarballs stand in for the registry: the README's package names are given
  # the tarball's path, and the family's own dependencies on each other resolve to them.
  # better-sqlite3 13 (prebuilt for Node 24; 12.x crashed it, see
  # ../shared/notes/toolchain.md) is the test machine's concern, not the plugin's.
  node -e '
    const fs = require("fs"); const [, packs, ...dirs] = process.argv;
    const p = JSON.parse(fs.readFileSync("package.json", "utf8"));
    p.resolutions = { ...p.resolutions, "better-sqlite3": "^13.2.0" };
    for (const d of dirs) {
      const name = JSON.parse(fs.readFileSync(`${process.env.REPO_ROOT}/plugins/${d}/package.json`, "utf8")).name;
      p.resolutions[name] = `file:${packs}/${d}.tgz`;
    }
    fs.writeFileSync("package.json", JSON.stringify(p, null, 2) + "\n");
  ' "$WORK/packs" "${PACKAGES[@]}"
  # create-app's yarn.lock seed comes from the internet; without it the caret ranges mix
  # releases (signals-backend against an older backend-defaults fails to start). One
  # coherent latest set, as ../shared/notes/toolchain.md says; the last run's lockfile
  # only seeds it (fewer registry look-ups).
  if [ -f "$CACHE/yarn.lock" ]; then cp "$CACHE/yarn.lock" yarn.lock; fi
  yarn up '@backstage/*' --mode=update-lockfile >"$WORK/yarn-up.log" 2>&1 \
    || { tail -n 30 "$WORK/yarn-up.log"; die "yarn up '@backstage/*' failed"; }
  local readme cmd
  for readme in plugins/rollouts/README.md plugins/rollouts-backend/README.md \
    plugins/scaffolder-backend-module-golden-path/README.md; do
    cmd="$(with_tarballs "$(readme_block "$REPO_ROOT/$readme" install)")"
    log "$readme: $cmd"
    # Resolution only: the one install below fetches and links everything.
    eval "$cmd --mode=update-lockfile" >"$WORK/yarn-add.log" 2>&1 \
      || { tail -n 30 "$WORK/yarn-add.log"; die "the install command of $readme failed"; }
  done
  add_backend_features plugins/rollouts-backend/README.md plugins/scaffolder-backend-module-golden-path/README.md
  use_readme_permission_policy plugins/rollouts-backend/README.md
  # The last run's installation, if any: yarn install then only changes what differs
  # (the tarballs, a newer lockfile) instead of linking ~2,700 packages and compiling
  # native modules again. FRESH_APP_COLD=1 installs from nothing.
  if [ -z "${FRESH_APP_COLD:-}" ] && [ -d "$CACHE/installation/node_modules" ]; then
    log "starting from the last run's node_modules ($CACHE/installation)"
    restore_installation
  fi
  INSTALLED=1
  yarn install >"$WORK/yarn-install.log" 2>&1 \
    || { tail -n 40 "$WORK/yarn-install.log"; die "yarn install in the fresh app failed (log kept with FRESH_APP_KEEP=1)"; }
  mkdir -p "$CACHE"
  cp yarn.lock "$CACHE/yarn.lock.tmp" && mv "$CACHE/yarn.lock.tmp" "$CACHE/yarn.lock"
  cd "$REPO_ROOT"
}

# Where yarn keeps what it installed: node_modules (root and workspaces) and its state.
INSTALLATION=(node_modules packages/app/node_modules packages/backend/node_modules .yarn/install-state.gz)
restore_installation() {
  local item
  for item in "${INSTALLATION[@]}"; do
    [ -e "$CACHE/installation/$item" ] || continue
    rm -rf "${APP:?}/$item"
    mkdir -p "$(dirname "$APP/$item")"
    mv "$CACHE/installation/$item" "$APP/$item"
  done
}
# Moves (same file system: instant) the installation into the cache, for the next run.
keep_installation() {
  local item
  rm -rf "$CACHE/installation"
  for item in "${INSTALLATION[@]}"; do
    [ -e "$APP/$item" ] || continue
    mkdir -p "$(dirname "$CACHE/installation/$item")"
    mv "$APP/$item" "$CACHE/installation/$item"
  done
}

# Every @golden-path/<package> of a README command, pointed at its tarball.
with_tarballs() {
  local cmd="$1" p name
  for p in "${PACKAGES[@]}"; do
    name="$(node -p "require('$REPO_ROOT/plugins/$p/package.json').name")"
    cmd="$(sed -E "s#(^| )$name( |\$)#\\1$name@file:$WORK/packs/$p.tgz\\2#g" <<<"$cmd")"
  done
  printf '%s' "$cmd"
}

# The READMEs' `backend.add(...)` lines, where create-app's backend adds its plugins.
add_backend_features() {
  local index="$APP/packages/backend/src/index.ts" readme lines=""
  for readme in "$@"; do lines+="$(readme_block "$REPO_ROOT/$readme" backend-add)"$'\n'; done
  grep -q '^backend.start();$' "$index" || die "create-app's backend has no 'backend.start();' line to add the plugins before"
  BACKEND_LINES="$lines" node -e '
    const fs = require("fs"); const f = process.argv[1];
    fs.writeFileSync(f, fs.readFileSync(f, "utf8").replace(/^backend\.start\(\);$/m, process.env.BACKEND_LINES + "\nbackend.start();"));
  ' "$index"
}

# The README's permission policy in place of create-app's allow-all one.
use_readme_permission_policy() {
  local readme="$REPO_ROOT/$1" index="$APP/packages/backend/src/index.ts" cmd
  cmd="$(readme_block "$readme" policy-install)"
  log "$1: $cmd"
  eval "$cmd --mode=update-lockfile" >"$WORK/yarn-add.log" 2>&1 \
    || { tail -n 30 "$WORK/yarn-add.log"; die "the permission packages' install command of $1 failed"; }
  readme_block "$readme" policy-module >"$APP/packages/backend/src/permissionPolicy.ts"
  POLICY_LINE="$(readme_block "$readme" policy-add)" node -e '
    const fs = require("fs"); const f = process.argv[1]; const before = fs.readFileSync(f, "utf8");
    const after = before.replace(/backend\.add\(\s*import\(.@backstage\/plugin-permission-backend-module-allow-all-policy.\),?\s*\);/, process.env.POLICY_LINE);
    if (after === before) { console.error("create-app'"'"'s backend does not add the allow-all policy any more"); process.exit(1); }
    fs.writeFileSync(f, after);
  ' "$index" || die "could not replace the allow-all policy in $index"
}

# 4. The frontend bundle the backend serves, reused when nothing it is built from changed.
build_app() {
  local key dist="$APP/packages/app/dist"
  # The lockfile names the tarballs by this run's temporary path: left out of the key.
  key="$( { sed "s#$WORK#WORK#g" "$APP/yarn.lock" "$APP/packages/app/package.json"; find "$APP/packages/app/src" -type f -print0 | sort -z | xargs -0 cat
    for p in "${PACKAGES[@]}"; do tar -xOzf "$WORK/packs/$p.tgz"; done; } | sha256sum | cut -c1-16)"
  if [ -f "$CACHE/app-dist/$key/index.html" ]; then
    log "reusing the app bundle $key"
    cp -a "$CACHE/app-dist/$key" "$dist"
    return 0
  fi
  (cd "$APP" && yarn workspace app build) >"$WORK/app-build.log" 2>&1 \
    || { tail -n 40 "$WORK/app-build.log"; die "building the fresh app's frontend failed"; }
  rm -rf "$CACHE/app-dist"
  mkdir -p "$CACHE/app-dist"
  cp -a "$dist" "$CACHE/app-dist/$key.tmp" && mv "$CACHE/app-dist/$key.tmp" "$CACHE/app-dist/$key"
}

# The cluster in KUBECONFIG, read with the identity of the backend README's RBAC block.
# Prints the app-config lines of the Kubernetes plugin's cluster.
connect_cluster() {
  local rbac="$WORK/rbac.yaml" namespace server ca token tls existing
  readme_block "$REPO_ROOT/plugins/rollouts-backend/README.md" rbac >"$rbac"
  existing="$(kubectl get -f "$rbac" -o name --ignore-not-found)" \
    || die "kubectl cannot read the cluster in KUBECONFIG ($KUBECONFIG)"
  [ -z "$existing" ] || die "the cluster already has objects of the README's RBAC block ($(tr '\n' ' ' <<<"$existing")): this test creates and deletes them, so it does not run there"
  namespace="$(sed -nE 's/^ *namespace: *([a-z0-9-]+) *$/\1/p' "$rbac" | head -n 1)"
  if ! kubectl get namespace "$namespace" >/dev/null 2>&1; then
    kubectl create namespace "$namespace" >/dev/null
    CREATED_NAMESPACE="$namespace"
  fi
  CREATED_RBAC="$rbac"
  kubectl apply -f "$rbac" >/dev/null
  local account
  account="$(awk '/^kind: ServiceAccount/ { sa = 1 } sa && /^  name:/ { print $2; exit }' "$rbac")"
  token="$(kubectl -n "$namespace" create token "$account" --duration=1h)"
  server="$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')"
  ca="$(kubectl config view --minify --flatten -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')"
  if [ -n "$ca" ]; then tls="caData: $ca"; else tls="skipTLSVerify: true"; fi
  cat <<YAML
kubernetes:
  serviceLocatorMethod:
    type: multiTenant
  clusterLocatorMethods:
    - type: config
      clusters:
        - name: $CLUSTER_NAME
          url: $server
          authProvider: serviceAccount
          serviceAccountToken: $token
          $tls
YAML
}

# 5. The backend, serving the built app, on a port nobody else uses.
start_app() {
  PORT="$(free_port)"
  cat >"$WORK/catalog.yaml" <<YAML
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: $ENTITY
  annotations:
    backstage.io/kubernetes-id: ${FRESH_APP_KUBERNETES_ID:-fastapi-demo}
spec:
  type: service
  lifecycle: experimental
  owner: guests
YAML
  {
    cat <<YAML
app:
  baseUrl: http://localhost:$PORT
backend:
  baseUrl: http://localhost:$PORT
  listen:
    port: $PORT
  cors:
    origin: http://localhost:$PORT
catalog:
  locations:
    - type: file
      target: $WORK/catalog.yaml
YAML
    if [ -n "${KUBECONFIG:-}" ]; then connect_cluster; fi
  } >"$WORK/app-config.test.yaml"
  (cd "$APP/packages/backend" && exec setsid yarn start --config ../../app-config.yaml \
    --config "$WORK/app-config.test.yaml") >"$WORK/backend.log" 2>&1 &
  BACKEND_PID=$!
  local waited=0
  until curl -sf "http://127.0.0.1:$PORT/.backstage/health/v1/readiness" >/dev/null; do
    kill -0 "$BACKEND_PID" 2>/dev/null || { tail -n 40 "$WORK/backend.log"; die "the fresh app's backend exited during start-up"; }
    if grep -q 'Backend startup failed' "$WORK/backend.log"; then
      grep -A3 'Backend startup failed' "$WORK/backend.log" | cut -c1-400
      die "the fresh app's backend failed to start (above)"
    fi
    [ $waited -lt 180 ] || { tail -n 40 "$WORK/backend.log"; die "the fresh app's backend was not ready after ${waited}s"; }
    sleep 1; waited=$((waited + 1))
  done
  grep -q 'rollouts' "$WORK/backend.log" || warn "the backend log does not mention the rollouts plugin"
}

# 6. Chromium opens the entity's Rollouts tab.
browser_test() {
  mkdir -p "$ARTIFACTS"
  FRESH_APP_URL="http://localhost:$PORT" FRESH_APP_ENTITY="$ENTITY" \
    FRESH_APP_CLUSTER="${KUBECONFIG:+$CLUSTER_NAME}" FRESH_APP_SCREENSHOT="$ARTIFACTS/rollouts-tab.png" \
    FRESH_APP_RESULTS="$ARTIFACTS/results" \
    yarn playwright test -c tests/fresh-app/playwright.config.ts \
    || { cp "$WORK/backend.log" "$ARTIFACTS/backend.log"; die "the browser test failed (backend log: $ARTIFACTS/backend.log)"; }
}

cd "$REPO_ROOT"
export REPO_ROOT
# `yarn add` in the app: Yarn's TypeScript plugin looks @types up on a search service that
# is unreachable here and crashes (../shared/notes/toolchain.md). CI=true would make the
# app's installs immutable; its lockfile is new.
export YARN_TS_ENABLE_AUTO_TYPES=false YARN_ENABLE_IMMUTABLE_INSTALLS=false
total=$SECONDS
timed pack pack_packages
timed create create_app
timed install install_packages
timed build build_app
timed start start_app
timed browser browser_test
log "fresh app: the Rollouts tab renders ($(printf '%s, ' "${TIMINGS[@]}")total $((SECONDS - total))s)"
