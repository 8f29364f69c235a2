#!/usr/bin/env bash
# Static checks for Kubernetes manifests and GitHub Actions workflows.
#   tools/manifest-checks/check.sh [--catalog-info F] [--workflows DIR] [other options] PATHS...
# Ensures the pinned venv (and actionlint when --workflows is given), then runs
#   python -m manifest_checks "$@"     (see --help; exit code 1 on any failure)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/scripts/lib.sh"

mc_ensure_venv "$MC_DIR/requirements.txt"

for arg in "$@"; do
  if [[ "$arg" == --workflows || "$arg" == --workflows=* ]]; then
    if [[ -z "${ACTIONLINT:-}" ]]; then
      ACTIONLINT="$("$MC_DIR/scripts/build-actionlint.sh")" || mc_die "actionlint is needed for --workflows (see above)"
      export ACTIONLINT
    fi
    break
  fi
done

PYTHONPATH="$MC_DIR${PYTHONPATH:+:$PYTHONPATH}" exec "$MC_VENV/bin/python" -m manifest_checks "$@"
