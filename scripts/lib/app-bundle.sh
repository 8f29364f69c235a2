# shellcheck shell=bash
# The built app (packages/app/dist), reused from the cache when nothing it is built from
# changed. Source after scripts/lib/toolchain.sh.
#
# The key hashes what `backstage-cli package build` reads: the app and every workspace
# package it can import (those its package.json reaches through workspace dependencies,
# of any kind; tests aside), the lockfile, the root settings, the app config it loads at
# build time, APP_CONFIG_* variables and Node. A backend plugin the app does not depend
# on is not part of it: a backend-only change keeps the bundle. Over-counting only costs
# a build; a file left out could serve a stale bundle, so a checkout without git always
# builds.

APP_BUNDLE_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/golden-path-portal/app-dist"

# The workspace folders the app reaches through its dependencies (packages/app first).
app_bundle_workspaces() {
  node -e '
    const fs = require("fs");
    const read = dir => JSON.parse(fs.readFileSync(`${dir}/package.json`, "utf8"));
    const dirs = ["packages", "plugins"].flatMap(top =>
      fs.existsSync(top) ? fs.readdirSync(top).map(d => `${top}/${d}`) : [],
    ).filter(dir => fs.existsSync(`${dir}/package.json`));
    const byName = new Map(dirs.map(dir => [read(dir).name, dir]));
    const reached = new Set();
    const visit = dir => {
      if (reached.has(dir)) return;
      reached.add(dir);
      const pkg = read(dir);
      for (const field of ["dependencies", "devDependencies", "peerDependencies"])
        for (const name of Object.keys(pkg[field] ?? {}))
          if (byName.has(name)) visit(byName.get(name));
    };
    visit("packages/app");
    console.log([...reached].join("\n"));
  '
}

app_bundle_key() {
  (
    cd "$REPO_ROOT" || exit 1
    git rev-parse --is-inside-work-tree >/dev/null 2>&1 || exit 1
    local workspaces
    workspaces="$(app_bundle_workspaces)" || exit 1
    local inputs
    mapfile -t inputs <<<"$workspaces"
    inputs+=(yarn.lock package.json tsconfig.json backstage.json .yarnrc.yml
      'app-config*.yaml' ':!packages/app/e2e-tests' ':!**/dist/**'
      ':!**/*.test.ts' ':!**/*.test.tsx')
    {
      node --version
      env | grep '^APP_CONFIG_' | LC_ALL=C sort
      # Tracked files as they are in the working tree, and new files not yet added.
      { git ls-files -z -- "${inputs[@]}"; git ls-files -z --others --exclude-standard -- "${inputs[@]}"; } \
        | xargs -0 -r sha256sum
    } | sha256sum | cut -c1-16
  )
}

# ensure_app_bundle LOG: packages/app/dist for this checkout, from the cache or built
# (build output in LOG).
ensure_app_bundle() {
  local build_log="$1" key dist="$REPO_ROOT/packages/app/dist" started=$SECONDS
  if key="$(app_bundle_key)" && [ -f "$APP_BUNDLE_CACHE/$key/dist/index.html" ]; then
    rm -rf "$dist"
    cp -a "$APP_BUNDLE_CACHE/$key/dist" "$dist"
    log "reusing the app bundle $key ($APP_BUNDLE_CACHE/$key)"
    return 0
  fi
  log "building the app bundle"
  yarn workspace app build >"$build_log" 2>&1 || { tail -n 40 "$build_log"; die "app build failed (log: $build_log)"; }
  log "app bundle built in $((SECONDS - started)) s"
  [ -n "$key" ] || return 0
  # One bundle kept: the newest.
  rm -rf "$APP_BUNDLE_CACHE"
  mkdir -p "$APP_BUNDLE_CACHE/$key.tmp"
  cp -a "$dist" "$APP_BUNDLE_CACHE/$key.tmp/dist" && mv "$APP_BUNDLE_CACHE/$key.tmp" "$APP_BUNDLE_CACHE/$key"
}
