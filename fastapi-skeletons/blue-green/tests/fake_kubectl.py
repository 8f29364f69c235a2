"""A stand-in for kubectl and the cluster behind it, for testing scripts/bg-switch.sh.

The cluster is one JSON file, $FAKE_KUBECTL_STATE/cluster.json: Services, Deployments and
Pods as `kubectl get -o json` shows them, what each slot's pods answer over HTTP, and
hooks that change the cluster at a chosen moment (someone else switching meanwhile).
EndpointSlices are derived from it like the EndpointSlice controller does (pods matching
a Service's selector, ready when the pod is Ready, never for a terminating pod), and may
lag behind a patch for a few reads.

What a script asks for is formatted by the REAL kubectl ($REAL_KUBECTL, offline, with
`kubectl patch --local`), so go-template semantics (<no value>, nil maps) are kubectl's.
`patch --type=json` applies RFC 6902 like the API server: all operations or none, a
failed `test` rejects the whole patch. Every call is appended to argv.log.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlparse

STATE = Path(os.environ["FAKE_KUBECTL_STATE"])
CLUSTER = STATE / "cluster.json"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


def load() -> dict:
    return json.loads(CLUSTER.read_text())


def save(cluster: dict) -> None:
    CLUSTER.write_text(json.dumps(cluster, indent=1))


def matches(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def pod_ready(pod: dict) -> bool:
    conditions = pod.get("status", {}).get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def computed_slice(cluster: dict, service: dict) -> dict:
    name = service["metadata"]["name"]
    endpoints = []
    for pod in cluster["pods"].values():
        if not matches(service["spec"].get("selector") or {}, pod["metadata"].get("labels", {})):
            continue
        terminating = "deletionTimestamp" in pod["metadata"]
        endpoints.append(
            {
                "addresses": [pod["status"]["podIP"]],
                "conditions": {"ready": pod_ready(pod) and not terminating, "terminating": terminating},
                "targetRef": {"kind": "Pod", "name": pod["metadata"]["name"], "namespace": pod["metadata"]["namespace"]},
            }
        )
    endpoints += cluster.get("extra_endpoints", {}).get(name, [])
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": f"{name}-abcde", "namespace": service["metadata"]["namespace"], "labels": {SERVICE_NAME_LABEL: name}},
        "addressType": "IPv4",
        "endpoints": endpoints,
    }


def endpoint_slices(cluster: dict, service_name: str) -> list[dict]:
    """The slices of a Service; after a patch, the old ones for `lag` more reads."""
    service = cluster["services"].get(service_name)
    if service is None:
        return []
    lagging = cluster.get("lagging", {}).get(service_name)
    if lagging and lagging["reads"] > 0:
        lagging["reads"] -= 1
        save(cluster)
        return [lagging["slice"]]
    return [computed_slice(cluster, service)]


def render(obj: dict, template: str) -> subprocess.CompletedProcess[str]:
    """Formats obj with the real kubectl, offline. The same object and template always
    format the same way, so results are kept in $FAKE_KUBECTL_CACHE (when set): the
    script's waiting loops read unchanged objects many times."""
    source = json.dumps(obj, sort_keys=True)
    cache = os.environ.get("FAKE_KUBECTL_CACHE")
    entry = Path(cache, hashlib.sha256(f"{template}\0{source}".encode()).hexdigest()) if cache else None
    if entry and entry.exists():
        stdout, stderr, returncode = json.loads(entry.read_text())
        return subprocess.CompletedProcess([], returncode, stdout, stderr)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write(source)
    try:
        result = subprocess.run(
            [os.environ["REAL_KUBECTL"], "patch", "--local", "-f", f.name, "--type", "merge", "-p", "{}", "-o", template],
            capture_output=True, text=True, env={**os.environ, "KUBECONFIG": os.devnull},
        )
    finally:
        os.unlink(f.name)
    if entry:
        entry.write_text(json.dumps([result.stdout, result.stderr, result.returncode]))
    return result


def render_list(items: list[dict], template: str) -> subprocess.CompletedProcess[str]:
    """kubectl flattens a List given to --local, so the items go in a wrapper object."""
    kind, _, text = template.partition("=")
    prefix = {"go-template": "{{range .items}}", "jsonpath": "{range .items[*]}"}[kind]
    assert text.startswith(prefix), f"fake kubectl: list templates must start with {prefix}: {text[:60]}"
    wrapped = text.replace(".items", ".data.items", 1)
    wrapper = {"apiVersion": "example.com/v1", "kind": "Wrapper", "metadata": {"name": "list"}, "data": {"items": items}}
    return render(wrapper, f"{kind}={wrapped}")


def output(result: subprocess.CompletedProcess[str]) -> int:
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.returncode


def pointer(path: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in path.split("/")[1:]]


class PatchError(Exception):
    pass


def apply_json_patch(doc: dict, ops: list[dict]) -> dict:
    doc = copy.deepcopy(doc)
    for op in ops:
        *parents, last = pointer(op["path"])
        target = doc
        for token in parents:
            if not isinstance(target, dict) or token not in target:
                raise PatchError(f'missing path: "{op["path"]}"')
            target = target[token]
        if op["op"] == "test":
            if target.get(last) != op["value"]:
                raise PatchError(
                    f'testing value {op["path"]} failed: test failed'
                )
        elif op["op"] == "replace":
            if last not in target:
                raise PatchError(f'replace operation does not apply: doc is missing key: {op["path"]}: missing value')
            target[last] = op["value"]
        elif op["op"] == "add":
            target[last] = op["value"]
        else:
            raise PatchError(f"fake kubectl: unsupported op {op['op']}")
    return doc


def patch_service(cluster: dict, name: str, patch_text: str) -> int:
    service = cluster["services"].get(name)
    if service is None:
        print(f'Error from server (NotFound): services "{name}" not found', file=sys.stderr)
        return 1
    ops = json.loads(patch_text)
    try:
        patched = apply_json_patch(service, ops)
    except PatchError as e:
        with (STATE / "rejected.log").open("a") as log:
            log.write(json.dumps({"service": name, "patch": ops, "why": str(e)}) + "\n")
        # What kubectl prints when the API server rejects a JSON Patch (HTTP 422, no detail).
        print("The request is invalid: the server rejected our request due to an error in our request", file=sys.stderr)
        return 1
    lag = cluster.get("endpoint_lag", 0)
    if lag:
        cluster.setdefault("lagging", {})[name] = {"reads": lag, "slice": computed_slice(cluster, service)}
    cluster["services"][name] = patched
    save(cluster)
    with (STATE / "writes.log").open("a") as log:
        log.write(json.dumps({"service": name, "patch": ops}) + "\n")
    print(f"service/{name} patched")
    return 0


def run_hooks(cluster: dict, event: str) -> dict:
    """Applies the hooks of an event once: {"service": name, "ops": [...]} or {"delete_pods_of": slot}."""
    hooks = cluster.get("hooks", {}).pop(event, [])
    for hook in hooks:
        if "ops" in hook:
            cluster["services"][hook["service"]] = apply_json_patch(cluster["services"][hook["service"]], hook["ops"])
    if hooks:
        save(cluster)
    return cluster


def exec_http(cluster: dict, pod: str, url: str) -> int:
    """`kubectl exec POD -- python -c ... URL`: the request goes through the Service in the URL."""
    if pod not in cluster["pods"]:
        print(f'Error from server (NotFound): pods "{pod}" not found', file=sys.stderr)
        return 1
    cluster = run_hooks(cluster, "exec")
    host = urlparse(url).hostname or ""
    service = host.split(".")[0]
    ready = [
        ep["targetRef"]["name"]
        for s in endpoint_slices(cluster, service)
        for ep in s["endpoints"]
        if ep["conditions"].get("ready", True) and ep.get("targetRef")
    ]
    if not ready:
        print("000\nURLError: <urlopen error [Errno 111] Connection refused>")
        return 0
    counter = STATE / "requests"
    n = int(counter.read_text()) if counter.exists() else 0
    counter.write_text(str(n + 1))
    answering = cluster["pods"][ready[n % len(ready)]]
    slot = answering["metadata"]["labels"].get("app.kubernetes.io/slot", "")
    answer = cluster["http"].get(slot, {"status": "000", "body": "no answer"})
    print(answer["status"])
    sys.stdout.write(answer["body"])
    return 0


def main(argv: list[str]) -> int:
    with (STATE / "argv.log").open("a") as log:
        log.write(json.dumps(argv) + "\n")
    args = list(argv)
    namespace = None
    if args[:1] == ["-n"]:
        namespace, args = args[1], args[2:]
    cluster = load()
    if namespace != cluster["namespace"]:
        # Another namespace: empty.
        cluster = {**cluster, "services": {}, "deployments": {}, "pods": {}}
    fmt = next((a for a in args if a.startswith(("go-template=", "jsonpath="))), None)
    if args[:2] == ["get", "service"]:
        name = args[2]
        service = cluster["services"].get(name)
        if service is None:
            print(f'Error from server (NotFound): services "{name}" not found', file=sys.stderr)
            return 1
        return output(render(service, fmt)) if fmt else 0
    if args[:2] in (["get", "deployments"], ["get", "pods"]) and fmt:
        return output(render_list(list(cluster[args[1]].values()), fmt))
    if args[:2] == ["get", "endpointslices"] and fmt:
        selector = args[args.index("-l") + 1]
        key, _, service = selector.partition("=")
        assert key == SERVICE_NAME_LABEL, selector
        return output(render_list(endpoint_slices(cluster, service), fmt))
    if args[:2] == ["patch", "service"] and "--type=json" in args:
        return patch_service(cluster, args[2], args[args.index("-p") + 1])
    if args[:1] == ["exec"] and "--" in args:
        command = args[args.index("--") + 1 :]
        assert command[:2] == ["python", "-c"], command
        return exec_http(cluster, args[1], command[3])
    print(f"fake kubectl: unsupported call {argv}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
