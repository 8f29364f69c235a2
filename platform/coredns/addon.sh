#!/usr/bin/env bash
# CoreDNS, the cluster DNS add-on: Service kube-dns (clusterIP ${CLUSTER_DNS_IP}) in
# kube-system, zone ${CLUSTER_DOMAIN}, image built here from Go modules.
#
# usage: platform/coredns/addon.sh images|apply|wait [timeout s]|validate|render|delete|host-test
#   images     build or reuse the image; print its OCI archive path
#   apply      server-side apply (KUBECONFIG from the environment)
#   wait       until the Deployment is available and its pod answers
#              kubernetes.default.svc.<domain> with the kubernetes Service IP
#   validate   server-side dry run + Pod Security "restricted"; changes nothing
#   render     the manifests with placeholders filled
#   delete     remove what apply created
#   host-test  no node needed: run the binary on 127.0.0.1 against the API server with
#              the coredns ServiceAccount's own token (proves its RBAC) and resolve names
#
# Env: CLUSTER_DNS_IP (default from lib.sh, else 198.19.0.10), CLUSTER_DOMAIN (cluster.local),
#      COREDNS_UPSTREAM  space-separated upstream resolvers for names outside the cluster
#                        (default: none; such names get REFUSED at once, see README)
#      COREDNS_QUERY_VIA command prefix to reach the pod IP in `wait`, e.g. "ip netns exec lan"
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=platform/images/lib-images.sh
source "${PLATFORM_DIR}/images/lib-images.sh"
# shellcheck source=platform/images/lib-addon.sh
source "${PLATFORM_DIR}/images/lib-addon.sh"

DIR="${PLATFORM_DIR}/coredns"
VERSION="$(go_mod_version "${DIR}" github.com/coredns/coredns)"
# Placeholder values are read by name (fill_placeholders).
# shellcheck disable=SC2034
COREDNS_IMAGE="${IMAGE_PREFIX}/coredns:${VERSION}"
CLUSTER_DNS_IP="${CLUSTER_DNS_IP:-198.19.0.10}"
CLUSTER_DOMAIN="${CLUSTER_DOMAIN:-cluster.local}"
COREDNS_UPSTREAM="${COREDNS_UPSTREAM:-}"

# The Corefile. Only the cluster's zones are served: the pods' network has no upstream
# resolver, so a name outside them is answered REFUSED immediately (CoreDNS's answer for
# a zone it has no server block for) instead of timing out in a forward. COREDNS_UPSTREAM
# adds a forwarding block for the root zone.
# corefile: the Corefile on :53
corefile() {
  local port=53
  cat <<EOF
${CLUSTER_DOMAIN}:${port} in-addr.arpa:${port} ip6.arpa:${port} {
    errors
    health {
        lameduck 5s
    }
    ready
    kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {
        pods insecure
        ttl 30
    }
    prometheus :9153
    cache 30
    reload
    loadbalance
}
EOF
  if [[ -n "${COREDNS_UPSTREAM}" ]]; then
    cat <<EOF
.:${port} {
    errors
    cache 30
    loop
    forward . ${COREDNS_UPSTREAM}
}
EOF
  fi
}

do_images() { "${DIR}/build.sh"; }

do_render() {
  local COREFILE
  # shellcheck disable=SC2034 # read by name in fill_placeholders
  COREFILE="$(corefile | indent 4)"
  fill_placeholders CLUSTER_DNS_IP CLUSTER_DOMAIN COREDNS_IMAGE COREFILE < "${DIR}/manifests.yaml"
}

do_wait() {
  local timeout="$1" deadline ip expect out
  deadline=$(( $(date +%s) + timeout ))
  wait_rollout kube-system coredns "${timeout}"
  expect="$(addon_kubectl -n default get service kubernetes -o jsonpath='{.spec.clusterIP}')"
  while :; do
    ip="$(addon_kubectl -n kube-system get pods -l k8s-app=kube-dns --field-selector=status.phase=Running \
          -o jsonpath='{range .items[*]}{.status.podIP}{"\n"}{end}' | head -n1)"
    if [[ -n "${ip}" ]]; then
      # shellcheck disable=SC2086
      out="$(${COREDNS_QUERY_VIA:-} bash -c "$(declare -f require_cmd dns_query die); dns_query '${ip}' 53 'kubernetes.default.svc.${CLUSTER_DOMAIN}'" 2>&1 || true)"
      if [[ "${out}" == "NOERROR ${expect}" ]]; then
        log "CoreDNS (${ip}) answers kubernetes.default.svc.${CLUSTER_DOMAIN} = ${expect}"
        break
      fi
    fi
    (( $(date +%s) < deadline )) || die "CoreDNS pod ${ip:-?} did not answer kubernetes.default.svc.${CLUSTER_DOMAIN} with ${expect} within ${timeout} s (last: ${out:-no pod IP}); is the pod network reachable from here? (COREDNS_QUERY_VIA)"
    sleep 1
  done
  # What pods use is the Service IP (kube-proxy on the node). Check it too when this
  # host routes the Service range to a node (platform/network does).
  if ip -4 route show match "${CLUSTER_DNS_IP}" 2>/dev/null | grep -qv '^default'; then
    while :; do
      # shellcheck disable=SC2086
      out="$(${COREDNS_QUERY_VIA:-} bash -c "$(declare -f require_cmd dns_query die); dns_query '${CLUSTER_DNS_IP}' 53 'kubernetes.default.svc.${CLUSTER_DOMAIN}'" 2>&1 || true)"
      if [[ "${out}" == "NOERROR ${expect}" ]]; then
        log "Service kube-dns (${CLUSTER_DNS_IP}) answers too"
        return 0
      fi
      (( $(date +%s) < deadline )) || die "the CoreDNS pod answers but Service ${CLUSTER_DNS_IP}:53 does not (last: ${out}); check kube-proxy on the nodes"
      sleep 1
    done
  fi
}

HOST_TEST_PID="" HOST_TEST_TMP=""
host_test_cleanup() {
  [[ -z "${HOST_TEST_PID}" ]] || { kill "${HOST_TEST_PID}" 2>/dev/null; wait "${HOST_TEST_PID}" 2>/dev/null; }
  addon_kubectl delete namespace gp-coredns-test --ignore-not-found --wait=false >/dev/null 2>&1 || true
  [[ -z "${HOST_TEST_TMP}" ]] || rm -rf "${HOST_TEST_TMP}"
}

# Run CoreDNS as a host process against the API server, authenticated as the coredns
# ServiceAccount (token from the TokenRequest API), and check the answers.
do_host_test() {
  local tmp port server ca token rendered rc=0 out svc_ip t0 rss
  require_cmd python3 python3
  local bin
  do_images >/dev/null
  bin="${PLATFORM_CACHE}/coredns-${VERSION}/coredns"
  [[ -x "${bin}" ]] || die "no coredns binary at ${bin}"
  tmp="$(mktemp -d /tmp/gp-coredns-test.XXXXXX)"
  HOST_TEST_TMP="${tmp}"
  trap host_test_cleanup EXIT
  # Only the ServiceAccount and its RBAC: the Deployment is not needed here.
  rendered="$(do_render)"
  addon_kubectl create --dry-run=client -o json -f - <<<"${rendered}" \
    | jq -c 'if .kind == "List" then .items[] else . end | select(.kind | test("^(ServiceAccount|ClusterRole|ClusterRoleBinding)$"))' \
    | addon_kubectl apply --server-side --field-manager="${FIELD_MANAGER}" --force-conflicts -f - >&2
  token="$(addon_kubectl -n kube-system create token coredns --duration=10m)"
  server="$(addon_kubectl config view --minify --raw -o jsonpath='{.clusters[0].cluster.server}')"
  ca="$(addon_kubectl config view --minify --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')"
  cat > "${tmp}/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${server}", certificate-authority-data: "${ca}"}}]
users: [{name: coredns, user: {token: "${token}"}}]
contexts: [{name: coredns, context: {cluster: c, user: coredns}}]
current-context: coredns
EOF
  # A Service to find, in a namespace that goes away afterwards.
  addon_kubectl delete namespace gp-coredns-test --ignore-not-found --wait=true --timeout=60s >/dev/null
  addon_kubectl create namespace gp-coredns-test >/dev/null
  addon_kubectl -n gp-coredns-test create service clusterip web --tcp=80:8080 >/dev/null
  svc_ip="$(addon_kubectl -n gp-coredns-test get service web -o jsonpath='{.spec.clusterIP}')"
  port=$(( 20000 + RANDOM % 20000 ))
  local hport=$((port + 1)) rport=$((port + 2))
  # The cluster's Corefile, bound to loopback, authenticated by the kubeconfig.
  cat > "${tmp}/Corefile" <<EOF
${CLUSTER_DOMAIN}:${port} in-addr.arpa:${port} ip6.arpa:${port} {
    bind 127.0.0.1
    errors
    health 127.0.0.1:${hport}
    ready 127.0.0.1:${rport}
    kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {
        kubeconfig ${tmp}/kubeconfig coredns
        pods insecure
        ttl 30
    }
    cache 30
    loadbalance
}
EOF
  t0="$(now_ms)"
  "${bin}" -conf "${tmp}/Corefile" > "${tmp}/coredns.log" 2>&1 &
  local pid=$!
  HOST_TEST_PID="${pid}"
  local ready=""
  for _ in $(seq 1 100); do
    out="$(dns_query 127.0.0.1 "${port}" "kubernetes.default.svc.${CLUSTER_DOMAIN}" 2>/dev/null || true)"
    if [[ "${out}" == NOERROR\ * ]]; then ready=1; break; fi
    kill -0 "${pid}" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n "${ready}" ]] || { cat "${tmp}/coredns.log" >&2; die "coredns did not answer on 127.0.0.1:${port}"; }
  log "coredns answered after $(secs_since "${t0}") s (bound 127.0.0.1:${port}, kube API ${server} as system:serviceaccount:kube-system:coredns)"
  check() {
    local name="$1" type="$2" want="$3" got
    got="$(dns_query 127.0.0.1 "${port}" "${name}" "${type}" 2>&1 || true)"
    # shellcheck disable=SC2053 # want is a glob on purpose (NXDOMAIN*)
    if [[ "${got}" == ${want} ]]; then log "PASS ${type} ${name} -> ${got}"; else log "FAIL ${type} ${name} -> ${got} (want ${want})"; rc=1; fi
  }
  local kube_ip
  kube_ip="$(addon_kubectl -n default get service kubernetes -o jsonpath='{.spec.clusterIP}')"
  check "kubernetes.default.svc.${CLUSTER_DOMAIN}" A "NOERROR ${kube_ip}"
  check "web.gp-coredns-test.svc.${CLUSTER_DOMAIN}" A "NOERROR ${svc_ip}"
  check "missing.gp-coredns-test.svc.${CLUSTER_DOMAIN}" A "NXDOMAIN*"
  check "$(awk -F. '{print $4"."$3"."$2"."$1}' <<<"${kube_ip}").in-addr.arpa" PTR "NOERROR type12"
  check "pypi.org" A "REFUSED*"
  local code
  for code in "health:${hport}" "ready:${rport}"; do
    if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:${code#*:}/${code%%:*}', timeout=2)" 2>/dev/null; then
      log "PASS /${code%%:*} answers 200"
    else
      log "FAIL /${code%%:*} on 127.0.0.1:${code#*:}"; rc=1
    fi
  done
  # A Service created after start appears through the watch.
  addon_kubectl -n gp-coredns-test create service clusterip late --tcp=80:8080 >/dev/null
  local late_ip; late_ip="$(addon_kubectl -n gp-coredns-test get service late -o jsonpath='{.spec.clusterIP}')"
  t0="$(now_ms)"
  for _ in $(seq 1 50); do
    [[ "$(dns_query 127.0.0.1 "${port}" "late.gp-coredns-test.svc.${CLUSTER_DOMAIN}" 2>/dev/null)" == "NOERROR ${late_ip}" ]] && break
    sleep 0.1
  done
  check "late.gp-coredns-test.svc.${CLUSTER_DOMAIN}" A "NOERROR ${late_ip}"
  log "a new Service resolved $(secs_since "${t0}") s after its creation"
  if grep -qiE 'forbidden|unauthorized' "${tmp}/coredns.log"; then
    log "FAIL coredns logged RBAC errors:"; grep -iE 'forbidden|unauthorized' "${tmp}/coredns.log" | head -n 5 >&2; rc=1
  else
    log "PASS no RBAC errors in the coredns log with the least-privilege ClusterRole"
  fi
  rss="$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/${pid}/status")"
  log "coredns RSS ${rss} MiB"
  [[ ${rc} -eq 0 ]] || { cat "${tmp}/coredns.log" >&2; die "host test failed"; }
  printf 'coredns host-test: PASS (RSS %s MiB)\n' "${rss}"
}

if [[ "${1:-}" == host-test ]]; then
  do_host_test
else
  addon_main "$@"
fi
