#!/usr/bin/env bash
# ensure_app_bundle in a throw-away repository with a fake `yarn` that counts builds:
# reused when nothing it is built from changed (or only a test, or a backend plugin the
# app does not depend on), rebuilt when the app's source, a plugin it depends on (or one
# of that plugin's own workspace dependencies), a new file, the lockfile or an
# APP_CONFIG_ variable changed.
set -euo pipefail
LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

export REPO_ROOT="${work}/repo" XDG_CACHE_HOME="${work}/cache"
mkdir -p "${work}/bin" "${REPO_ROOT}/packages/app/src" "${REPO_ROOT}/plugins/rollouts/src" \
  "${REPO_ROOT}/plugins/rollouts-common/src" "${REPO_ROOT}/plugins/rollouts-backend/src" \
  "${REPO_ROOT}/packages/backend/src"
cat >"${work}/bin/yarn" <<'EOF'
#!/usr/bin/env bash
# `yarn workspace app build`: a dist that says which build made it.
echo build >>"$REPO_ROOT/../builds"
mkdir -p "$REPO_ROOT/packages/app/dist"
echo "<html>build $(wc -l <"$REPO_ROOT/../builds")</html>" >"$REPO_ROOT/packages/app/dist/index.html"
EOF
chmod +x "${work}/bin/yarn"
export PATH="${work}/bin:${PATH}"
# shellcheck source=scripts/lib/toolchain.sh
source "${LIB_DIR}/toolchain.sh"
REPO_ROOT="${work}/repo"
# shellcheck source=scripts/lib/app-bundle.sh
source "${LIB_DIR}/app-bundle.sh"

cd "${REPO_ROOT}"
git init -q . && git config user.email t@example.com && git config user.name t
echo 'export const app = 1;' >packages/app/src/App.tsx
echo 'test' >packages/app/src/App.test.tsx
echo 'export const plugin = 1;' >plugins/rollouts/src/index.ts
echo 'lock 1' >yarn.lock
# The app depends on the frontend plugin, which depends on the common package; the
# backend plugin depends on the common package too, and nothing the app uses on it.
echo '{"name":"app","dependencies":{"@x/plugin-rollouts":"workspace:^"}}' >packages/app/package.json
echo '{"name":"@x/plugin-rollouts","dependencies":{"@x/plugin-rollouts-common":"workspace:^"}}' >plugins/rollouts/package.json
echo '{"name":"@x/plugin-rollouts-common"}' >plugins/rollouts-common/package.json
echo '{"name":"@x/plugin-rollouts-backend","dependencies":{"@x/plugin-rollouts-common":"workspace:^"}}' >plugins/rollouts-backend/package.json
echo '{"name":"backend","dependencies":{"@x/plugin-rollouts-backend":"workspace:^"}}' >packages/backend/package.json
echo 'export const common = 1;' >plugins/rollouts-common/src/index.ts
echo 'export const backendPlugin = 1;' >plugins/rollouts-backend/src/index.ts
echo 'export const backend = 1;' >packages/backend/src/index.ts
git add -A && git commit -qm init

builds() { wc -l <"${work}/builds" 2>/dev/null || echo 0; }
expect() { # expect WHAT BUILDS SERVED
  local got; got="$(cat packages/app/dist/index.html)"
  [[ "$(builds)" == "$2" && "${got}" == "<html>build $3</html>" ]] \
    || { echo "FAIL: $1: expected $2 build(s) serving build $3, got $(builds) serving '${got}'" >&2; exit 1; }
  echo "ok: $1"
}

ensure_app_bundle "${work}/build.log" 2>/dev/null; expect "a first run builds" 1 1
rm -rf packages/app/dist
ensure_app_bundle "${work}/build.log" 2>/dev/null; expect "nothing changed: the cached bundle" 1 1
echo 'changed' >>packages/app/src/App.test.tsx
ensure_app_bundle "${work}/build.log" 2>/dev/null; expect "a test changed: the cached bundle" 1 1
echo 'export const app = 2;' >packages/app/src/App.tsx
ensure_app_bundle "${work}/build.log" 2>/dev/null; expect "the app's source changed: built" 2 2
echo 'export const backendPlugin = 2;' >plugins/rollouts-backend/src/index.ts
echo 'export const backend = 2;' >packages/backend/src/index.ts
ensure_app_bundle "${work}/build.log" 2>/dev/null; expect "only the backend and a backend plugin changed: the cached bundle" 2 2
echo 'export const plugin = 2;' >plugins/rollouts/src/index.ts
ensure_app_bundle "${work}/build.log" 2>/dev/null; expect "a plugin changed: built" 3 3
echo 'export const common = 2;' >plugins/rollouts-common/src/index.ts
ensure_app_bundle "${work}/build.log" 2>/dev/null; expect "a package a plugin depends on changed: built" 4 4
echo 'export const extra = 1;' >plugins/rollouts/src/extra.ts
ensure_app_bundle "${work}/build.log" 2>/dev/null; expect "a new file: built" 5 5
echo 'lock 2' >yarn.lock
ensure_app_bundle "${work}/build.log" 2>/dev/null; expect "the lockfile changed: built" 6 6
APP_CONFIG_app_title=x ensure_app_bundle "${work}/build.log" 2>/dev/null; expect "an APP_CONFIG_ variable: built" 7 7
ensure_app_bundle "${work}/build.log" 2>/dev/null; expect "the key before the variable again: built, as only the newest bundle is kept" 8 8
echo '{"name":"app","dependencies":{"@x/plugin-rollouts":"workspace:^","@x/plugin-rollouts-backend":"workspace:^"}}' >packages/app/package.json
ensure_app_bundle "${work}/build.log" 2>/dev/null; expect "the app now depends on the backend plugin: built" 9 9
echo 'export const backendPlugin = 3;' >plugins/rollouts-backend/src/index.ts
ensure_app_bundle "${work}/build.log" 2>/dev/null; expect "a plugin the app depends on now changed: built" 10 10
echo "app-bundle.sh: reuse and every rebuild trigger checked"
