#!/usr/bin/env bash
# local-path-provisioner: default StorageClass "local-path" (WaitForFirstConsumer), each
# volume a folder under the node's own storage folder; images built here (provisioner
# from Go modules, helper pods = the platform's busybox image).
#
# usage: platform/local-path-provisioner/addon.sh images|apply|wait [timeout s]|validate|render|delete
#   images     build or reuse the images; print their OCI archive paths (provisioner, busybox)
#   apply      server-side apply (KUBECONFIG from the environment)
#   wait       until the provisioner runs and a test PVC binds, a restricted pod writes to
#              it on a real node, and the volume is removed again with its claim
#   validate   server-side dry run + Pod Security "restricted" for the provisioner; changes nothing
#   render     the manifests with placeholders filled
#   delete     remove what apply created (volumes of existing claims stay on disk)
#   host-test  no node needed: run the provisioner on the host with its ServiceAccount's
#              token against a cluster with KWOK nodes; a claim for a pod on a KWOK node
#              gets a PV, and deleting it deletes the PV (KWOK never finishes pods, so the
#              test marks each helper pod Succeeded itself, and checks its spec)
#
# Where volumes live, per node (the cluster script says; nothing is guessed):
#   LOCAL_PATH_NODE_PATHS   "node-0=/abs/dir node-1=/abs/dir ..." (node name = Node object)
#   LOCAL_PATH_DEFAULT_PATH optional folder for nodes not listed (KWOK nodes are never
#                           listed: their claims then fail to provision, as they should)
# Without either, the running cluster's real nodes are used when platform/lib.sh knows
# them (running_nodes, node_name, node_dir): <node dir>/local-path-provisioner.
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=platform/images/lib-images.sh
source "${PLATFORM_DIR}/images/lib-images.sh"
# shellcheck source=platform/images/lib-addon.sh
source "${PLATFORM_DIR}/images/lib-addon.sh"

DIR="${PLATFORM_DIR}/local-path-provisioner"
VERSION="$(go_mod_version "${DIR}" github.com/rancher/local-path-provisioner)"
# shellcheck disable=SC2034 # read by name in fill_placeholders
LOCAL_PATH_PROVISIONER_IMAGE="${IMAGE_PREFIX}/local-path-provisioner:${VERSION}"
BUSYBOX_IMAGE="$("${PLATFORM_DIR}/images/build.sh" --ref busybox)"

do_images() {
  "${DIR}/build.sh"
  "${PLATFORM_DIR}/images/build.sh" busybox
}

node_paths() {
  if [[ -n "${LOCAL_PATH_NODE_PATHS:-}" || -n "${LOCAL_PATH_DEFAULT_PATH:-}" ]]; then
    printf '%s\n' "${LOCAL_PATH_NODE_PATHS:-}"
    return 0
  fi
  if declare -F running_nodes >/dev/null && declare -F node_dir >/dev/null && declare -F node_name >/dev/null; then
    local n i out=""
    n="$(running_nodes)"
    if (( n > 0 )); then
      for ((i = 0; i < n; i++)); do out+="$(node_name "${i}")=$(node_dir "${i}")/local-path-provisioner "; done
      printf '%s\n' "${out% }"
      return 0
    fi
  fi
  die "set LOCAL_PATH_NODE_PATHS=\"<node>=<absolute dir> ...\" (or LOCAL_PATH_DEFAULT_PATH): where each node keeps its volumes"
}

# config.json of the provisioner (nodePathMap), indented for the ConfigMap.
config_json() {
  local pair node path first=1
  printf '{\n  "nodePathMap": [\n'
  for pair in $(node_paths); do
    node="${pair%%=*}" path="${pair#*=}"
    [[ "${pair}" == *=* && "${node}" =~ ^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$ ]] || die "LOCAL_PATH_NODE_PATHS entry '${pair}' is not <node name>=<dir>"
    [[ "${path}" =~ ^/[A-Za-z0-9._/-]+$ && "${path}" != / ]] || die "volume folder '${path}' for ${node} must be an absolute path (letters, digits, . _ - /) other than /"
    [[ ${first} == 1 ]] || printf ',\n'
    first=0
    printf '    {"node": "%s", "paths": ["%s"]}' "${node}" "${path}"
  done
  if [[ -n "${LOCAL_PATH_DEFAULT_PATH:-}" ]]; then
    [[ "${LOCAL_PATH_DEFAULT_PATH}" =~ ^/[A-Za-z0-9._/-]+$ && "${LOCAL_PATH_DEFAULT_PATH}" != / ]] || die "LOCAL_PATH_DEFAULT_PATH must be an absolute path other than /"
    [[ ${first} == 1 ]] || printf ',\n'
    printf '    {"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": ["%s"]}' "${LOCAL_PATH_DEFAULT_PATH}"
  fi
  printf '\n  ]\n}\n'
}

do_render() {
  local LOCAL_PATH_CONFIG_JSON
  # shellcheck disable=SC2034 # read by name in fill_placeholders
  LOCAL_PATH_CONFIG_JSON="$(config_json | indent 4)"
  fill_placeholders LOCAL_PATH_PROVISIONER_IMAGE BUSYBOX_IMAGE LOCAL_PATH_CONFIG_JSON < "${DIR}/manifests.yaml"
}

# A claim of the default class, a restricted pod on a real node that writes and reads
# it, then both deleted: the volume must go too (teardown helper pod, reclaim Delete).
do_wait() {
  local timeout="$1" deadline ns="gp-local-path-check" pv node t0
  deadline=$(( $(date +%s) + timeout ))
  wait_rollout local-path-storage local-path-provisioner "${timeout}"
  addon_kubectl delete namespace "${ns}" --ignore-not-found --wait=true --timeout=60s >/dev/null
  addon_kubectl apply --server-side --field-manager="${FIELD_MANAGER}" -f - >&2 <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: ${ns}
  labels:
    pod-security.kubernetes.io/enforce: restricted
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
  namespace: ${ns}
spec:
  accessModes: ["ReadWriteOnce"]
  resources:
    requests:
      storage: 16Mi
---
apiVersion: v1
kind: Pod
metadata:
  name: writer
  namespace: ${ns}
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
          - matchExpressions:
              - key: type
                operator: NotIn
                values: ["kwok"]
  securityContext:
    runAsNonRoot: true
    runAsUser: 65534
    runAsGroup: 65534
    seccompProfile:
      type: RuntimeDefault
  containers:
    - name: writer
      image: ${BUSYBOX_IMAGE}
      imagePullPolicy: Never
      command: ["sh", "-c", "echo written-by-\$(id -u) > /data/probe && cat /data/probe"]
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities:
          drop: ["ALL"]
      volumeMounts:
        - name: data
          mountPath: /data
  volumes:
    - name: data
      persistentVolumeClaim:
        claimName: data
EOF
  t0="$(now_ms)"
  until [[ "$(addon_kubectl -n "${ns}" get pvc data -o jsonpath='{.status.phase}')" == Bound ]]; do
    (( $(date +%s) < deadline )) || { addon_kubectl -n "${ns}" describe pvc data | tail -n 15 >&2; die "PVC ${ns}/data not Bound within ${timeout} s"; }
    sleep 1
  done
  log "PVC bound after $(secs_since "${t0}") s"
  until [[ "$(addon_kubectl -n "${ns}" get pod writer -o jsonpath='{.status.phase}')" == Succeeded ]]; do
    (( $(date +%s) < deadline )) || { addon_kubectl -n "${ns}" describe pod writer | tail -n 20 >&2; die "pod ${ns}/writer did not succeed within ${timeout} s"; }
    sleep 1
  done
  pv="$(addon_kubectl -n "${ns}" get pvc data -o jsonpath='{.spec.volumeName}')"
  node="$(addon_kubectl get pv "${pv}" -o jsonpath='{.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}')"
  log "pod wrote to ${pv} on ${node} ($(addon_kubectl get pv "${pv}" -o jsonpath='{.spec.hostPath.path}')): $(addon_kubectl -n "${ns}" logs writer 2>/dev/null || echo '(logs unavailable)')"
  addon_kubectl delete namespace "${ns}" --wait=true --timeout=120s >/dev/null
  until ! addon_kubectl get pv "${pv}" >/dev/null 2>&1; do
    (( $(date +%s) < deadline )) || die "PV ${pv} was not deleted after its claim (teardown helper pod failed?)"
    sleep 1
  done
  log "volume ${pv} deleted with its claim"
}

HOST_TEST_PID="" HOST_TEST_TMP=""
host_test_cleanup() {
  [[ -z "${HOST_TEST_PID}" ]] || { kill "${HOST_TEST_PID}" 2>/dev/null; wait "${HOST_TEST_PID}" 2>/dev/null; }
  addon_kubectl delete namespace gp-local-path-host-test --ignore-not-found --wait=false >/dev/null 2>&1 || true
  [[ -z "${HOST_TEST_TMP}" ]] || rm -rf "${HOST_TEST_TMP}"
}

# Everything but the Deployment is applied for real; the provisioner runs as a host
# process with the ServiceAccount's token, so its RBAC and the namespace's Pod Security
# level are what the API server checks.
do_host_test() {
  local tmp bin server ca token node ns=gp-local-path-host-test t0 pv hp rc=0 pid deadline
  bin="${PLATFORM_CACHE}/local-path-provisioner-${VERSION}/local-path-provisioner"
  "${DIR}/build.sh" >/dev/null
  [[ -x "${bin}" ]] || die "no local-path-provisioner binary at ${bin}"
  node="$(addon_kubectl get nodes -l type=kwok -o jsonpath='{.items[0].metadata.name}')"
  [[ -n "${node}" ]] || die "host-test needs a KWOK node (platform/cluster.sh start)"
  tmp="$(mktemp -d /tmp/gp-local-path-test.XXXXXX)"
  HOST_TEST_TMP="${tmp}"
  trap host_test_cleanup EXIT
  # The folder is never created: helper pods on a KWOK node do not run.
  LOCAL_PATH_NODE_PATHS="${node}=${tmp}/volumes" LOCAL_PATH_DEFAULT_PATH=""
  do_render > "${tmp}/rendered.yaml"
  addon_kubectl create --dry-run=client -o json -f "${tmp}/rendered.yaml" \
    | jq -c 'if .kind == "List" then .items[] else . end | select(.kind != "Deployment")' \
    | addon_kubectl apply --server-side --field-manager="${FIELD_MANAGER}" --force-conflicts -f - >&2
  addon_kubectl create --dry-run=client -o json -f "${tmp}/rendered.yaml" \
    | jq -r 'if .kind == "List" then .items[] else . end | select(.kind == "ConfigMap") | .data' > "${tmp}/data.json"
  jq -r '."config.json"' "${tmp}/data.json" > "${tmp}/config.json"
  jq -r '."helperPod.yaml"' "${tmp}/data.json" > "${tmp}/helperPod.yaml"
  token="$(addon_kubectl -n local-path-storage create token local-path-provisioner-service-account --duration=10m)"
  server="$(addon_kubectl config view --minify --raw -o jsonpath='{.clusters[0].cluster.server}')"
  ca="$(addon_kubectl config view --minify --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')"
  cat > "${tmp}/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${server}", certificate-authority-data: "${ca}"}}]
users: [{name: lpp, user: {token: "${token}"}}]
contexts: [{name: lpp, context: {cluster: c, user: lpp}}]
current-context: lpp
EOF
  CONFIG_MOUNT_PATH="${tmp}/" "${bin}" start --kubeconfig "${tmp}/kubeconfig" --namespace local-path-storage \
    --config "${tmp}/config.json" --helper-pod-file "${tmp}/helperPod.yaml" --helper-image "${BUSYBOX_IMAGE}" \
    > "${tmp}/provisioner.log" 2>&1 &
  pid=$!
  HOST_TEST_PID="${pid}"
  addon_kubectl delete namespace "${ns}" --ignore-not-found --wait=true --timeout=60s >/dev/null
  addon_kubectl apply --server-side --field-manager="${FIELD_MANAGER}" -f - >&2 <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: ${ns}, labels: {pod-security.kubernetes.io/enforce: restricted}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: ${ns}}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 16Mi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: user, namespace: ${ns}}
spec:
  nodeName: ${node}
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, runAsUser: 65534, seccompProfile: {type: RuntimeDefault}}
  containers:
    - name: c
      image: ${BUSYBOX_IMAGE}
      imagePullPolicy: Never
      command: ["sleep", "3600"]
      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
      volumeMounts: [{name: data, mountPath: /data}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
EOF
  # nodeName bypasses the scheduler, which is what sets selected-node for
  # WaitForFirstConsumer: set it as the scheduler would.
  addon_kubectl -n "${ns}" annotate pvc data "volume.kubernetes.io/selected-node=${node}" >/dev/null
  # succeed_helper <create|delete>: wait for the helper pod, check it, mark it Succeeded.
  succeed_helper() {
    local action="$1" name="" d=$(( $(date +%s) + 60 ))
    while [[ -z "${name}" ]]; do
      name="$(addon_kubectl -n local-path-storage get pods -o name | grep "helper-pod-${action}-" | head -n1 || true)"
      (( $(date +%s) < d )) || { cat "${tmp}/provisioner.log" >&2; die "no ${action} helper pod within 60 s"; }
      sleep 0.5
    done
    hp="$(addon_kubectl -n local-path-storage get "${name}" -o json)"
    log "helper pod ${name#pod/} on $(jq -r .spec.nodeName <<<"${hp}"): image $(jq -r '.spec.containers[0].image' <<<"${hp}"), hostPath $(jq -r '.spec.volumes[] | select(.hostPath) | .hostPath.path' <<<"${hp}"), token mounted: $(jq -r '.spec.automountServiceAccountToken' <<<"${hp}"), args $(jq -c '.spec.containers[0].args' <<<"${hp}")"
    [[ "$(jq -r '.spec.containers[0].image' <<<"${hp}")" == "${BUSYBOX_IMAGE}" ]] || { log "FAIL helper image"; rc=1; }
    [[ "$(jq -r .spec.nodeName <<<"${hp}")" == "${node}" ]] || { log "FAIL helper node"; rc=1; }
    addon_kubectl -n local-path-storage patch "${name}" --subresource=status --type=merge \
      -p '{"status":{"phase":"Succeeded"}}' >/dev/null
  }
  t0="$(now_ms)"
  succeed_helper create
  deadline=$(( $(date +%s) + 60 ))
  until [[ "$(addon_kubectl -n "${ns}" get pvc data -o jsonpath='{.status.phase}')" == Bound ]]; do
    (( $(date +%s) < deadline )) || { cat "${tmp}/provisioner.log" >&2; die "PVC not Bound"; }
    sleep 0.5
  done
  pv="$(addon_kubectl -n "${ns}" get pvc data -o jsonpath='{.spec.volumeName}')"
  log "PASS PVC Bound to ${pv} in $(secs_since "${t0}") s: $(addon_kubectl get pv "${pv}" -o jsonpath='{.spec.storageClassName} {.spec.hostPath.path} node={.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]} reclaim={.spec.persistentVolumeReclaimPolicy}')"
  addon_kubectl -n "${ns}" delete pod user --grace-period=0 --force >/dev/null 2>&1 || true
  addon_kubectl -n "${ns}" delete pvc data --wait=false >/dev/null
  t0="$(now_ms)"
  succeed_helper delete
  deadline=$(( $(date +%s) + 60 ))
  while addon_kubectl get pv "${pv}" >/dev/null 2>&1; do
    (( $(date +%s) < deadline )) || { cat "${tmp}/provisioner.log" >&2; die "PV ${pv} not deleted"; }
    sleep 0.5
  done
  log "PASS PV ${pv} deleted $(secs_since "${t0}") s after its claim"
  if grep -qiE 'forbidden|unauthorized' "${tmp}/provisioner.log"; then
    log "FAIL RBAC errors:"; grep -iE 'forbidden|unauthorized' "${tmp}/provisioner.log" | head -n 5 >&2; rc=1
  else
    log "PASS no RBAC errors in the provisioner's log (least-privilege Role/ClusterRole)"
  fi
  local rss; rss="$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/${pid}/status" 2>/dev/null || echo '?')"
  [[ ${rc} -eq 0 ]] || { cat "${tmp}/provisioner.log" >&2; die "host test failed"; }
  printf 'local-path-provisioner host-test: PASS (RSS %s MiB)\n' "${rss}"
}

if [[ "${1:-}" == host-test ]]; then
  do_host_test
  exit 0
fi
if [[ "${1:-}" == validate && -z "${LOCAL_PATH_NODE_PATHS:-}" && -z "${LOCAL_PATH_DEFAULT_PATH:-}" ]] \
   && ! { declare -F running_nodes >/dev/null && (( $(running_nodes) > 0 )); }; then
  # The folder map does not change what is validated; any absolute path will do.
  LOCAL_PATH_DEFAULT_PATH=/var/lib/golden-path-validate-only
fi
addon_main "$@"
