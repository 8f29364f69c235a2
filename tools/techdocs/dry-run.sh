#!/usr/bin/env bash
# Every complete Kubernetes object in the docs' YAML snippets, server-side dry-run
# against a real API server, and every workload among them against Pod Security
# "restricted". Creates the examples' namespaces and a namespace techdocs-psa-check
# (labelled restricted); changes nothing else.
#
#   tools/techdocs/dry-run.sh KUBECONFIG      (KUBECTL=... to pick the kubectl binary)
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kc="${1:?usage: tools/techdocs/dry-run.sh KUBECONFIG}"
kubectl_bin="${KUBECTL:-${TECHDOCS_KUBECTL:-kubectl}}"
command -v "${kubectl_bin}" >/dev/null || { echo "kubectl not found: set KUBECTL" >&2; exit 1; }
work="$(mktemp -d "${TMPDIR:-/tmp}/techdocs-dry-run.XXXXXX")"
trap 'rm -rf "${work}"' EXIT
export_dir="${TECHDOCS_SNIPPETS_EXPORT:-${work}/snippets}" workloads="${work}/workloads"
k() { "${kubectl_bin}" --kubeconfig "${kc}" "$@"; }

venv_bin="$("${script_dir}/setup-venv.sh")"
"${venv_bin}/python" "${script_dir}/snippets.py" --export "${export_dir}" --export-workloads "${workloads}" >/dev/null
objects="$(cat "${export_dir}"/*.yaml | grep -c '^kind:')"
# The examples' namespaces may still be terminating (other tests share names such as
# hello-web); creating into a terminating namespace fails, so wait for those first.
for ns in $(k create --dry-run=client -o name -f "${export_dir}/000-namespaces.yaml"); do
  if [[ "$(k get "${ns}" --ignore-not-found -o jsonpath='{.status.phase}')" == Terminating ]]; then
    k wait --for=delete "${ns}" --timeout=180s >/dev/null
  fi
done
k apply -f "${export_dir}/000-namespaces.yaml" >/dev/null
k apply --dry-run=server -f "${export_dir}/" >"${work}/apply.log" 2>&1 || { cat "${work}/apply.log"; exit 1; }
k create namespace techdocs-psa-check --dry-run=client -o yaml | k apply -f - >/dev/null
k label --overwrite namespace techdocs-psa-check \
  pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/warn=restricted >/dev/null
out="$(k apply -n techdocs-psa-check --dry-run=server -f "${workloads}/" 2>&1)" || { echo "${out}"; exit 1; }
if grep -qi "would violate\|forbidden" <<<"${out}"; then
  grep -i "would violate\|forbidden" <<<"${out}"
  exit 1
fi
echo "techdocs dry-run: ${objects} objects accepted by the API server (dry-run), $(find "${workloads}" -name '*.yaml' | wc -l) workloads pass Pod Security \"restricted\""
