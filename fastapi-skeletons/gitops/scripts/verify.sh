#!/usr/bin/env bash
# Proves the service runs healthily on the cluster kubectl points at, after
# `kubectl apply -k overlays/local` (what CI's kind job deploys): the post-deploy checks of
# scripts/validate-deployment.sh for "local" (rollout, readiness, a request through the
# Service). PASS/FAIL per check; results in verify-results/.
#
#   scripts/verify.sh                   # namespace ${{ values.namespace }}
#   NAMESPACE=other scripts/verify.sh   # another namespace
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/validate-deployment.sh" post-deploy local
