#!/usr/bin/env bash
# The control plane: etcd + kube-apiserver (TLS, RBAC, Node authorizer, NodeRestriction,
# PodSecurity, audit log) + kube-controller-manager + kube-scheduler.
#
# Usage (normally through platform/cluster.sh):
#   control-plane.sh start   needs BIN (binary dir) and NODES (real nodes that follow)
#   control-plane.sh stop
#
# Listens on 127.0.0.1, except the API server when real nodes run: they live in their
# own network namespaces and cannot reach the host's loopback, so it listens on the
# host's side of the node network (${NODE_NET_HOST_IP}) and advertises that address
# (the `kubernetes` Service of the pods points at it). Never on 0.0.0.0.
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=platform/lib/pki.sh
source "${PLATFORM_DIR}/lib/pki.sh"

HERE="${PLATFORM_DIR}/control-plane"
# Who called the API server (audit-policy.yaml), JSON lines.
AUDIT_LOG="${LOGS}/audit.log"
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler)

api() { # api PATH -> GET with the admin client cert
  curl -fsS --max-time 5 --cacert "${PKI}/ca.crt" --cert "${PKI}/admin.crt" --key "${PKI}/admin.key" \
    "https://${API_HOST}:${API_PORT}$1"
}

secure_healthz() { curl -fsSk --max-time 3 "https://127.0.0.1:$1/healthz"; }

gen_pki() {
  mkdir -p "${PKI}"
  chmod 700 "${PKI}"
  gen_ca ca golden-path-portal-local-ca
  # Separate CA for the aggregation layer's front proxy (requestheader authentication),
  # as kubeadm sets it up; without it controllers log "missing content for CA bundle".
  gen_ca front-proxy-ca golden-path-portal-front-proxy-ca

  gen_cert apiserver "/CN=kube-apiserver" serverAuth \
    "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.${CLUSTER_DOMAIN},IP:127.0.0.1,IP:${KUBERNETES_SERVICE_IP},IP:${NODE_NET_HOST_IP}"
  gen_cert admin "/O=system:masters/CN=kube-admin" clientAuth
  gen_cert kube-controller-manager "/CN=system:kube-controller-manager" clientAuth
  gen_cert kube-scheduler "/CN=system:kube-scheduler" clientAuth
  # The API server's identity towards kubelets (logs, exec, port-forward); bound to
  # system:kubelet-api-admin in rbac.yaml.
  gen_cert apiserver-kubelet-client "/CN=kube-apiserver-kubelet-client" clientAuth
  CA_NAME=front-proxy-ca gen_cert front-proxy-client "/CN=front-proxy-client" clientAuth

  # Service-account token signing key pair (ES256).
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "${PKI}/sa.key" 2>/dev/null
  openssl pkey -in "${PKI}/sa.key" -pubout -out "${PKI}/sa.pub" 2>/dev/null
  chmod 600 "${PKI}"/*.key
}

start_etcd() {
  # Plain HTTP on 127.0.0.1: the API server is its only client.
  launch etcd "${BIN}/etcd" \
    --name=etcd0 --data-dir="${STATE}/etcd" \
    --listen-client-urls="http://127.0.0.1:${ETCD_PORT}" \
    --advertise-client-urls="http://127.0.0.1:${ETCD_PORT}" \
    --listen-peer-urls="http://127.0.0.1:${ETCD_PEER_PORT}" \
    --initial-advertise-peer-urls="http://127.0.0.1:${ETCD_PEER_PORT}" \
    --initial-cluster="etcd0=http://127.0.0.1:${ETCD_PEER_PORT}" \
    --initial-cluster-state=new \
    --unsafe-no-fsync=true \
    --quota-backend-bytes=$((512 * 1024 * 1024)) \
    --log-level=warn
}
etcd_ready() { curl -fsS --max-time 2 "http://127.0.0.1:${ETCD_PORT}/health"; }

start_apiserver() {
  local reconciler=none
  # The lease reconciler publishes --advertise-address in the `kubernetes` Service's
  # endpoints; pods reach the API server through it. A loopback address cannot be
  # published, so without real nodes nothing is (as before).
  [[ "${API_HOST}" == "${NODE_NET_HOST_IP}" ]] && reconciler=lease
  launch kube-apiserver "${BIN}/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:${ETCD_PORT}" \
    --bind-address="${API_HOST}" --advertise-address="${API_HOST}" --secure-port="${API_PORT}" \
    --cert-dir="${PKI}" \
    --tls-cert-file="${PKI}/apiserver.crt" --tls-private-key-file="${PKI}/apiserver.key" \
    --client-ca-file="${PKI}/ca.crt" \
    --requestheader-client-ca-file="${PKI}/front-proxy-ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User \
    --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="${PKI}/front-proxy-client.crt" \
    --proxy-client-key-file="${PKI}/front-proxy-client.key" \
    --kubelet-client-certificate="${PKI}/apiserver-kubelet-client.crt" \
    --kubelet-client-key="${PKI}/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="${PKI}/ca.crt" \
    --kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname \
    --enable-aggregator-routing=true \
    --authorization-mode=Node,RBAC \
    --anonymous-auth=true \
    --enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,ResourceQuota,DefaultStorageClass,DefaultTolerationSeconds,NodeRestriction,PodSecurity,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ValidatingAdmissionPolicy,Priority,RuntimeClass \
    --service-account-issuer=https://kubernetes.default.svc.${CLUSTER_DOMAIN} \
    --service-account-key-file="${PKI}/sa.pub" \
    --service-account-signing-key-file="${PKI}/sa.key" \
    --service-cluster-ip-range="${SERVICE_CIDR}" \
    --allow-privileged=false \
    --profiling=false \
    --endpoint-reconciler-type="${reconciler}" \
    --audit-policy-file="${HERE}/audit-policy.yaml" \
    --audit-log-path="${AUDIT_LOG}" --audit-log-format=json --audit-log-mode=blocking \
    --audit-log-maxsize=500 --audit-log-maxbackup=1 \
    --v=1
}

start_kcm() {
  launch kube-controller-manager "${BIN}/kube-controller-manager" \
    --kubeconfig="${STATE}/kube-controller-manager.kubeconfig" \
    --authentication-kubeconfig="${STATE}/kube-controller-manager.kubeconfig" \
    --authorization-kubeconfig="${STATE}/kube-controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="${KCM_PORT}" \
    --cert-dir="${STATE}/kcm-certs" \
    --service-account-private-key-file="${PKI}/sa.key" \
    --root-ca-file="${PKI}/ca.crt" \
    --cluster-signing-cert-file="${PKI}/ca.crt" --cluster-signing-key-file="${PKI}/ca.key" \
    --use-service-account-credentials=true \
    --controllers='*' \
    --service-cluster-ip-range="${SERVICE_CIDR}" \
    --leader-elect=false \
    --profiling=false \
    --v=1
}
kcm_ready() { secure_healthz "${KCM_PORT}"; }

start_scheduler() {
  launch kube-scheduler "${BIN}/kube-scheduler" \
    --kubeconfig="${STATE}/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig="${STATE}/kube-scheduler.kubeconfig" \
    --authorization-kubeconfig="${STATE}/kube-scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="${SCHED_PORT}" \
    --cert-dir="${STATE}/scheduler-certs" \
    --leader-elect=false \
    --profiling=false \
    --v=1
}
scheduler_ready() { secure_healthz "${SCHED_PORT}"; }

start() {
  [[ -n "${BIN:-}" ]] || die "BIN (the Kubernetes binary dir) is not set; start the cluster with platform/cluster.sh start"
  local t0 t_readyz t1
  t0=$(date +%s.%N)
  mkdir -p "${STATE}/etcd" "${LOGS}" "${PIDS}"
  chmod 700 "${STATE}" "${STATE}/etcd"

  if (( ${NODES:-0} > 0 )); then API_HOST="${NODE_NET_HOST_IP}"; else API_HOST=127.0.0.1; fi
  set_port API_HOST "${API_HOST}"
  set_port ETCD_PORT "$(pick_port "${KUBE_ETCD_PORT:-}" etcd)"
  set_port ETCD_PEER_PORT "$(pick_port "" etcd-peer)"
  set_port API_PORT "$(pick_port "${KUBE_APISERVER_PORT:-}" kube-apiserver)"
  set_port KCM_PORT "$(pick_port "" kube-controller-manager)"
  set_port SCHED_PORT "$(pick_port "" kube-scheduler)"

  gen_pki
  launch_on_port etcd "ETCD_PORT ETCD_PEER_PORT" start_etcd etcd_ready
  # A fixed KUBE_APISERVER_PORT is not re-picked: the caller asked for that port.
  launch_on_port kube-apiserver "$([[ -z "${KUBE_APISERVER_PORT:-}" ]] && echo API_PORT)" start_apiserver api /readyz
  # Written once the port is final (a retry may have picked another one).
  local server="https://${API_HOST}:${API_PORT}"
  write_kubeconfig "${KUBECONFIG_OUT}" admin "${server}"
  write_kubeconfig "${STATE}/kube-controller-manager.kubeconfig" kube-controller-manager "${server}"
  write_kubeconfig "${STATE}/kube-scheduler.kubeconfig" kube-scheduler "${server}"
  t_readyz=$(date +%s.%N)

  kubectl_admin apply -f "${HERE}/rbac.yaml" >> "${LOGS}/bootstrap.log" 2>&1 \
    || { cat "${LOGS}/bootstrap.log" >&2; fail kube-apiserver "could not apply control-plane/rbac.yaml"; }

  launch_on_port kube-controller-manager KCM_PORT start_kcm kcm_ready
  launch_on_port kube-scheduler SCHED_PORT start_scheduler scheduler_ready
  # The ServiceAccount controller creates 'default' in every namespace; pods need it.
  wait_for kube-controller-manager "the default ServiceAccount" api /api/v1/namespaces/default/serviceaccounts/default

  t1=$(date +%s.%N)
  printf 'apiserver_readyz_seconds=%s\ncontrol_plane_ready_seconds=%s\n' \
    "$(elapsed "${t0}" "${t_readyz}")" "$(elapsed "${t0}" "${t1}")" >> "${STATE}/start-time"
  log "control plane ready in $(elapsed "${t0}" "${t1}") s (kube-apiserver ${server}, /readyz after $(elapsed "${t0}" "${t_readyz}") s)"
}

stop() {
  local i
  # One at a time, in reverse start order: the API server drains its requests while
  # etcd still answers (stopped together, it waits on etcd until it is killed).
  for (( i=${#COMPONENTS[@]}-1; i>=0; i-- )); do stop_process "${COMPONENTS[i]}"; done
}

case "${1:-}" in
  start) load_ports; start ;;
  stop) stop ;;
  components) printf '%s\n' "${COMPONENTS[@]}" ;;
  *) die "usage: $0 start|stop|components" ;;
esac
