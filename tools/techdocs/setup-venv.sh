#!/usr/bin/env bash
# Creates (or reuses) the pinned TechDocs virtualenv at <repo>/.tools/venvs/techdocs and
# prints its bin directory on stdout (the only line on stdout; progress goes to stderr).
#
#   PATH="$(tools/techdocs/setup-venv.sh):$PATH"   # then `mkdocs build` is TechDocs' mkdocs
#
# The venv is rebuilt when tools/techdocs/requirements.txt changes (a hash is stored in
# the venv) or when it is broken. Diagrams are rendered by Graphviz `dot` at build time;
# this script checks for it and, when run as root with apt-get (CI), installs the Debian
# package `graphviz`. Set TECHDOCS_SKIP_GRAPHVIZ_INSTALL=1 to only check.
#
# Environment:
#   PYTHON                   interpreter to create the venv with (default: python3, >= 3.9)
#   TECHDOCS_VENV            venv location (default: <repo>/.tools/venvs/techdocs)
#   PIP_INDEX_URL etc.       honoured by pip as usual
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "${script_dir}/../.." && pwd)"
requirements="${script_dir}/requirements.txt"
venv="${TECHDOCS_VENV:-${repo_root}/.tools/venvs/techdocs}"
python="${PYTHON:-python3}"

log() { printf '[techdocs-venv] %s\n' "$*" >&2; }
die() { printf '[techdocs-venv] ERROR: %s\n' "$*" >&2; exit 1; }

command -v "${python}" >/dev/null 2>&1 \
  || die "'${python}' not found. Install Python >= 3.9 (Debian: apt-get install python3 python3-venv) or set PYTHON=/path/to/python3."
"${python}" - <<'PY' || die "Python >= 3.9 is required (found $("${python}" --version 2>&1)). Set PYTHON to a newer interpreter."
import sys
sys.exit(0 if sys.version_info >= (3, 9) else 1)
PY
[[ -f "${requirements}" ]] || die "missing ${requirements}"

want_hash="$( (cat "${requirements}"; "${python}" -c 'import sys; print(sys.version)') | sha256sum | cut -d' ' -f1)"
stamp="${venv}/.requirements.sha256"

# Symlinks that leave the repository make the portal's TechDocs generator refuse to build
# the root entity's docs (it validates every symlink under the `dir:.` source), and a
# plain venv links bin/python to the system interpreter. Hence `venv --copies`.
outside_links() {
  local link target
  while IFS= read -r -d '' link; do
    target="$(readlink -f "${link}" || true)"
    [[ "${target}" == "${repo_root}"/* ]] || printf '%s -> %s\n' "${link}" "${target}"
  done < <(find "${venv}" -type l -print0 2>/dev/null)
}

venv_ok() {
  [[ -x "${venv}/bin/python" && -x "${venv}/bin/mkdocs" && -f "${stamp}" ]] || return 1
  [[ "${venv}" != "${repo_root}"/* || -z "$(outside_links)" ]] || return 1
  [[ "$(cat "${stamp}")" == "${want_hash}" ]] || return 1
  "${venv}/bin/python" -c 'import techdocs_core, kubernetes_validate, pytest, markdown_inline_graphviz' >/dev/null 2>&1
}

if venv_ok; then
  log "reusing ${venv}"
else
  log "creating ${venv} from ${requirements#"${repo_root}/"}"
  rm -rf "${venv}"
  mkdir -p "$(dirname "${venv}")"
  "${python}" -m venv --copies "${venv}" \
    || die "could not create a venv with ${python}. On Debian install python3-venv (apt-get install python3-venv)."
  # --no-deps: the requirements file is the complete, pinned set; pip check proves it.
  "${venv}/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --no-deps --require-virtualenv -r "${requirements}" >&2 \
    || die "pip install failed (is PyPI reachable? see the pip output above)."
  "${venv}/bin/python" -m pip check --disable-pip-version-check >&2 \
    || die "requirements.txt is not a complete, consistent set (pip check above). Regenerate it as described in its header."
  if [[ "${venv}" == "${repo_root}"/* && -n "$(outside_links)" ]]; then
    die "the venv contains symlinks that leave the repository (TechDocs would refuse to build): $(outside_links)"
  fi
  printf '%s\n' "${want_hash}" > "${stamp}"
  log "installed $("${venv}/bin/mkdocs" --version 2>/dev/null | cut -d' ' -f1-3)"
fi

# Graphviz renders the ```graphviz diagram fences (markdown_inline_graphviz, part of
# mkdocs-techdocs-core). Without it the pages still build but show an error instead of
# the pictures, so make it present where we can and say so loudly where we cannot.
if ! command -v dot >/dev/null 2>&1; then
  if [[ "${TECHDOCS_SKIP_GRAPHVIZ_INSTALL:-0}" != "1" && "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
    log "installing Graphviz (Debian package graphviz) for the diagrams"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q -o DPkg::Lock::Timeout=600 graphviz >&2; then
      apt-get update -q -o DPkg::Lock::Timeout=600 >&2 || true
      apt-get install -y -q -o DPkg::Lock::Timeout=600 graphviz >&2 \
        || die "could not install graphviz with apt-get; install it by hand (apt-get install graphviz)."
    fi
  else
    log "WARNING: Graphviz 'dot' is not on PATH: diagrams will not render."
    log "         Install it: apt-get install graphviz (Debian/Ubuntu), brew install graphviz (macOS)."
  fi
fi

printf '%s\n' "${venv}/bin"
