#!/usr/bin/env bash
# Checks every requirement of the brief against the cluster kubectl points at, and prints
# PASS or FAIL for each (docs/verify.md shows the same commands, one by one):
#   TIERS     both tiers are Ready and their Services have ready endpoints
#   DNS       the frontend reaches the backend by its Service DNS name: an item created
#             through the frontend's Service is read back by the frontend's page and, from
#             inside a frontend pod, from http://<backend>.<namespace>.svc.cluster.local
#   INTERNAL  the backend's Service is ClusterIP only: no NodePort, LoadBalancer,
#             external IPs or Ingress
#   NETPOL    with NetworkPolicy enforced, a pod without the frontend's labels cannot
#             connect to the backend, and the same pod relabelled as a frontend can (the
#             positive control: the network works, the policy is what blocks)
#   ENTRY     the frontend's Service is the only external entry into the namespace
#
#   scripts/verify.sh          after kubectl apply -k k8s/ (or overlays/local)
#
# Results: verify-results/results.md (table with the evidence), results.tsv, logs/.
# Leaves nothing behind: the item it creates is deleted, the test pod too.
# Env: NAMESPACE, KUBECTL, VERIFY_OUT, VERIFY_TIMEOUT (seconds, default 180). Needs curl.
set -euo pipefail

NAMESPACE="${NAMESPACE:-${{ values.namespace }}}"
APP=${{ values.name | dump }}
# The frontend's Service type in k8s/frontend-service.yaml.
FRONTEND_TYPE=${{ values.frontendServiceType | dump }}
# {% raw %}
BACKEND="${APP}-backend"
FRONTEND="${APP}-frontend"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/verify-lib.sh
source "$ROOT/scripts/verify-lib.sh"

backend_dns() { printf '%s.%s.svc.cluster.local' "$BACKEND" "$NAMESPACE"; }

# status_of ANSWER: the first line of http_in_pod's output (000: no connection).
status_of() { head -n1 <<<"$1"; }

check_tiers() {
  local tier desired ready endpoints
  for tier in "$BACKEND" "$FRONTEND"; do
    k rollout status "deployment/$tier" --timeout="${VERIFY_TIMEOUT}s" \
      || fail "deployment/$tier did not become Ready: kubectl -n $NAMESPACE describe pod -l app.kubernetes.io/name=$tier"
    desired="$(k get deployment "$tier" -o jsonpath='{.spec.replicas}')"
    ready="$(k get deployment "$tier" -o jsonpath='{.status.readyReplicas}')"
    [[ "${ready:-0}" == "$desired" ]] || fail "deployment/$tier: ${ready:-0} of $desired replicas Ready"
    endpoints="$(k get endpointslices -l "kubernetes.io/service-name=$tier" \
      -o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]}{" "}{end}')"
    [[ -n "$endpoints" ]] || fail "service/$tier has no ready endpoints (kubectl -n $NAMESPACE get endpointslices -l kubernetes.io/service-name=$tier)"
    note "deployment/$tier: $ready/$desired Ready; service/$tier ready endpoints: ${endpoints% }"
  done
}

# delete_item ID: through the frontend's port-forward, as its Delete button does. Whether
# it worked shows in the check (the last step deletes it too); this is the safety net.
delete_item() { curl -sS -m 5 -o /dev/null -X POST "$FORWARD_URL/items/$1/delete" 2>/dev/null || true; }

check_dns() {
  command -v curl >/dev/null 2>&1 || fail "curl not found: install it"
  local url pod ip cluster_ip answer
  url="$(k get deployment "$FRONTEND" -o jsonpath='{.spec.template.spec.containers[0].env[?(@.name=="BACKEND_URL")].value}')"
  [[ "$url" == "http://$(backend_dns)"* || "$url" == "http://$BACKEND:"* || "$url" == "http://$BACKEND" ]] \
    || fail "the frontend's BACKEND_URL is '$url', not the backend Service's DNS name $(backend_dns)"
  note "deployment/$FRONTEND: BACKEND_URL=$url"

  pod="$(running_pod "app.kubernetes.io/name=$FRONTEND")"
  [[ -n "$pod" ]] || fail "no running frontend pod"
  ip="$(k exec "$pod" -- python -c 'import socket, sys; print(socket.gethostbyname(sys.argv[1]))' "$(backend_dns)")" \
    || fail "$(backend_dns) does not resolve in $pod (is CoreDNS running? kubectl -n kube-system get pods -l k8s-app=kube-dns)"
  cluster_ip="$(k get service "$BACKEND" -o jsonpath='{.spec.clusterIP}')"
  [[ "$ip" == "$cluster_ip" ]] || fail "$(backend_dns) resolves to $ip in $pod, not to service/$BACKEND's ClusterIP $cluster_ip"
  note "in $pod, $(backend_dns) resolves to $ip, the ClusterIP of service/$BACKEND"

  # Through the frontend's Service: create an item with a unique name; the frontend
  # stores it in the backend, then its page lists it.
  port_forward "svc/$FRONTEND" 80
  local marker status id
  marker="verify-dns-$(date +%s)-$RANDOM"
  status="$(curl -sS -m 10 -o /dev/null -w '%{http_code}' -X POST "$FORWARD_URL/items" --data-urlencode "name=$marker" \
    --data-urlencode 'description=created through the frontend by scripts/verify.sh')" || true
  [[ "$status" == 303 ]] || fail "POST /items through service/$FRONTEND answered ${status:-no answer} (303 expected)"
  note "POST /items through service/$FRONTEND: 303 (item $marker created in the backend)"
  answer="$(curl -sS -m 10 "$FORWARD_URL/")" || fail "GET / through service/$FRONTEND failed"
  id="$(grep -o "<a href=\"/items/[0-9]*\">$marker<" <<<"$answer" | sed 's|^<a href="/items/\([0-9]*\)".*|\1|' | head -n1)"
  [[ -n "$id" ]] || fail "GET / through service/$FRONTEND does not list $marker: $(grep -o '<h1>[^<]*</h1>' <<<"$answer" | head -n1)"
  on_exit delete_item "$id"
  note "GET / through service/$FRONTEND lists item $id, $marker (the page is built from the backend's answer)"

  # The same item, straight from the backend's Service DNS name, inside a frontend pod.
  answer="$(http_in_pod "$pod" "http://$(backend_dns)/api/items/$id")"
  [[ "$(status_of "$answer")" == 200 ]] || fail "GET http://$(backend_dns)/api/items/$id in $pod answered: $answer"
  grep -qF "\"$marker\"" <<<"$answer" || fail "the backend's item $id is not $marker: $answer"
  note "in $pod: GET http://$(backend_dns)/api/items/$id: 200 $(sed -n 2p <<<"$answer" | cut -c1-120)"

  answer="$(curl -sS -m 10 "$FORWARD_URL/api/backend-status")" || true
  grep -q '"reachable":true' <<<"$answer" || fail "GET /api/backend-status through service/$FRONTEND: $answer"
  note "GET /api/backend-status through service/$FRONTEND: $answer"

  status="$(curl -sS -m 10 -o /dev/null -w '%{http_code}' -X POST "$FORWARD_URL/items/$id/delete")" || true
  [[ "$status" == 303 ]] || fail "POST /items/$id/delete through service/$FRONTEND answered ${status:-no answer}"
  note "POST /items/$id/delete through service/$FRONTEND: 303 (the item is gone again)"
}

check_internal() {
  local type node_ports external lb ingresses
  type="$(k get service "$BACKEND" -o jsonpath='{.spec.type}')" || fail "no service/$BACKEND"
  [[ "$type" == ClusterIP ]] || fail "service/$BACKEND is type $type: it must be ClusterIP"
  node_ports="$(k get service "$BACKEND" -o jsonpath='{.spec.ports[*].nodePort}')"
  external="$(k get service "$BACKEND" -o jsonpath='{.spec.externalIPs[*]}')"
  lb="$(k get service "$BACKEND" -o jsonpath='{.status.loadBalancer.ingress[*].ip}')"
  [[ -z "$node_ports$external$lb" ]] \
    || fail "service/$BACKEND is exposed: nodePort '$node_ports', externalIPs '$external', load balancer '$lb'"
  note "service/$BACKEND: type ClusterIP $(k get service "$BACKEND" -o jsonpath='{.spec.clusterIP}'), no nodePort, no externalIPs, no load balancer"
  ingresses="$(k get ingress -o jsonpath='{range .items[*]}{.metadata.name}{": "}{..service.name}{"\n"}{end}' 2>/dev/null | grep -w "$BACKEND" || true)"
  [[ -z "$ingresses" ]] || fail "an Ingress routes to service/$BACKEND: $ingresses"
  note "no Ingress in $NAMESPACE routes to service/$BACKEND"
}

# The NetworkPolicies whose podSelector selects the backend's pods (matchLabels only).
policies_for_backend() {
  local name labels selector backend_pod
  backend_pod="$(running_pod "app.kubernetes.io/name=$BACKEND")"
  k get networkpolicy -o jsonpath='{range .items[*]}{.metadata.name}{"\t"}{.spec.podSelector.matchLabels}{"\n"}{end}' \
    | while IFS=$'\t' read -r name labels; do
        selector="$(sed 's/[{}"]//g; s/:/=/g' <<<"$labels")"
        if k get pods -l "$selector" -o name | grep -qx "pod/$backend_pod"; then printf '%s\n' "$name"; fi
      done
}


# backend_answer POD: the status of GET /ready on the backend's Service from POD (000: none).
backend_answer() { status_of "$(http_in_pod "$1" "http://$(backend_dns)/ready" 3)"; }

check_netpol() {
  local image probe="${APP}-verify-netpol"
  image="$(k get deployment "$BACKEND" -o jsonpath='{.spec.template.spec.containers[0].image}')"
  # The backend's own image (already on the nodes); see start_probe_pod in verify-lib.sh.
  start_probe_pod "$probe" "$image"
  local policies
  policies="$(policies_for_backend | paste -sd ' ')"
  note "NetworkPolicies selecting the backend's pods: ${policies:-none}"

  # Negative: not labelled as a frontend. A new pod may reach the policy engine a moment
  # after it starts, so wait up to 20 s for the first block, then confirm it.
  local negative positive deadline=$((SECONDS + 20))
  negative="$(backend_answer "$probe")"
  while [[ "$negative" != 000 ]] && ((SECONDS < deadline)); do sleep 2; negative="$(backend_answer "$probe")"; done
  [[ "$negative" != 000 ]] || negative="$(backend_answer "$probe")"
  note "pod $probe (app.kubernetes.io/name=$probe) -> http://$(backend_dns)/ready: $([[ "$negative" == 000 ]] && echo "no connection (blocked)" || echo "HTTP $negative")"

  # Positive control: the same pod with the frontend's pod labels.
  local labels
  labels="$(k get deployment "$FRONTEND" -o jsonpath='{.spec.template.metadata.labels}' | sed 's/[{}"]//g; s/:/=/g; s/,/ /g')"
  # shellcheck disable=SC2086 # one argument per label
  k label pod "$probe" --overwrite $labels >/dev/null
  deadline=$((SECONDS + 30))
  positive="$(backend_answer "$probe")"
  while [[ "$positive" != 200 ]] && ((SECONDS < deadline)); do sleep 2; positive="$(backend_answer "$probe")"; done
  note "the same pod relabelled ($labels) -> http://$(backend_dns)/ready: $([[ "$positive" == 000 ]] && echo "no connection" || echo "HTTP $positive")"

  if [[ "$negative" == 000 && "$positive" == 200 ]]; then
    note "only pods labelled as the frontend reach the backend"
  elif [[ "$negative" != 000 && -z "$policies" ]]; then
    fail "no NetworkPolicy selects the backend's pods (kubectl -n $NAMESPACE get networkpolicy): a pod that is not the frontend reached the backend (HTTP $negative)"
  elif [[ "$negative" != 000 && "$positive" == 200 ]]; then
    fail "a pod that is not the frontend reached the backend (HTTP $negative) although NetworkPolicy $policies selects it: either the cluster's CNI does not enforce NetworkPolicy (kind does since v0.24, kindnet with kube-network-policies; otherwise install Calico, Cilium or kube-router), or $policies allows more than the frontend (kubectl -n $NAMESPACE describe networkpolicy $policies)"
  elif [[ "$positive" != 200 ]]; then
    fail "the positive control failed: the pod labelled as a frontend did not reach the backend either (${positive}), so the block proves nothing: check the backend's pods and the NetworkPolicy's ingress rule"
  fi
}

check_entry() {
  local services exposed name type external
  services="$(k get services -o jsonpath='{range .items[*]}{.metadata.name}{"\t"}{.spec.type}{"\t"}{.spec.externalIPs[*]}{"\n"}{end}')"
  exposed=""
  while IFS=$'\t' read -r name type external; do
    [[ -n "$name" ]] || continue
    if [[ "$type" == NodePort || "$type" == LoadBalancer || -n "$external" ]]; then exposed+="$name "; fi
  done <<<"$services"
  [[ "${exposed% }" == "$FRONTEND" ]] \
    || fail "the Services reachable from outside are '${exposed% }', not only $FRONTEND ($(paste -sd ' ' <<<"$services"))"
  type="$(k get service "$FRONTEND" -o jsonpath='{.spec.type}')"
  [[ "$type" == "$FRONTEND_TYPE" ]] || fail "service/$FRONTEND is type $type; k8s/frontend-service.yaml says $FRONTEND_TYPE"
  note "the only Service of type NodePort/LoadBalancer or with external IPs: $FRONTEND ($type, as in k8s/frontend-service.yaml)"

  # Evidence only (a firewall or a missing load-balancer controller is not the app's fault).
  local address="" port
  if [[ "$type" == LoadBalancer ]]; then
    address="$(k get service "$FRONTEND" -o jsonpath='{.status.loadBalancer.ingress[0].ip}{.status.loadBalancer.ingress[0].hostname}')"
    port="$(k get service "$FRONTEND" -o jsonpath='{.spec.ports[0].port}')"
    [[ -n "$address" ]] || note "no load-balancer address assigned yet (kind needs cloud-provider-kind, minikube 'minikube tunnel')"
  else
    address="$("$KUBECTL" get nodes -o jsonpath='{range .items[*]}{.status.addresses[?(@.type=="InternalIP")].address}{"\n"}{end}' | head -n1)"
    port="$(k get service "$FRONTEND" -o jsonpath='{.spec.ports[0].nodePort}')"
  fi
  if [[ -n "$address" ]] && command -v curl >/dev/null 2>&1; then
    local status
    status="$(curl -sS -m 5 -o /dev/null -w '%{http_code}' "http://$address:$port/" 2>/dev/null)" || true
    note "GET http://$address:$port/ from this machine: ${status:-no answer}$([[ "$status" == 200 ]] || echo " (not reachable from here; use kubectl port-forward)")"
  fi
}

verify_begin "${APP}: multi-tier application (Easy Deploy 3)"
requirement TIERS "both tiers are Ready behind their Services" check_tiers
requirement DNS "the frontend reaches the backend by its Service DNS name" check_dns
requirement INTERNAL "the backend's Service is not reachable from outside the cluster" check_internal
requirement NETPOL "only frontend pods can connect to the backend (NetworkPolicy enforced)" check_netpol
requirement ENTRY "the frontend is the only external entry" check_entry
verify_end
# {% endraw %}
