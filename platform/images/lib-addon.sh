#!/usr/bin/env bash
# Shared by platform/<add-on>/addon.sh (coredns, metrics-server, local-path-provisioner).
# Source after platform/lib.sh and platform/images/lib-images.sh; do not run it.
#
# Every addon.sh has the same interface (the cluster script calls it after the nodes
# are Ready, with KUBECONFIG exported):
#   addon.sh images      build or reuse the images; print their OCI archive paths, one a line
#   addon.sh apply       server-side apply of the rendered manifests
#   addon.sh wait [s]    until the add-on does its job (default timeout 180 s)
#   addon.sh validate    server-side dry run + Pod Security "restricted" check; changes nothing
#   addon.sh render      print the manifests with the placeholders filled
#   addon.sh delete      remove what apply created

FIELD_MANAGER="golden-path-platform"

# kubectl of the platform's own Kubernetes build (Debian's is 1.20), or $KUBECTL.
addon_kubectl() {
  local k="${KUBECTL:-$(kube_bin_dir)/kubectl}"
  [[ -x "${k}" ]] || die "kubectl not found at ${k}: build it with platform/kubernetes/build.sh (or set KUBECTL)"
  [[ -n "${KUBECONFIG:-}" ]] || die "KUBECONFIG is not set: eval \"\$(platform/cluster.sh env)\" first"
  "${k}" "$@"
}

# fill_placeholders VAR...: stdin with ${VAR} replaced by the variables' values; fails
# if a value is empty or a ${UPPER_CASE} placeholder is left over.
fill_placeholders() {
  local text v left
  text="$(cat)"
  for v in "$@"; do
    [[ -n "${!v:-}" ]] || die "placeholder \${${v}} has no value (set ${v})"
    text="${text//\$\{${v}\}/${!v}}"
  done
  left="$(grep -oE '\$\{[A-Z][A-Z0-9_]*\}' <<<"${text}" | sort -u | tr '\n' ' ' || true)"
  [[ -z "${left}" ]] || die "unfilled placeholders in the manifests: ${left}"
  printf '%s\n' "${text}"
}

# indent N: prefix every line of stdin with N spaces (for block scalars in YAML).
indent() { local pad; pad="$(printf '%*s' "$1" '')"; sed "s/^/${pad}/"; }

addon_apply() {
  local rendered="$1"
  addon_kubectl apply --server-side --field-manager="${FIELD_MANAGER}" --force-conflicts -f - <<<"${rendered}"
}

addon_delete() {
  local rendered="$1"
  addon_kubectl delete --ignore-not-found --wait=false -f - <<<"${rendered}"
}

# addon_validate <rendered manifests> [pss level]
#  1. `kubectl apply --server-side --dry-run=server`: schema, defaulting, admission
#     (a namespace the manifests create is created for the check and removed after);
#  2. each workload's pod template as a Pod, dry-run in a throw-away namespace that
#     enforces Pod Security <level> (default restricted).
addon_validate() {
  local rendered="$1" level="${2:-restricted}" created_ns=() ns json pods tmp_ns rc=0
  json="$(addon_kubectl create --dry-run=client -o json -f - <<<"${rendered}")" \
    || die "the rendered manifests do not parse (see above; \`addon.sh render\` prints them)"
  for ns in $(jq -r 'if .kind == "List" then .items[] else . end | select(.kind == "Namespace") | .metadata.name' <<<"${json}"); do
    if ! addon_kubectl get namespace "${ns}" >/dev/null 2>&1; then
      addon_kubectl create namespace "${ns}" >/dev/null
      created_ns+=("${ns}")
    fi
  done
  log "server-side dry run of every object"
  addon_kubectl apply --server-side --dry-run=server --field-manager="${FIELD_MANAGER}" --force-conflicts -f - <<<"${rendered}" >&2 || rc=1

  pods="$(jq -c --arg level "${level}" '
    if .kind == "List" then .items[] else . end
    | select(.kind == "Deployment" or .kind == "DaemonSet" or .kind == "StatefulSet")
    | {apiVersion: "v1", kind: "Pod",
       metadata: {name: ("pss-" + (.metadata.name | ascii_downcase)), labels: (.spec.template.metadata.labels // {})},
       spec: (.spec.template.spec | del(.serviceAccountName) | .automountServiceAccountToken = false
              | del(.priorityClassName))}' <<<"${json}")"
  if [[ -n "${pods}" ]]; then
    tmp_ns="gp-pss-check-$$-${RANDOM}"
    addon_kubectl create namespace "${tmp_ns}" >/dev/null
    addon_kubectl label namespace "${tmp_ns}" "pod-security.kubernetes.io/enforce=${level}" \
      "pod-security.kubernetes.io/enforce-version=latest" >/dev/null
    # The ServiceAccount admission plugin needs the namespace's default ServiceAccount.
    for _ in $(seq 1 60); do addon_kubectl -n "${tmp_ns}" get serviceaccount default >/dev/null 2>&1 && break; sleep 0.5; done
    while read -r pod; do
      [[ -n "${pod}" ]] || continue
      if addon_kubectl -n "${tmp_ns}" create --dry-run=server -f - <<<"${pod}" >/dev/null; then
        log "Pod Security ${level}: $(jq -r .metadata.name <<<"${pod}" | sed 's/^pss-//') admitted"
      else
        log "Pod Security ${level}: $(jq -r .metadata.name <<<"${pod}" | sed 's/^pss-//') REJECTED (above)"
        rc=1
      fi
    done <<<"${pods}"
    addon_kubectl delete namespace "${tmp_ns}" --wait=false >/dev/null
  fi
  for ns in "${created_ns[@]+"${created_ns[@]}"}"; do
    addon_kubectl delete namespace "${ns}" --wait=false >/dev/null
  done
  [[ ${rc} -eq 0 ]] || die "validation failed (see above)"
  log "validation passed"
}

# wait_rollout <namespace> <deployment> <timeout s>
wait_rollout() {
  addon_kubectl -n "$1" rollout status "deployment/$2" --timeout="$3s" >&2 \
    || { addon_kubectl -n "$1" get pods -o wide >&2; addon_kubectl -n "$1" describe "deployment/$2" | tail -n 20 >&2; die "deployment $1/$2 did not become available within $3 s"; }
}

# dns_query <server ip> <port> <name> [type A|AAAA|PTR] -> "rcode answer..." (UDP, 2 s).
# Python's standard library only: no dig/dnsutils on the host.
dns_query() {
  require_cmd python3 python3
  python3 - "$@" <<'PY'
import random, socket, struct, sys
server, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
qtype = {"A": 1, "PTR": 12, "AAAA": 28, "SRV": 33}[sys.argv[4] if len(sys.argv) > 4 else "A"]
qid = random.randint(0, 65535)
q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split(".")) + b"\0"
q += struct.pack(">HH", qtype, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(q, (server, port))
r, _ = s.recvfrom(4096)
rid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", r[:12])
rcode = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"][flags & 0xF] if (flags & 0xF) < 6 else str(flags & 0xF)
def skip_name(b, i):
    while True:
        l = b[i]
        if l == 0: return i + 1
        if l & 0xC0 == 0xC0: return i + 2
        i += l + 1
i = 12
for _ in range(qd):
    i = skip_name(r, i) + 4
out = []
for _ in range(an):
    i = skip_name(r, i)
    t, c, ttl, rdlen = struct.unpack(">HHIH", r[i:i + 10])
    i += 10
    if t == 1: out.append(socket.inet_ntoa(r[i:i + 4]))
    elif t == 28: out.append(socket.inet_ntop(socket.AF_INET6, r[i:i + 16]))
    else: out.append("type%d" % t)
    i += rdlen
print(rcode, *out)
PY
}

# addon_main <usage text> : dispatch the common subcommands to functions
#   do_images, do_render, do_wait; apply/validate/delete use do_render.
addon_main() {
  local cmd="${1:-}"
  shift || true
  case "${cmd}" in
    images) do_images ;;
    render) do_render ;;
    apply) addon_apply "$(do_render)" ;;
    validate) addon_validate "$(do_render)" "${ADDON_PSS_LEVEL:-restricted}" ;;
    wait) do_wait "${1:-180}" ;;
    delete) addon_delete "$(do_render)" ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 2 ;;
  esac
}
