#!/usr/bin/env bash
# Test suite of tools/manifest-checks (wired into `make test` by the lead).
# Creates/reuses the venv ~/.cache/golden-path-portal/venvs/manifest-checks with the pinned dev
# requirements, builds/reuses actionlint in ~/.cache/golden-path-portal/bin, runs pytest.
# Extra arguments go to pytest (e.g. ./run-tests.sh -k policy -x).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/scripts/lib.sh"

mc_ensure_venv "$MC_DIR/requirements-dev.txt"
if [[ -z "${ACTIONLINT:-}" ]]; then
  ACTIONLINT="$("$MC_DIR/scripts/build-actionlint.sh")" || mc_die "could not build actionlint (see above)"
  export ACTIONLINT
fi
# The tests that need actionlint/zizmor fail (instead of skipping) when the tools are missing.
export MANIFEST_CHECKS_REQUIRE_TOOLS=1

cd "$MC_DIR"
exec "$MC_VENV/bin/python" -m pytest -p no:cacheprovider "$@"
