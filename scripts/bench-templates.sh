#!/usr/bin/env bash
# Template benchmark: per template, a dry-run through the real scaffolder against a
# plain render of the same skeleton parts, medians of 5, measured in the same run.
set -euo pipefail
source "$(dirname "$0")/lib/toolchain.sh"
ensure_toolchain
# CI=true: one run, not Jest's watch mode.
CI=true yarn --cwd "$REPO_ROOT/tests/templates" bench "$@"
