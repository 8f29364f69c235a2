#!/usr/bin/env bash
# Build (or reuse) Gitea's web assets: the module holds the templates and the frontend's
# sources but not the built CSS/JS, without which the web UI is raw HTML. Built as
# upstream's Makefile does (`pnpm install --frozen-lockfile`, `vite build`) with pnpm
# and the packages from the npm registry, into
#   ${PLATFORM_CACHE}/gitea-web-<version>/{templates,options,public}
# which gitea.sh gives Gitea as its STATIC_ROOT_PATH. Prints that folder.
# Needs Node >= 22.18 on PATH (scripts/lib/toolchain.sh provides Node 24).
# Cold: a few minutes (downloads + vite); warm: instant.
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=platform/lib/go-build.sh
source "${PLATFORM_DIR}/lib/go-build.sh"

here="${PLATFORM_DIR}/gitea"
version="$(go_mod_version "${here}" code.gitea.io/gitea)"
out="${PLATFORM_CACHE}/gitea-web-${version}"
take_build_lock "gitea-web-${version}"
if [[ -f "${out}/.complete" ]]; then
  log "reusing gitea-web-${version} (${out})"
  printf '%s\n' "${out}"
  exit 0
fi
command -v node >/dev/null 2>&1 || die "building Gitea's web assets needs Node >= 22.18 on PATH (make start provides it)"
src="$(cd "${here}" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly go mod download -json "code.gitea.io/gitea@${version}" | awk -F'"' '$2 == "Dir" { print $4 }')"
[[ -d "${src}" ]] || die "could not download code.gitea.io/gitea@${version} (is the Go module proxy reachable? GOPROXY=$(go env GOPROXY))"
pnpm_version="$(sed -n 's/.*"packageManager": *"pnpm@\([0-9.]*\)".*/\1/p' "${src}/package.json")"
[[ -n "${pnpm_version}" ]] || die "no pnpm version in ${src}/package.json (packageManager)"

log "building gitea-web-${version}: pnpm ${pnpm_version} install + vite build (cold: a few minutes)"
t0=$(date +%s)
mkdir -p "${PLATFORM_CACHE}"
work="$(mktemp -d "${PLATFORM_CACHE}/.build-gitea-web.XXXXXX")"
trap 'rm -rf "${work}"' EXIT
cp -r "${src}" "${work}/src"
chmod -R u+w "${work}/src"
(
  cd "${work}/src"
  export npm_config_yes=true CI=true NODE_ENV=production
  npx --yes "pnpm@${pnpm_version}" install --frozen-lockfile --prod=false >"${work}/install.log" 2>&1 \
    || { tail -n 40 "${work}/install.log" >&2; die "pnpm install of Gitea's frontend failed (log above)"; }
  npx --yes "pnpm@${pnpm_version}" exec vite build >"${work}/vite.log" 2>&1 \
    || { tail -n 40 "${work}/vite.log" >&2; die "vite build of Gitea's frontend failed (log above)"; }
)
[[ -f "${work}/src/public/assets/.vite/manifest.json" ]] || die "vite build left no public/assets/.vite/manifest.json"
mkdir -p "${work}/out"
cp -r "${work}/src/templates" "${work}/src/options" "${work}/src/public" "${work}/out/"
touch "${work}/out/.complete"
rm -rf "${out}"
mv "${work}/out" "${out}"
log "built gitea-web-${version} in $(( $(date +%s) - t0 )) s -> ${out}"
printf '%s\n' "${out}"
