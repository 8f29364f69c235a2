#!/usr/bin/env bash
# A real Kubernetes control plane on loopback, without Docker or a kubelet:
#   etcd + kube-apiserver (TLS, RBAC, admission) + kube-controller-manager
#   + kube-scheduler + kwok (fake kubelet for 2 fake nodes).
#
# Usage: platform/cluster.sh start|stop|status|stats|env|logs [component]
#
# Env:
#   PLATFORM_STATE   state dir (default /tmp/golden-path-platform): kubeconfig, pki, logs
#   PLATFORM_CACHE   binary cache root (see kubernetes/build.sh)
#   KUBE_BIN_DIR use binaries from this dir instead of building
#   KUBE_APISERVER_PORT, KUBE_ETCD_PORT  fixed ports (default: pick free ones)
#   KUBE_KEEP_STATE=1    `stop` keeps the state dir (logs) instead of deleting it
#   KUBE_START_TIMEOUT   seconds to wait for each component (default 90)
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STATE="${PLATFORM_STATE}"
PKI="${STATE}/pki"
LOGS="${STATE}/logs"
PIDS="${STATE}/pids"
KUBECONFIG_OUT="${STATE}/kubeconfig"
# Who called the API server (control-plane/audit-policy.yaml), JSON lines.
AUDIT_LOG="${LOGS}/audit.log"
TIMEOUT="${KUBE_START_TIMEOUT:-90}"
SERVICE_CIDR="10.96.0.0/16"
POD_CIDR="10.244.0.0/16"
# Start order; stop goes in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
FAKE_NODES=(kwok-node-0 kwok-node-1)

usage() {
  cat >&2 <<EOF
usage: $0 start|stop|status|stats|env|logs [component]
  start   build-or-reuse binaries, start etcd, kube-apiserver, kube-controller-manager,
          kube-scheduler and kwok on 127.0.0.1, wait until ready, write ${KUBECONFIG_OUT}
  stop    stop every component and delete ${STATE} (KUBE_KEEP_STATE=1 keeps it)
  status  show which components run and whether /readyz answers (exit 1 if not all up)
  stats   start-up time and memory (RSS, peak RSS) of each component
  env     print 'export KUBECONFIG=... KUBE_AUDIT_LOG=...' (use: eval "\$($0 env)");
          the audit log records every API request of non-control-plane clients
  logs    print the tail of each component log (or of one component)
EOF
  exit 2
}

pid_of() { [[ -f "${PIDS}/$1.pid" ]] && cat "${PIDS}/$1.pid"; }
alive() { local p; p="$(pid_of "$1" 2>/dev/null)" && [[ -n "${p}" ]] && kill -0 "${p}" 2>/dev/null; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A free loopback port: the given one (error if busy) or a random free one.
pick_port() {
  local want="$1" what="$2" p i
  if [[ -n "${want}" ]]; then
    port_in_use "${want}" && die "port ${want} for ${what} is already in use on 127.0.0.1; free it or unset the variable to let the script pick a free port"
    printf '%s\n' "${want}"; return
  fi
  for i in $(seq 1 200); do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    if ! port_in_use "${p}" && ! grep -qx "${p}" "${STATE}/.ports-taken" 2>/dev/null; then
      printf '%s\n' "${p}" >> "${STATE}/.ports-taken"
      printf '%s\n' "${p}"; return
    fi
  done
  die "could not find a free port for ${what}"
}

tail_log() {
  local c="$1" n="${2:-40}"
  if [[ -f "${LOGS}/${c}.log" ]]; then
    printf -- '----- last %s lines of %s -----\n' "${n}" "${LOGS}/${c}.log" >&2
    tail -n "${n}" "${LOGS}/${c}.log" >&2
  fi
}

fail_component() {
  local c="$1"; shift
  printf '[kube] ERROR: %s: %s\n' "${c}" "$*" >&2
  tail_log "${c}" 60
  printf '[kube] all logs: %s (stopping the partial cluster)\n' "${LOGS}" >&2
  KUBE_KEEP_STATE=1 stop_all >/dev/null 2>&1 || true
  exit 1
}

# ---------------------------------------------------------------- certificates
gen_pki() {
  mkdir -p "${PKI}"
  chmod 700 "${PKI}"
  gen_ca ca golden-path-portal-local-ca
  # Separate CA for the aggregation layer's front proxy (requestheader authentication),
  # as kubeadm sets it up; without it controllers log "missing content for CA bundle".
  gen_ca front-proxy-ca golden-path-portal-front-proxy-ca

  # name  subject  extendedKeyUsage  [subjectAltName]
  gen_cert apiserver "/CN=kube-apiserver" serverAuth \
    "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.96.0.1"
  gen_cert admin "/O=system:masters/CN=kube-admin" clientAuth
  gen_cert kube-controller-manager "/CN=system:kube-controller-manager" clientAuth
  gen_cert kube-scheduler "/CN=system:kube-scheduler" clientAuth
  # kwok runs as its own user, bound to a ClusterRole with only what a kubelet-like
  # status writer needs (kwok/kwok-rbac.yaml).
  gen_cert kwok "/CN=kwok-controller" clientAuth
  gen_cert apiserver-kubelet-client "/O=kubeadm:cluster-admins/CN=kube-apiserver-kubelet-client" clientAuth
  CA_NAME=front-proxy-ca gen_cert front-proxy-client "/CN=front-proxy-client" clientAuth

  # Service-account token signing key pair (ES256). ECDSA P-256 keys throughout: a
  # fraction of RSA's key-generation time, which matters on a busy 2-core CI machine.
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "${PKI}/sa.key" 2>/dev/null
  openssl pkey -in "${PKI}/sa.key" -pubout -out "${PKI}/sa.pub" 2>/dev/null
  chmod 600 "${PKI}"/*.key
}

gen_ca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 30 \
    -keyout "${PKI}/$1.key" -out "${PKI}/$1.crt" -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
}

gen_cert() {
  local name="$1" subj="$2" eku="$3" san="${4:-}" ca="${CA_NAME:-ca}"
  local ext="${PKI}/${name}.ext"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    echo "extendedKeyUsage=${eku}"
    [[ -n "${san}" ]] && echo "subjectAltName=${san}"
  } > "${ext}"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -keyout "${PKI}/${name}.key" \
    -out "${PKI}/${name}.csr" -subj "${subj}" 2>/dev/null
  openssl x509 -req -sha256 -days 30 -in "${PKI}/${name}.csr" -CA "${PKI}/${ca}.crt" -CAkey "${PKI}/${ca}.key" \
    -CAcreateserial -out "${PKI}/${name}.crt" -extfile "${ext}" 2>/dev/null
  rm -f "${PKI}/${name}.csr" "${ext}"
}

b64() { base64 -w0 < "$1"; }

write_kubeconfig() {
  local file="$1" user="$2" server="$3"
  umask 077
  cat > "${file}" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: ${server}
    certificate-authority-data: $(b64 "${PKI}/ca.crt")
users:
- name: ${user}
  user:
    client-certificate-data: $(b64 "${PKI}/${user}.crt")
    client-key-data: $(b64 "${PKI}/${user}.key")
contexts:
- name: local
  context:
    cluster: local
    user: ${user}
current-context: local
EOF
}

# ---------------------------------------------------------------- processes
launch() {
  local name="$1"; shift
  # setsid: each component leads its own process group, so stop can signal the group.
  setsid "$@" > "${LOGS}/${name}.log" 2>&1 < /dev/null &
  echo $! > "${PIDS}/${name}.pid"
}

wait_for() {
  local name="$1" what="$2"; shift 2
  local deadline=$(( $(date +%s) + TIMEOUT ))
  until "$@" >/dev/null 2>&1; do
    alive "${name}" || fail_component "${name}" "process exited while waiting for ${what}"
    (( $(date +%s) < deadline )) || fail_component "${name}" "timed out after ${TIMEOUT}s waiting for ${what}"
    sleep 0.3
  done
}

api() { # api PATH -> GET with the admin client cert
  curl -fsS --max-time 5 --cacert "${PKI}/ca.crt" --cert "${PKI}/admin.crt" --key "${PKI}/admin.key" \
    "https://127.0.0.1:${API_PORT}$1"
}

secure_healthz() { # secure_healthz PORT -> the component's own /healthz over TLS
  curl -fsSk --max-time 3 "https://127.0.0.1:$1/healthz"
}

kubectl_admin() { "${BIN}/kubectl" --kubeconfig "${KUBECONFIG_OUT}" "$@"; }

start_all() {
  if [[ -f "${STATE}/ports.env" ]] && alive kube-apiserver && alive etcd; then
    # shellcheck disable=SC1091
    source "${STATE}/ports.env"
    if api /readyz >/dev/null 2>&1; then
      log "cluster already running (kube-apiserver https://127.0.0.1:${API_PORT})"
      print_env_hint
      return 0
    fi
  fi
  # Leftovers of a crashed or half-stopped run: clear them.
  if [[ -d "${STATE}" ]]; then
    stop_all >/dev/null 2>&1 || true
  fi

  BIN="$(bash "${PLATFORM_DIR}/kubernetes/build.sh")"
  local b
  for b in "${KUBE_BINARIES[@]}"; do
    [[ -x "${BIN}/${b}" ]] || die "missing ${BIN}/${b}; run platform/kubernetes/build.sh"
  done
  command -v openssl >/dev/null || die "openssl is required to create the cluster's certificates (apt-get install -y openssl)"
  command -v curl >/dev/null || die "curl is required to probe the API server (apt-get install -y curl)"

  local t0; t0=$(date +%s.%N)
  mkdir -p "${STATE}" "${LOGS}" "${PIDS}" "${STATE}/etcd"
  chmod 700 "${STATE}" "${STATE}/etcd"
  : > "${STATE}/.ports-taken"

  # Nothing runs yet: on a port problem just remove the fresh state dir.
  ETCD_PORT="$(pick_port "${KUBE_ETCD_PORT:-}" etcd)" || { rm -rf "${STATE}"; exit 1; }
  ETCD_PEER_PORT="$(pick_port "" etcd-peer)" || { rm -rf "${STATE}"; exit 1; }
  API_PORT="$(pick_port "${KUBE_APISERVER_PORT:-}" kube-apiserver)" || { rm -rf "${STATE}"; exit 1; }
  KCM_PORT="$(pick_port "" kube-controller-manager)" || { rm -rf "${STATE}"; exit 1; }
  SCHED_PORT="$(pick_port "" kube-scheduler)" || { rm -rf "${STATE}"; exit 1; }
  KWOK_PORT="$(pick_port "" kwok)" || { rm -rf "${STATE}"; exit 1; }
  cat > "${STATE}/ports.env" <<EOF
BIN=${BIN}
ETCD_PORT=${ETCD_PORT}
ETCD_PEER_PORT=${ETCD_PEER_PORT}
API_PORT=${API_PORT}
KCM_PORT=${KCM_PORT}
SCHED_PORT=${SCHED_PORT}
KWOK_PORT=${KWOK_PORT}
EOF

  gen_pki
  local server="https://127.0.0.1:${API_PORT}"
  write_kubeconfig "${KUBECONFIG_OUT}" admin "${server}"
  write_kubeconfig "${STATE}/kube-controller-manager.kubeconfig" kube-controller-manager "${server}"
  write_kubeconfig "${STATE}/kube-scheduler.kubeconfig" kube-scheduler "${server}"
  write_kubeconfig "${STATE}/kwok.kubeconfig" kwok "${server}"

  # etcd: loopback only, plain HTTP on 127.0.0.1 (the API server is its only client).
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
  wait_for etcd "etcd /health" curl -fsS --max-time 2 "http://127.0.0.1:${ETCD_PORT}/health"

  launch kube-apiserver "${BIN}/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:${ETCD_PORT}" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="${API_PORT}" \
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
    --authorization-mode=Node,RBAC \
    --anonymous-auth=true \
    --enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,ResourceQuota,DefaultStorageClass,DefaultTolerationSeconds,NodeRestriction,PodSecurity,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ValidatingAdmissionPolicy,Priority,RuntimeClass \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="${PKI}/sa.pub" \
    --service-account-signing-key-file="${PKI}/sa.key" \
    --service-cluster-ip-range="${SERVICE_CIDR}" \
    --allow-privileged=false \
    --profiling=false \
    --endpoint-reconciler-type=none \
    --audit-policy-file="${PLATFORM_DIR}/control-plane/audit-policy.yaml" \
    --audit-log-path="${AUDIT_LOG}" --audit-log-format=json --audit-log-mode=blocking \
    --audit-log-maxsize=500 --audit-log-maxbackup=1 \
    --v=1
  wait_for kube-apiserver "/readyz" api /readyz
  local t_readyz; t_readyz=$(date +%s.%N)

  # Give kwok (the fake kubelet) its least-privileged role before it starts.
  kubectl_admin apply -f "${PLATFORM_DIR}/kwok/kwok-rbac.yaml" > "${LOGS}/bootstrap.log" 2>&1 \
    || { cat "${LOGS}/bootstrap.log" >&2; fail_component kube-apiserver "could not apply kwok RBAC"; }

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
  launch kube-scheduler "${BIN}/kube-scheduler" \
    --kubeconfig="${STATE}/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig="${STATE}/kube-scheduler.kubeconfig" \
    --authorization-kubeconfig="${STATE}/kube-scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="${SCHED_PORT}" \
    --cert-dir="${STATE}/scheduler-certs" \
    --leader-elect=false \
    --profiling=false \
    --v=1
  launch kwok "${BIN}/kwok" \
    --kubeconfig="${STATE}/kwok.kubeconfig" \
    --config="${BIN}/kwok-stages.yaml" \
    --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --cidr="${POD_CIDR}" \
    --node-ip=127.0.0.1 \
    --node-lease-duration-seconds=40 \
    --server-address="127.0.0.1:${KWOK_PORT}"

  wait_for kube-controller-manager "its /healthz" secure_healthz "${KCM_PORT}"
  wait_for kube-scheduler "its /healthz" secure_healthz "${SCHED_PORT}"
  wait_for kwok "its /healthz" curl -fsS --max-time 2 "http://127.0.0.1:${KWOK_PORT}/healthz"

  create_fake_nodes
  wait_for kwok "nodes to become Ready" nodes_ready
  # The ServiceAccount controller creates 'default' in every namespace; pods need it.
  wait_for kube-controller-manager "the default ServiceAccount" api /api/v1/namespaces/default/serviceaccounts/default

  local t1; t1=$(date +%s.%N)
  local readyz_s ready_s
  readyz_s="$(awk -v a="${t0}" -v b="${t_readyz}" 'BEGIN{printf "%.1f", b-a}')"
  ready_s="$(awk -v a="${t0}" -v b="${t1}" 'BEGIN{printf "%.1f", b-a}')"
  printf 'apiserver_readyz_seconds=%s\nall_ready_seconds=%s\n' "${readyz_s}" "${ready_s}" > "${STATE}/start-time"
  log "control plane ready in ${ready_s} s (kube-apiserver /readyz after ${readyz_s} s): Kubernetes $("${BIN}/kube-apiserver" --version | awk '{print $2}'), ${#FAKE_NODES[@]} kwok nodes"
  print_env_hint
}

create_fake_nodes() {
  local n
  for n in "${FAKE_NODES[@]}"; do
    kubectl_admin apply -f - >> "${LOGS}/bootstrap.log" 2>&1 <<EOF || fail_component kwok "could not create fake node ${n}"
apiVersion: v1
kind: Node
metadata:
  name: ${n}
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: ${n}
    kubernetes.io/os: linux
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: ""
    type: kwok
spec: {}
status:
  allocatable: {cpu: "8", memory: 32Gi, pods: "110"}
  capacity: {cpu: "8", memory: 32Gi, pods: "110"}
  phase: Running
EOF
  done
}

nodes_ready() {
  local ready
  ready="$(kubectl_admin get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$' || true)"
  [[ "${ready}" -ge "${#FAKE_NODES[@]}" ]]
}

print_env_hint() {
  cat >&2 <<EOF
[kube] kubeconfig (admin, system:masters): ${KUBECONFIG_OUT}
[kube] use it:   export KUBECONFIG=${KUBECONFIG_OUT}
[kube]           ${BIN:-<bin>}/kubectl get nodes
[kube] stop it:  platform/cluster.sh stop
EOF
}

stop_all() {
  local i c p deadline
  # One at a time, in reverse start order: the API server drains its requests while
  # etcd still answers (stopped together, it waits on etcd until it is killed).
  for (( i=${#COMPONENTS[@]}-1; i>=0; i-- )); do
    c="${COMPONENTS[i]}"
    p="$(pid_of "${c}" 2>/dev/null || true)"
    [[ -n "${p}" ]] || continue
    if kill -0 "${p}" 2>/dev/null; then
      # Each component leads its own process group (setsid): signal the group.
      kill -TERM -- "-${p}" 2>/dev/null || kill -TERM "${p}" 2>/dev/null || true
    fi
    deadline=$(( $(date +%s) + 15 ))
    while kill -0 "${p}" 2>/dev/null && (( $(date +%s) < deadline )); do sleep 0.1; done
    if kill -0 "${p}" 2>/dev/null; then
      log "${c} (pid ${p}) ignored SIGTERM for 15 s; sending SIGKILL"
      kill -KILL -- "-${p}" 2>/dev/null || kill -KILL "${p}" 2>/dev/null || true
    fi
    rm -f "${PIDS}/${c}.pid"
  done
  if [[ "${KUBE_KEEP_STATE:-0}" == 1 ]]; then
    rm -rf "${STATE}/etcd" "${PKI}"
    log "stopped; logs kept in ${LOGS}"
  else
    rm -rf "${STATE}"
    log "stopped; removed ${STATE}"
  fi
}

# Resident memory of the control plane: current (VmRSS) and peak (VmHWM), summed.
stats_all() {
  local c p rss hwm total_rss=0 total_hwm=0
  [[ -f "${STATE}/start-time" ]] && sed 's/=/: /; s/$/ s/' "${STATE}/start-time"
  for c in "${COMPONENTS[@]}"; do
    alive "${c}" || continue
    p="$(pid_of "${c}")"
    rss="$(awk '/^VmRSS:/ {print $2}' "/proc/${p}/status" 2>/dev/null || echo 0)"
    hwm="$(awk '/^VmHWM:/ {print $2}' "/proc/${p}/status" 2>/dev/null || echo 0)"
    printf '%-24s rss %6d MiB  peak %6d MiB\n' "${c}" $((rss / 1024)) $((hwm / 1024))
    total_rss=$((total_rss + rss)); total_hwm=$((total_hwm + hwm))
  done
  printf '%-24s rss %6d MiB  peak %6d MiB (sum of per-process peaks)\n' total $((total_rss / 1024)) $((total_hwm / 1024))
}

status_all() {
  local c rc=0
  # shellcheck disable=SC1091
  [[ -f "${STATE}/ports.env" ]] && source "${STATE}/ports.env"
  for c in "${COMPONENTS[@]}"; do
    if alive "${c}"; then
      printf '%-24s running (pid %s)\n' "${c}" "$(pid_of "${c}")"
    else
      printf '%-24s stopped\n' "${c}"; rc=1
    fi
  done
  if [[ -n "${API_PORT:-}" ]] && api /readyz >/dev/null 2>&1; then
    printf '%-24s ok (https://127.0.0.1:%s)\n' "readyz" "${API_PORT}"
  else
    printf '%-24s not answering\n' "readyz"; rc=1
  fi
  return "${rc}"
}

case "${1:-}" in
  start) start_all ;;
  stop) stop_all ;;
  status) status_all ;;
  stats) stats_all ;;
  env)
    [[ -f "${KUBECONFIG_OUT}" ]] || die "no cluster state at ${STATE}; run: platform/cluster.sh start"
    printf 'export KUBECONFIG=%q\n' "${KUBECONFIG_OUT}"
    printf 'export KUBE_AUDIT_LOG=%q\n' "${AUDIT_LOG}"
    ;;
  logs)
    if [[ -n "${2:-}" ]]; then tail_log "$2" 200; else for c in "${COMPONENTS[@]}"; do tail_log "${c}" 30; done; fi
    ;;
  *) usage ;;
esac
