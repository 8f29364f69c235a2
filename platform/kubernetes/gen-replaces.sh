#!/usr/bin/env bash
# Print the replace block platform/kubernetes/go.mod needs for a Kubernetes release.
#
# k8s.io/kubernetes requires its staging modules (k8s.io/api, client-go, ...) at
# v0.0.0 and replaces them with ./staging/src/...; a module that depends on it must
# map each of them to the published tag v0.<minor>.<patch> itself.
#
# Usage: platform/kubernetes/gen-replaces.sh v1.37.2 > /tmp/replaces.txt
#   then paste the block into platform/kubernetes/go.mod, bump the k8s.io/kubernetes
#   requirement and run (cd platform/kubernetes && GOTOOLCHAIN=local go mod tidy).
set -euo pipefail
version="${1:?usage: $0 v1.MINOR.PATCH}"
[[ "${version}" =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || { echo "expected a version like v1.37.2, got ${version}" >&2; exit 2; }
staging="v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"
gomod="$(cd "$(mktemp -d)" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@${version}" \
  | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
[[ -f "${gomod}" ]] || { echo "could not download the go.mod of k8s.io/kubernetes@${version}" >&2; exit 1; }
echo "replace ("
# sample-* modules are replaced upstream but never required, and are not published.
awk '$2 == "=>" && $3 ~ /^\.\/staging\// {print $1}' "${gomod}" | grep -v '^k8s.io/sample-\(cli-plugin\|controller\)$' \
  | while read -r m; do printf '\t%s => %s %s\n' "${m}" "${m}" "${staging}"; done
echo ")"
