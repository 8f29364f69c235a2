# shellcheck shell=bash
# Python virtualenvs for generated services, cached by the hash of their pinned
# requirements (outside the repository: see tools/manifest-checks/scripts/lib.sh).

PY_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/golden-path-portal/venvs"

# venv_for REQUIREMENTS... -> prints the venv path, creating it when missing.
venv_for() {
  local hash venv
  hash="$(cat "$@" | sha256sum | cut -c1-16)"
  venv="$PY_CACHE/service-$hash"
  mkdir -p "$PY_CACHE"
  # Checks run side by side: the first to need a venv builds it, the others wait for it.
  (
    flock 9
    if [ ! -f "$venv/.complete" ]; then
      rm -rf "$venv"
      python3 -m venv "$venv" >&2 || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
      args=()
      for req in "$@"; do args+=(-r "$req"); done
      "$venv/bin/pip" install --quiet --disable-pip-version-check "${args[@]}" >&2 \
        || die "pip could not install $*"
      touch "$venv/.complete"
    fi
  ) 9>"$PY_CACHE/.service-$hash.lock" || return 1
  echo "$venv"
}

# pytest_isolated VENV [PYTEST_ARGS...]: pytest from VENV in the current directory,
# with a temporary root of its own, removed after. By default every pytest session of
# a user shares one root for its tmp_path folders, and a session that ends deletes
# older ones; two sessions ending at once (a CI run's two lanes) can trip over each
# other's deletion: "(rm_rf) error removing .../garbage-*: Directory not empty", a
# warning the generated suites turn into an error (seen once in CI; 1 in 120 sessions
# with four at a time on one root, 0 in 60 with a root each).
pytest_isolated() {
  local venv="$1" root status=0
  shift
  root="$(mktemp -d "${TMPDIR:-/tmp}/pytest.XXXXXX")"
  "$venv/bin/python" -m pytest -q -p no:cacheprovider --basetemp "$root/tmp" "$@" || status=$?
  rm -rf "$root"
  return "$status"
}
