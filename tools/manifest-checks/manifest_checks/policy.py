"""The project's own policy rules for Kubernetes objects.

Every rule is a small pure function ``check(obj, ctx) -> list[Violation]``
registered with an id. An object may opt out of a rule only through the
annotation ``golden-path.dev/policy-exceptions: "<rule-id>,..."`` together
with a non-empty ``golden-path.dev/policy-exceptions-reason``; exceptions that
are not needed (the object passes anyway) are reported so they do not rot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from .model import AppliedException, Finding, Report

EXCEPTIONS_ANNOTATION = "golden-path.dev/policy-exceptions"
EXCEPTIONS_REASON_ANNOTATION = "golden-path.dev/policy-exceptions-reason"
ALLOW_EXTERNAL_ANNOTATION = "golden-path.dev/allow-external"
KUBERNETES_ID_LABEL = "backstage.io/kubernetes-id"
#: Names the catalog entity that may change the object through the portal's rollouts plugin.
ENTITY_REF_ANNOTATION = "rollouts.backstage.io/entity-ref"
#: The kinds the rollouts plugin changes (switch/rollback: Services; restart/undo: Deployments).
ROLLOUTS_WRITABLE_KINDS = {"Deployment", "Service"}
EXCEPTION_RULE = "policy-exception"

# kind -> path to the PodSpec
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
LONG_RUNNING_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController"}
ALLOWED_SECCOMP = {"RuntimeDefault", "Localhost"}
ALLOWED_ADDED_CAPABILITIES = {"NET_BIND_SERVICE"}
EXTERNAL_SERVICE_TYPES = {"LoadBalancer", "NodePort"}
#: Workloads whose pods a PodDisruptionBudget keeps during voluntary disruptions (node drains).
DISRUPTION_KINDS = {"Deployment", "StatefulSet"}
CLUSTER_SCOPED_KINDS = {
    "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "StorageClass",
    "CustomResourceDefinition", "PriorityClass", "IngressClass", "RuntimeClass", "CSIDriver", "CSINode",
    "VolumeAttachment", "APIService", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding", "FlowSchema", "PriorityLevelConfiguration", "CertificateSigningRequest",
    "DeviceClass", "ResourceSlice", "IPAddress", "ServiceCIDR",
}


@dataclass(frozen=True)
class Violation:
    message: str
    fix: str
    path: str = ""


@dataclass(frozen=True)
class PolicyContext:
    """What the rules compare against (from the command line / catalog-info)."""

    expected_id: str | None = None
    expected_namespace: str | None = None
    expected_entity_ref: str | None = None  # e.g. component:default/my-service
    # A System of several Components: (the labels a Component selects, its entity ref).
    component_selectors: tuple[tuple[tuple[tuple[str, str], ...], str], ...] = ()
    allow_external: frozenset[str] = field(default_factory=frozenset)
    default_namespace: str | None = None  # from a kustomization's `namespace:`
    # Every object of the run, for rules that relate objects (a PodDisruptionBudget and the
    # workloads it selects). None when one object is checked on its own: those rules then
    # check only what the object says by itself.
    inventory: "Inventory | None" = field(default=None, compare=False)


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    applies: Callable[[dict[str, Any], PolicyContext], bool]
    check: Callable[[dict[str, Any], PolicyContext], list[Violation]]


RULES: dict[str, Rule] = {}


def rule(rule_id: str, description: str, applies: Callable[[dict[str, Any], PolicyContext], bool]):
    def register(fn: Callable[[dict[str, Any], PolicyContext], list[Violation]]):
        RULES[rule_id] = Rule(rule_id, description, applies, fn)
        return fn

    return register


# ---------------------------------------------------------------- helpers

def _dig(obj: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def kind_of(obj: dict[str, Any]) -> str:
    return str(obj.get("kind") or "?")


def name_of(obj: dict[str, Any]) -> str:
    meta = _dict(obj.get("metadata"))
    return str(meta.get("name") or meta.get("generateName") or "?")


def pod_spec(obj: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    path = POD_SPEC_PATHS.get(kind_of(obj))
    if path is None:
        return None, ""
    spec = _dig(obj, path)
    return (spec if isinstance(spec, dict) else None), ".".join(path)


def has_pod_spec(obj: dict[str, Any], _ctx: PolicyContext | None = None) -> bool:
    return pod_spec(obj)[0] is not None


def is_long_running(obj: dict[str, Any], _ctx: PolicyContext | None = None) -> bool:
    kind = kind_of(obj)
    if kind == "Pod":
        spec = _dict(obj.get("spec"))
        return spec.get("restartPolicy", "Always") == "Always"
    return kind in LONG_RUNNING_KINDS and has_pod_spec(obj)


@dataclass(frozen=True)
class ContainerRef:
    field: str  # containers | initContainers | ephemeralContainers
    index: int
    container: dict[str, Any]
    base: str

    @property
    def label(self) -> str:
        what = {"containers": "container", "initContainers": "init container",
                "ephemeralContainers": "ephemeral container"}[self.field]
        return f"{what} '{self.container.get('name', self.index)}'"

    def path(self, *rest: str) -> str:
        return ".".join([f"{self.base}.{self.field}[{self.index}]", *rest])


def containers(obj: dict[str, Any], fields: tuple[str, ...] = ("initContainers", "containers",
                                                               "ephemeralContainers")) -> Iterator[ContainerRef]:
    spec, base = pod_spec(obj)
    if spec is None:
        return
    for f in fields:
        for i, c in enumerate(_list(spec.get(f))):
            if isinstance(c, dict):
                yield ContainerRef(f, i, c, base)


def _sc(c: ContainerRef) -> dict[str, Any]:
    return _dict(c.container.get("securityContext"))


def _pod_sc(obj: dict[str, Any]) -> dict[str, Any]:
    spec, _ = pod_spec(obj)
    return _dict(_dict(spec).get("securityContext"))


def _always(_obj: dict[str, Any], _ctx: PolicyContext) -> bool:
    return True


# ---------------------------------------------------- pod security (restricted)

@rule("run-as-non-root", "pods and containers run as non-root (runAsNonRoot: true, runAsUser not 0)", has_pod_spec)
def check_run_as_non_root(obj: dict[str, Any], _ctx: PolicyContext) -> list[Violation]:
    out = []
    _, base = pod_spec(obj)
    psc = _pod_sc(obj)
    if psc.get("runAsUser") == 0:
        out.append(Violation("pod runs as UID 0 (root)", "set spec.securityContext.runAsUser to a non-zero UID",
                             f"{base}.securityContext.runAsUser"))
    for c in containers(obj):
        sc = _sc(c)
        non_root = sc.get("runAsNonRoot", psc.get("runAsNonRoot"))
        if non_root is not True:
            out.append(Violation(f"{c.label} may run as root: runAsNonRoot is not true at pod or container level",
                                 "set securityContext.runAsNonRoot: true in the pod spec (and a non-zero runAsUser)",
                                 c.path("securityContext", "runAsNonRoot")))
        if sc.get("runAsUser") == 0:
            out.append(Violation(f"{c.label} runs as UID 0 (root)", "set securityContext.runAsUser to a non-zero UID",
                                 c.path("securityContext", "runAsUser")))
    return out


@rule("no-privilege-escalation", "every container sets allowPrivilegeEscalation: false", has_pod_spec)
def check_no_privilege_escalation(obj: dict[str, Any], _ctx: PolicyContext) -> list[Violation]:
    return [Violation(f"{c.label} does not set allowPrivilegeEscalation: false",
                      "set securityContext.allowPrivilegeEscalation: false on the container",
                      c.path("securityContext", "allowPrivilegeEscalation"))
            for c in containers(obj) if _sc(c).get("allowPrivilegeEscalation") is not False]


@rule("capabilities", "containers drop ALL capabilities and add only NET_BIND_SERVICE", has_pod_spec)
def check_capabilities(obj: dict[str, Any], _ctx: PolicyContext) -> list[Violation]:
    out = []
    for c in containers(obj):
        caps = _dict(_sc(c).get("capabilities"))
        drop = [str(x) for x in _list(caps.get("drop"))]
        if "ALL" not in drop:
            out.append(Violation(f"{c.label} does not drop ALL capabilities",
                                 'set securityContext.capabilities.drop: ["ALL"]',
                                 c.path("securityContext", "capabilities", "drop")))
        extra = sorted({str(x) for x in _list(caps.get("add"))} - ALLOWED_ADDED_CAPABILITIES)
        if extra:
            out.append(Violation(f"{c.label} adds capabilities {', '.join(extra)}",
                                 "remove them from securityContext.capabilities.add (only NET_BIND_SERVICE is allowed)",
                                 c.path("securityContext", "capabilities", "add")))
    return out


@rule("seccomp-profile", "seccompProfile is RuntimeDefault or Localhost for every container", has_pod_spec)
def check_seccomp(obj: dict[str, Any], _ctx: PolicyContext) -> list[Violation]:
    out = []
    pod_type = _dict(_pod_sc(obj).get("seccompProfile")).get("type")
    for c in containers(obj):
        ctype = _dict(_sc(c).get("seccompProfile")).get("type", pod_type)
        if ctype not in ALLOWED_SECCOMP:
            shown = ctype if ctype else "not set"
            out.append(Violation(f"{c.label} seccomp profile is {shown}",
                                 "set spec.securityContext.seccompProfile.type: RuntimeDefault (or Localhost)",
                                 c.path("securityContext", "seccompProfile")))
    return out


@rule("no-privileged", "no privileged containers", has_pod_spec)
def check_no_privileged(obj: dict[str, Any], _ctx: PolicyContext) -> list[Violation]:
    return [Violation(f"{c.label} is privileged", "remove securityContext.privileged (or set it to false)",
                      c.path("securityContext", "privileged"))
            for c in containers(obj) if _sc(c).get("privileged") is True]


@rule("no-host-namespaces", "no hostNetwork, hostPID or hostIPC", has_pod_spec)
def check_host_namespaces(obj: dict[str, Any], _ctx: PolicyContext) -> list[Violation]:
    spec, base = pod_spec(obj)
    return [Violation(f"pod shares the node's namespace via {key}: true", f"remove {key} from the pod spec",
                      f"{base}.{key}")
            for key in ("hostNetwork", "hostPID", "hostIPC") if _dict(spec).get(key) is True]


@rule("no-host-ports", "containers do not bind host ports", has_pod_spec)
def check_host_ports(obj: dict[str, Any], _ctx: PolicyContext) -> list[Violation]:
    out = []
    for c in containers(obj):
        for i, port in enumerate(_list(c.container.get("ports"))):
            if isinstance(port, dict) and port.get("hostPort") not in (None, 0):
                out.append(Violation(f"{c.label} binds hostPort {port.get('hostPort')}",
                                     "remove hostPort and expose the port through a Service",
                                     c.path(f"ports[{i}]", "hostPort")))
    return out


@rule("no-host-path", "no hostPath volumes", has_pod_spec)
def check_host_path(obj: dict[str, Any], _ctx: PolicyContext) -> list[Violation]:
    spec, base = pod_spec(obj)
    return [Violation(f"volume '{v.get('name', i)}' mounts a hostPath from the node",
                      "use an emptyDir, configMap, secret or persistentVolumeClaim volume instead",
                      f"{base}.volumes[{i}].hostPath")
            for i, v in enumerate(_list(_dict(spec).get("volumes"))) if isinstance(v, dict) and "hostPath" in v]


@rule("read-only-root-filesystem", "containers run with readOnlyRootFilesystem: true", has_pod_spec)
def check_read_only_root(obj: dict[str, Any], _ctx: PolicyContext) -> list[Violation]:
    return [Violation(f"{c.label} has a writable root filesystem",
                      "set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where it must write "
                      "(e.g. /tmp)", c.path("securityContext", "readOnlyRootFilesystem"))
            for c in containers(obj, ("initContainers", "containers"))
            if _sc(c).get("readOnlyRootFilesystem") is not True]


# -------------------------------------------------- resources, probes, images

@rule("resources", "every container requests cpu and memory and limits memory", has_pod_spec)
def check_resources(obj: dict[str, Any], _ctx: PolicyContext) -> list[Violation]:
    out = []
    for c in containers(obj, ("initContainers", "containers")):
        res = _dict(c.container.get("resources"))
        missing = [f"requests.{k}" for k in ("cpu", "memory") if _dict(res.get("requests")).get(k) in (None, "")]
        if _dict(res.get("limits")).get("memory") in (None, ""):
            missing.append("limits.memory")
        if missing:
            out.append(Violation(f"{c.label} has no resources.{', resources.'.join(missing)}",
                                 "set resources.requests.cpu, resources.requests.memory and resources.limits.memory "
                                 "(memory limit = what the process may use before it is OOMKilled)",
                                 c.path("resources")))
    return out


@rule("probes", "long-running containers have readiness and liveness probes", is_long_running)
def check_probes(obj: dict[str, Any], _ctx: PolicyContext) -> list[Violation]:
    out = []
    for c in containers(obj, ("containers",)):
        missing = [p for p in ("readinessProbe", "livenessProbe") if not isinstance(c.container.get(p), dict)]
        if missing:
            out.append(Violation(f"{c.label} has no {' and no '.join(missing)}",
                                 "add a readinessProbe (gates traffic) and a livenessProbe (restarts a hung process); "
                                 "add a startupProbe for slow starts", c.path(missing[0])))
    return out


def image_problem(image: Any) -> str | None:
    """Why an image reference is not acceptable, or None when it is pinned."""
    if not isinstance(image, str) or not image.strip():
        return "has no image"
    ref = image.strip()
    name, _, digest = ref.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else None
    if tag == "latest":
        return f"uses the mutable tag :latest ({ref})"
    if tag is None and not digest:
        return f"has no tag ({ref}), which means :latest"
    if tag == "":
        return f"has an empty tag ({ref})"
    return None


@rule("image-tag", "images are pinned to a tag other than latest (or a digest)", has_pod_spec)
def check_image_tag(obj: dict[str, Any], _ctx: PolicyContext) -> list[Violation]:
    out = []
    for c in containers(obj):
        problem = image_problem(c.container.get("image"))
        if problem:
            out.append(Violation(f"{c.label} {problem}",
                                 "pin the image to a released version tag (e.g. :1.4.2) or a digest (@sha256:...)",
                                 c.path("image")))
    return out


# ------------------------------------------------------- catalog / services

@rule("backstage-kubernetes-id", f"objects (and pod templates) carry the label {KUBERNETES_ID_LABEL}", _always)
def check_kubernetes_id(obj: dict[str, Any], ctx: PolicyContext) -> list[Violation]:
    out = []
    targets = [("metadata", _dict(_dict(obj.get("metadata")).get("labels")))]
    spec_path = POD_SPEC_PATHS.get(kind_of(obj))
    if spec_path and kind_of(obj) != "Pod":
        template_meta_path = spec_path[:-1] + ("metadata",)
        targets.append((".".join(template_meta_path), _dict(_dict(_dig(obj, template_meta_path)).get("labels"))))
    wanted = ctx.expected_id
    for where, labels in targets:
        value = labels.get(KUBERNETES_ID_LABEL)
        what = "object" if where == "metadata" else "pod template"
        if value in (None, ""):
            out.append(Violation(f"{what} has no label {KUBERNETES_ID_LABEL}",
                                 f"add {where}.labels['{KUBERNETES_ID_LABEL}']: {wanted or '<the component id>'} "
                                 "(Backstage's Kubernetes plugin finds objects by it)", f"{where}.labels"))
        elif wanted is not None and str(value) != wanted:
            out.append(Violation(f"{what} label {KUBERNETES_ID_LABEL} is {value!r}, catalog-info expects {wanted!r}",
                                 f"set {where}.labels['{KUBERNETES_ID_LABEL}'] to {wanted!r} or fix the "
                                 "catalog-info annotation", f"{where}.labels"))
    return out


def _expects_namespace(obj: dict[str, Any], ctx: PolicyContext) -> bool:
    return ctx.expected_namespace is not None


@rule("catalog-namespace", "namespaced objects live in the catalog's backstage.io/kubernetes-namespace",
      _expects_namespace)
def check_catalog_namespace(obj: dict[str, Any], ctx: PolicyContext) -> list[Violation]:
    kind = kind_of(obj)
    meta = _dict(obj.get("metadata"))
    wanted = ctx.expected_namespace
    if kind == "Namespace":
        if meta.get("name") != wanted:
            return [Violation(f"Namespace {meta.get('name')!r} differs from the catalog's namespace {wanted!r}",
                              "rename the Namespace or fix backstage.io/kubernetes-namespace in catalog-info",
                              "metadata.name")]
        return []
    if kind in CLUSTER_SCOPED_KINDS:
        return []
    ns = meta.get("namespace") or ctx.default_namespace
    if ns != wanted:
        shown = repr(ns) if ns else "not set (it would land in the current kubectl namespace)"
        return [Violation(f"namespace is {shown}, catalog-info expects {wanted!r}",
                          f"set metadata.namespace: {wanted}", "metadata.namespace")]
    return []


def _rollouts_writable(obj: dict[str, Any], _ctx: PolicyContext) -> bool:
    return kind_of(obj) in ROLLOUTS_WRITABLE_KINDS


_FULL_REF = re.compile(r"^[^:/\s]+:[^:/\s]+/[^:/\s]+$")


@rule("rollouts-entity-ref", f"Deployments and Services name their catalog entity in {ENTITY_REF_ANNOTATION}",
      _rollouts_writable)
def check_rollouts_entity_ref(obj: dict[str, Any], ctx: PolicyContext) -> list[Violation]:
    """The portal's rollouts plugin changes only objects the cluster says belong to the entity."""
    value = _dict(_dict(obj.get("metadata")).get("annotations")).get(ENTITY_REF_ANNOTATION)
    wanted = ctx.expected_entity_ref
    path = "metadata.annotations"
    if ctx.component_selectors:
        labels = _dict(_dict(obj.get("metadata")).get("labels"))
        owners = [ref for selector, ref in ctx.component_selectors if all(labels.get(k) == v for k, v in selector)]
        if len(owners) != 1:
            found = "no Component" if not owners else f"several Components ({', '.join(owners)})"
            return [Violation(f"{found} of catalog-info selects this object by its labels, so the portal cannot "
                              "tell which entity may change it",
                              "label it so that exactly one Component's backstage.io/kubernetes-label-selector "
                              "matches", "metadata.labels")]
        wanted = owners[0]
    if value in (None, ""):
        return [Violation(f"object has no annotation {ENTITY_REF_ANNOTATION}, so the portal cannot tell which "
                          "entity may switch, restart or roll it back",
                          f"add {path}['{ENTITY_REF_ANNOTATION}']: {wanted or 'component:<namespace>/<name>'}", path)]
    if not _FULL_REF.match(str(value)):
        return [Violation(f"annotation {ENTITY_REF_ANNOTATION} is {value!r}, not a full entity ref",
                          f"write it as kind:namespace/name, e.g. {wanted or 'component:default/my-service'}", path)]
    if wanted is not None and str(value).lower() != wanted.lower():
        return [Violation(f"annotation {ENTITY_REF_ANNOTATION} is {value!r}, catalog-info describes {wanted!r}",
                          f"set {path}['{ENTITY_REF_ANNOTATION}'] to {wanted!r}", path)]
    return []


def _is_service(obj: dict[str, Any], _ctx: PolicyContext) -> bool:
    return kind_of(obj) == "Service"


@rule("service-exposure", "LoadBalancer/NodePort Services only when explicitly allowed", _is_service)
def check_service_exposure(obj: dict[str, Any], ctx: PolicyContext) -> list[Violation]:
    svc_type = _dict(obj.get("spec")).get("type", "ClusterIP")
    if svc_type not in EXTERNAL_SERVICE_TYPES:
        return []
    name = name_of(obj)
    annotations = _dict(_dict(obj.get("metadata")).get("annotations"))
    if name in ctx.allow_external or str(annotations.get(ALLOW_EXTERNAL_ANNOTATION, "")).lower() == "true":
        return []
    return [Violation(f"Service type {svc_type} exposes it outside the cluster without being allowed",
                      f"use type ClusterIP (and an Ingress), or allow it with --allow-external {name} or the "
                      f"annotation {ALLOW_EXTERNAL_ANNOTATION}: \"true\"", "spec.type")]


# ------------------------------------------------------ disruption budgets
#
# A node drain (kubectl drain, a cluster upgrade, an autoscaler removing a node) evicts
# pods through the Eviction API, which honours PodDisruptionBudgets: without one, every
# replica on the drained nodes may go at once; with one that can never be met, the drain
# never finishes. Both rules need the other objects of the run (check_paths passes them
# as PolicyContext.inventory).

def selector_matches(selector: Any, labels: dict[str, Any]) -> bool:
    """A metav1.LabelSelector against a label set. No selector selects nothing; an empty
    one ({}) selects every pod (policy/v1 PodDisruptionBudget semantics)."""
    if not isinstance(selector, dict):
        return False
    labels = {str(k): str(v) for k, v in labels.items()}
    for key, value in _dict(selector.get("matchLabels")).items():
        if labels.get(str(key)) != str(value):
            return False
    for expr in _list(selector.get("matchExpressions")):
        expr = _dict(expr)
        key, op = str(expr.get("key")), expr.get("operator")
        values = {str(v) for v in _list(expr.get("values"))}
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return False  # the schema reports the operator; match nothing meanwhile
    return True


def _int_or_percent(value: Any, total: int) -> int | None:
    """An IntOrString scaled the way the disruption controller does (percentages round up)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d+%", value):
        return -(-total * int(value[:-1]) // 100)
    return None


def _namespace(obj: dict[str, Any], default: str | None) -> str:
    return str(_dict(obj.get("metadata")).get("namespace") or default or "")


def _replicas(obj: dict[str, Any]) -> int:
    value = _dict(obj.get("spec")).get("replicas", 1)
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


@dataclass(frozen=True)
class Inventory:
    """Every object of one run with its namespace (a kustomization's `namespace:` counts)."""

    objects: tuple[tuple[str, dict[str, Any]], ...] = ()

    @classmethod
    def of(cls, items: Iterable[tuple[dict[str, Any], str | None]]) -> "Inventory":
        return cls(tuple((_namespace(obj, ns), obj) for obj, ns in items if isinstance(obj, dict)))

    def in_namespace(self, namespace: str, kinds: set[str]) -> list[dict[str, Any]]:
        return [obj for ns, obj in self.objects if ns == namespace and kind_of(obj) in kinds]

    def autoscaler_min(self, workload: dict[str, Any], namespace: str) -> int | None:
        """minReplicas of a HorizontalPodAutoscaler that scales the workload (default 1), else None."""
        for hpa in self.in_namespace(namespace, {"HorizontalPodAutoscaler"}):
            spec = _dict(hpa.get("spec"))
            target = _dict(spec.get("scaleTargetRef"))
            if target.get("kind") == kind_of(workload) and target.get("name") == name_of(workload):
                value = spec.get("minReplicas", 1)
                return value if isinstance(value, int) and not isinstance(value, bool) else 1
        return None

    def floor_replicas(self, workload: dict[str, Any], namespace: str) -> tuple[int, str]:
        """The fewest replicas the workload runs with, and why: an autoscaler's minReplicas
        when one scales it (it owns the replica count), else spec.replicas."""
        hpa_min = self.autoscaler_min(workload, namespace)
        if hpa_min is not None:
            return hpa_min, f"its HorizontalPodAutoscaler's minReplicas {hpa_min}"
        replicas = _replicas(workload)
        return replicas, f"{replicas} replica{'s' if replicas != 1 else ''}"

    def budgets_for(self, workload: dict[str, Any], namespace: str) -> list[dict[str, Any]]:
        labels = _dict(_dict(_dig(workload, ("spec", "template", "metadata"))).get("labels"))
        return [pdb for pdb in self.in_namespace(namespace, {"PodDisruptionBudget"})
                if selector_matches(_dict(pdb.get("spec")).get("selector"), labels)]

    def selected_by(self, pdb: dict[str, Any], namespace: str) -> list[dict[str, Any]]:
        selector = _dict(pdb.get("spec")).get("selector")
        return [w for w in self.in_namespace(namespace, DISRUPTION_KINDS)
                if selector_matches(selector, _dict(_dig(w, ("spec", "template", "metadata", "labels"))))]


def allowed_disruptions(pdb: dict[str, Any], pods: int) -> int | None:
    """How many of `pods` healthy pods the budget lets a drain evict at once (None: unknown)."""
    spec = _dict(pdb.get("spec"))
    if "maxUnavailable" in spec:
        allowed = _int_or_percent(spec["maxUnavailable"], pods)
        return None if allowed is None else max(0, min(allowed, pods))
    if "minAvailable" in spec:
        keep = _int_or_percent(spec["minAvailable"], pods)
        return None if keep is None else max(0, pods - keep)
    return pods  # neither set: the controller requires nothing to stay up


def _needs_budget(obj: dict[str, Any], ctx: PolicyContext) -> bool:
    return kind_of(obj) in DISRUPTION_KINDS and ctx.inventory is not None


@rule("pod-disruption-budget",
      "Deployments/StatefulSets with 2+ replicas (or an HPA minReplicas of 2+) have a PodDisruptionBudget that "
      "keeps at least one pod", _needs_budget)
def check_pod_disruption_budget(obj: dict[str, Any], ctx: PolicyContext) -> list[Violation]:
    inventory = ctx.inventory
    assert inventory is not None  # _needs_budget
    ns = _namespace(obj, ctx.default_namespace)
    hpa_min = inventory.autoscaler_min(obj, ns)
    if hpa_min is not None and hpa_min >= 2:
        pods, why = hpa_min, f"its HorizontalPodAutoscaler keeps at least {hpa_min} replicas"
    elif _replicas(obj) >= 2:
        pods, why = _replicas(obj), f"it runs {_replicas(obj)} replicas"
    else:
        return []  # one replica: a budget could only block drains or protect nothing
    budgets = inventory.budgets_for(obj, ns)
    labels = "spec.template.metadata.labels"
    if not budgets:
        return [Violation(f"{why} but no PodDisruptionBudget in namespace {ns or '(unset)'} selects its pods, so "
                          "a node drain may evict all of them at once",
                          f"add a PodDisruptionBudget with maxUnavailable: 1 whose selector matches {labels}, "
                          "applied with the workload (e.g. listed in the same kustomization)", labels)]
    if all(allowed_disruptions(b, pods) == pods for b in budgets):
        names = ", ".join(name_of(b) for b in budgets)
        return [Violation(f"{why} but its PodDisruptionBudget ({names}) lets a drain evict all {pods} at once",
                          "set maxUnavailable below the replica count (e.g. 1) or minAvailable of at least 1",
                          labels)]
    return []


def _is_budget(obj: dict[str, Any], _ctx: PolicyContext) -> bool:
    return kind_of(obj) == "PodDisruptionBudget"


@rule("pdb-allows-disruption", "PodDisruptionBudgets can allow at least one eviction (maxUnavailable > 0, "
      "minAvailable below the replicas they select)", _is_budget)
def check_pdb_allows_disruption(obj: dict[str, Any], ctx: PolicyContext) -> list[Violation]:
    spec = _dict(obj.get("spec"))
    fix = ("use maxUnavailable: 1 (keeps n-1 of n replicas and never blocks a drain for good); a single-replica "
           "workload that must not move needs a plan, not a budget that blocks every drain")
    if "maxUnavailable" in spec and allowed_disruptions(obj, 100) == 0:
        return [Violation(f"maxUnavailable {spec['maxUnavailable']!r} never allows an eviction: every node drain "
                          "that reaches these pods waits forever", fix, "spec.maxUnavailable")]
    if "minAvailable" not in spec:
        return []
    if spec["minAvailable"] == "100%":
        return [Violation("minAvailable '100%' never allows an eviction: every node drain that reaches these pods "
                          "waits forever", fix, "spec.minAvailable")]
    if ctx.inventory is None:
        return []
    ns = _namespace(obj, ctx.default_namespace)
    workloads = ctx.inventory.selected_by(obj, ns)
    if not workloads:
        return []  # what it protects is not in this run; only the checks above apply
    floors = [ctx.inventory.floor_replicas(w, ns) for w in workloads]
    pods = sum(n for n, _ in floors)
    if allowed_disruptions(obj, pods) == 0:
        what = "; ".join(f"{kind_of(w)}/{name_of(w)}: {why}" for w, (_, why) in zip(workloads, floors))
        return [Violation(f"minAvailable {spec['minAvailable']!r} leaves no eviction allowed with the {pods} pod(s) "
                          f"it selects at the lowest scale ({what}): node drains block until someone deletes a pod "
                          "by hand", fix, "spec.minAvailable")]
    return []


# ------------------------------------------------------------- evaluation

def parse_exceptions(obj: dict[str, Any]) -> tuple[set[str], str, list[Violation]]:
    """(rule ids excepted, reason, problems with the exception annotations)."""
    annotations = _dict(_dict(obj.get("metadata")).get("annotations"))
    raw = annotations.get(EXCEPTIONS_ANNOTATION)
    if raw is None:
        return set(), "", []
    ids = {part.strip() for part in str(raw).split(",") if part.strip()}
    reason = str(annotations.get(EXCEPTIONS_REASON_ANNOTATION) or "").strip()
    problems: list[Violation] = []
    if not ids:
        problems.append(Violation(f"annotation {EXCEPTIONS_ANNOTATION} is empty",
                                  "list rule ids or remove the annotation", f"metadata.annotations"))
    unknown = sorted(ids - set(RULES))
    if unknown:
        problems.append(Violation(f"unknown rule id(s) in {EXCEPTIONS_ANNOTATION}: {', '.join(unknown)}",
                                  f"use ids from: {', '.join(sorted(RULES))}", "metadata.annotations"))
    if ids and not reason:
        problems.append(Violation(f"{EXCEPTIONS_ANNOTATION} has no {EXCEPTIONS_REASON_ANNOTATION}; the exceptions "
                                  "are ignored",
                                  f"add annotation {EXCEPTIONS_REASON_ANNOTATION}: \"<why this object needs it>\"",
                                  "metadata.annotations"))
        ids = set()
    return ids & set(RULES), reason, problems


def evaluate(obj: dict[str, Any], ctx: PolicyContext = PolicyContext(), *, file: str = "<document>",
             line: int | None = None) -> Report:
    """Run every policy rule on one object; returns a Report for it."""
    report = Report()
    kind, name = kind_of(obj), name_of(obj)

    def finding(rule_id: str, v: Violation) -> Finding:
        return Finding(file, kind, name, rule_id, v.message, v.fix, line, v.path)

    excepted, reason, problems = parse_exceptions(obj)
    if problems or excepted:
        report.record([finding(EXCEPTION_RULE, p) for p in problems])
    for r in RULES.values():
        if not r.applies(obj, ctx):
            if r.id in excepted:
                report.record([finding(EXCEPTION_RULE, Violation(
                    f"exception for {r.id} is not needed: the rule does not apply to this object",
                    f"remove {r.id} from {EXCEPTIONS_ANNOTATION}", "metadata.annotations"))])
            continue
        violations = r.check(obj, ctx)
        if r.id in excepted:
            if violations:
                report.exceptions.append(AppliedException(file, kind, name, r.id, reason))
                report.record([])
            else:
                report.record([finding(EXCEPTION_RULE, Violation(
                    f"exception for {r.id} is not needed: the object passes the rule",
                    f"remove {r.id} from {EXCEPTIONS_ANNOTATION}", "metadata.annotations"))])
            continue
        report.record([finding(r.id, v) for v in violations])
    return report


def check_rule(rule_id: str, obj: dict[str, Any], ctx: PolicyContext = PolicyContext()) -> list[Violation]:
    """Run one rule by id (ignores exceptions); [] when it passes or does not apply."""
    r = RULES[rule_id]
    return r.check(obj, ctx) if r.applies(obj, ctx) else []
