#!/usr/bin/env bash
# metrics-server, the resource metrics API (metrics.k8s.io: `kubectl top`, HPA), image
# built here from Go modules.
#
# usage: platform/metrics-server/addon.sh images|apply|wait [timeout s]|validate|render|delete|host-test
#   images     build or reuse the image; print its OCI archive path
#   apply      server-side apply (KUBECONFIG from the environment)
#   wait       until the Deployment is available, APIService v1beta1.metrics.k8s.io is
#              Available and `kubectl top nodes` lists every real (non-KWOK) node
#   validate   server-side dry run + Pod Security "restricted"; changes nothing
#   render     the manifests with placeholders filled
#   delete     remove what apply created
#   host-test  no node needed: run the binary on 127.0.0.1 with the metrics-server
#              ServiceAccount's token and check it starts without RBAC errors
#
# Needs from the cluster: the kubelets' serving certificates signed by the cluster CA
# (the one in every namespace's ConfigMap kube-root-ca.crt) for their InternalIP, kubelet
# webhook authentication/authorization (metrics-server presents its ServiceAccount
# token), and kube-apiserver --enable-aggregator-routing plus the front-proxy flags.
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=platform/images/lib-images.sh
source "${PLATFORM_DIR}/images/lib-images.sh"
# shellcheck source=platform/images/lib-addon.sh
source "${PLATFORM_DIR}/images/lib-addon.sh"
# shellcheck source=platform/lib/pki.sh
source "${PLATFORM_DIR}/lib/pki.sh"

DIR="${PLATFORM_DIR}/metrics-server"
VERSION="$(go_mod_version "${DIR}" sigs.k8s.io/metrics-server)"
# shellcheck disable=SC2034 # read by name in fill_placeholders
METRICS_SERVER_IMAGE="${IMAGE_PREFIX}/metrics-server:${VERSION}"

do_images() { "${DIR}/build.sh"; }

# The API server verifies metrics-server's serving certificate (the APIService's
# caBundle) for the name it dials: <service>.<namespace>.svc.
SERVING_SECRET=metrics-server-serving
SERVING_NAME=metrics-server.kube-system.svc
SERVING_CERT=metrics-server-serving # in ${PKI}: signed by the cluster CA, which stop deletes

cluster_ca() {
  [[ -s "${PKI}/ca.crt" ]] \
    || die "no cluster CA at ${PKI}/ca.crt: metrics-server's serving certificate is signed by the local cluster's CA (platform/cluster.sh start makes it)"
  printf '%s\n' "${PKI}/ca.crt"
}

do_render() {
  local ca
  ca="$(cluster_ca)" || exit 1
  # shellcheck disable=SC2034 # read by name in fill_placeholders
  METRICS_SERVER_CA_BUNDLE="$(b64 "${ca}")"
  fill_placeholders METRICS_SERVER_IMAGE METRICS_SERVER_CA_BUNDLE < "${DIR}/manifests.yaml"
}

# The serving certificate (made once per cluster CA) into its Secret. Its key is never
# printed: the Secret goes from kubectl to kubectl.
apply_serving_secret() {
  local ca
  ca="$(cluster_ca)" || exit 1
  if ! openssl verify -CAfile "${ca}" "${PKI}/${SERVING_CERT}.crt" >/dev/null 2>&1; then
    gen_cert "${SERVING_CERT}" "/CN=${SERVING_NAME}" serverAuth \
      "DNS:${SERVING_NAME},DNS:${SERVING_NAME}.${CLUSTER_DOMAIN}"
  fi
  addon_kubectl -n kube-system create secret tls "${SERVING_SECRET}" \
    --cert="${PKI}/${SERVING_CERT}.crt" --key="${PKI}/${SERVING_CERT}.key" --dry-run=client -o json \
    | addon_kubectl apply --server-side --field-manager="${FIELD_MANAGER}" --force-conflicts -f - >&2
}

do_wait() {
  local timeout="$1" deadline nodes out missing n
  deadline=$(( $(date +%s) + timeout ))
  wait_rollout kube-system metrics-server "${timeout}"
  addon_kubectl wait --for=condition=Available apiservice/v1beta1.metrics.k8s.io \
    --timeout="$(( deadline - $(date +%s) > 1 ? deadline - $(date +%s) : 1 ))s" >&2 \
    || { addon_kubectl get apiservice v1beta1.metrics.k8s.io -o yaml | tail -n 15 >&2; die "APIService v1beta1.metrics.k8s.io is not Available"; }
  nodes="$(addon_kubectl get nodes -l 'type!=kwok' -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}')"
  [[ -n "${nodes}" ]] || die "no real (non-KWOK) node in the cluster: nothing to measure"
  # The first scrape comes one --metric-resolution (15 s) after start.
  while :; do
    out="$(addon_kubectl top nodes --no-headers 2>&1 || true)"
    missing=""
    for n in ${nodes}; do grep -q "^${n} " <<<"${out}" || missing+=" ${n}"; done
    if [[ -z "${missing}" ]]; then
      log "kubectl top nodes:"; printf '%s\n' "${out}" >&2
      return 0
    fi
    (( $(date +%s) < deadline )) || die "kubectl top nodes has no metrics for${missing} after ${timeout} s: ${out} (metrics-server log: kubectl -n kube-system logs deploy/metrics-server)"
    sleep 3
  done
}

HOST_TEST_PID="" HOST_TEST_TMP=""
host_test_cleanup() {
  [[ -z "${HOST_TEST_PID}" ]] || { kill "${HOST_TEST_PID}" 2>/dev/null; wait "${HOST_TEST_PID}" 2>/dev/null; }
  [[ -z "${HOST_TEST_TMP}" ]] || rm -rf "${HOST_TEST_TMP}"
}

do_host_test() {
  local bin tmp pid server ca token port rss rc=0
  do_images >/dev/null
  bin="${PLATFORM_CACHE}/metrics-server-${VERSION}/metrics-server"
  [[ -x "${bin}" ]] || die "no metrics-server binary at ${bin}"
  tmp="$(mktemp -d /tmp/gp-metrics-server-test.XXXXXX)"
  HOST_TEST_TMP="${tmp}"
  trap host_test_cleanup EXIT
  do_render | addon_kubectl create --dry-run=client -o json -f - \
    | jq -c 'if .kind == "List" then .items[] else . end | select(.kind | test("^(ServiceAccount|ClusterRole|ClusterRoleBinding|RoleBinding)$"))' \
    | addon_kubectl apply --server-side --field-manager="${FIELD_MANAGER}" --force-conflicts -f - >&2
  token="$(addon_kubectl -n kube-system create token metrics-server --duration=10m)"
  server="$(addon_kubectl config view --minify --raw -o jsonpath='{.clusters[0].cluster.server}')"
  ca="$(addon_kubectl config view --minify --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')"
  base64 -d <<<"${ca}" > "${tmp}/ca.crt"
  cat > "${tmp}/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${server}", certificate-authority-data: "${ca}"}}]
users: [{name: metrics-server, user: {token: "${token}"}}]
contexts: [{name: metrics-server, context: {cluster: c, user: metrics-server}}]
current-context: metrics-server
EOF
  port=$(( 20000 + RANDOM % 20000 ))
  "${bin}" --kubeconfig="${tmp}/kubeconfig" --authentication-kubeconfig="${tmp}/kubeconfig" \
    --authorization-kubeconfig="${tmp}/kubeconfig" --bind-address=127.0.0.1 --secure-port="${port}" \
    --cert-dir="${tmp}" --kubelet-preferred-address-types=InternalIP --kubelet-use-node-status-port \
    --kubelet-certificate-authority="${tmp}/ca.crt" --node-selector='type!=kwok' --metric-resolution=15s > "${tmp}/log" 2>&1 &
  pid=$!
  HOST_TEST_PID="${pid}"
  local ok=""
  for _ in $(seq 1 100); do
    if python3 -c "import ssl, urllib.request; urllib.request.urlopen('https://127.0.0.1:${port}/livez', context=ssl._create_unverified_context(), timeout=1)" 2>/dev/null; then ok=1; break; fi
    kill -0 "${pid}" 2>/dev/null || break
    sleep 0.2
  done
  if [[ -n "${ok}" ]]; then log "PASS metrics-server /livez answers on 127.0.0.1:${port}"; else log "FAIL /livez"; rc=1; fi
  sleep 3
  if grep -qiE 'forbidden|unauthorized' "${tmp}/log"; then
    log "FAIL RBAC errors:"; grep -iE 'forbidden|unauthorized' "${tmp}/log" | head -n 5 >&2; rc=1
  else
    log "PASS no RBAC errors in its log with the least-privilege roles (front-proxy CA read, informers synced)"
  fi
  rss="$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/${pid}/status" 2>/dev/null || echo '?')"
  log "metrics-server RSS ${rss} MiB; log tail:"
  tail -n 8 "${tmp}/log" >&2
  [[ ${rc} -eq 0 ]] || die "host test failed"
  printf 'metrics-server host-test: PASS (RSS %s MiB)\n' "${rss}"
}

case "${1:-}" in
  host-test) do_host_test ;;
  apply)
    apply_serving_secret
    addon_apply "$(do_render)"
    ;;
  delete)
    addon_delete "$(do_render)"
    addon_kubectl -n kube-system delete secret "${SERVING_SECRET}" --ignore-not-found --wait=false
    ;;
  *) addon_main "$@" ;;
esac
