# shellcheck shell=bash
# Shared helpers for check.sh and run-tests.sh (sourced, not executed).
# Creates/reuses the venv at ~/.cache/golden-path-portal/venvs/manifest-checks and installs the
# pinned requirements when they changed (a stamp file holds their hash).

MC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Outside the repository on purpose: a venv links to the system Python, and TechDocs
# refuses to build the repository root while it holds links that point outside it.
MC_VENV="${MANIFEST_CHECKS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/golden-path-portal/venvs/manifest-checks}"
GOLDEN_PATH_BIN="${GOLDEN_PATH_BIN:-$HOME/.cache/golden-path-portal/bin}"
export GOLDEN_PATH_BIN
export PYTHONDONTWRITEBYTECODE=1

mc_log() { echo "[manifest-checks] $*" >&2; }
mc_die() { echo "[manifest-checks] ERROR: $*" >&2; exit 1; }

mc_python() {
  local py="${PYTHON:-}"
  if [[ -z "$py" ]]; then
    for candidate in python3.11 python3; do
      if command -v "$candidate" >/dev/null 2>&1; then py="$candidate"; break; fi
    done
  fi
  [[ -n "$py" ]] || mc_die "python3 not found: install Python >= 3.10 or set PYTHON=/path/to/python3"
  "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
    || mc_die "$py is older than 3.10: set PYTHON to a Python >= 3.10"
  echo "$py"
}

_mc_hash() { cat "$MC_DIR/requirements.txt" "$1" | sha256sum | cut -d' ' -f1; }
_mc_stamp() { echo "$MC_VENV/.requirements-$(basename "$1").sha256"; }

# True when the venv holds the pins of <requirements-file> (the dev set includes the runtime set).
_mc_venv_current() {
  local req="$1" r
  [[ -x "$MC_VENV/bin/python" ]] || return 1
  for r in "$req" "$MC_DIR/requirements-dev.txt"; do
    if [[ -f "$(_mc_stamp "$r")" && "$(cat "$(_mc_stamp "$r")")" == "$(_mc_hash "$r")" ]]; then
      return 0
    fi
    [[ "$req" == "$MC_DIR/requirements.txt" ]] || break
  done
  return 1
}

# mc_ensure_venv <requirements-file>
mc_ensure_venv() {
  local req="$1"
  _mc_venv_current "$req" && return 0
  mkdir -p "$(dirname "$MC_VENV")"
  exec 9>"$(dirname "$MC_VENV")/.manifest-checks.lock"
  flock 9
  if ! _mc_venv_current "$req"; then
    if [[ ! -x "$MC_VENV/bin/python" ]]; then
      mc_log "creating venv $MC_VENV"
      "$(mc_python)" -m venv "$MC_VENV" || mc_die "could not create a venv at $MC_VENV (is python3-venv installed?)"
    fi
    mc_log "installing pinned requirements ($(basename "$req"))"
    "$MC_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$req" \
      || mc_die "pip install -r $req failed: check that PyPI is reachable and the pins exist"
    "$MC_VENV/bin/python" -m pip check --disable-pip-version-check >/dev/null \
      || mc_die "pip check failed: a dependency is missing from $MC_DIR/requirements*.txt ($("$MC_VENV/bin/python" -m pip check 2>&1 | head -3))"
    _mc_hash "$req" >"$(_mc_stamp "$req")"
  fi
  exec 9>&-
}
