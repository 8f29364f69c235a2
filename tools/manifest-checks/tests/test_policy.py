"""Every policy rule: FAIL on a bad object, PASS on the good baseline."""

from typing import Any, Callable

import pytest

from manifest_checks import policy
from manifest_checks.model import AppliedException, Finding
from manifest_checks.policy import (ALLOW_EXTERNAL_ANNOTATION, EXCEPTIONS_ANNOTATION, EXCEPTIONS_REASON_ANNOTATION,
                                    Inventory, PolicyContext, Violation, allowed_disruptions, check_rule, evaluate,
                                    image_problem, parse_exceptions, selector_matches)

from conftest import ENTITY_REF, ID, NS, clone, cronjob, deployment, hpa, pdb, service


def _c(d: dict[str, Any], i: int = 0) -> dict[str, Any]:
    return d["spec"]["template"]["spec"]["containers"][i]


def _spec(d: dict[str, Any]) -> dict[str, Any]:
    return d["spec"]["template"]["spec"]


def _add_init(d):
    init = clone(_c(d))
    init["name"] = "migrate"
    del init["readinessProbe"], init["livenessProbe"]
    _spec(d)["initContainers"] = [init]
    return init


# (rule id, description, mutation that must make the baseline Deployment fail that rule)
BAD_CASES: list[tuple[str, str, Callable[[dict], Any]]] = [
    ("run-as-non-root", "pod runAsNonRoot missing", lambda d: _spec(d)["securityContext"].pop("runAsNonRoot")),
    ("run-as-non-root", "container overrides to false", lambda d: _c(d)["securityContext"].update(runAsNonRoot=False)),
    ("run-as-non-root", "pod runAsUser 0", lambda d: _spec(d)["securityContext"].update(runAsUser=0)),
    ("run-as-non-root", "container runAsUser 0", lambda d: _c(d)["securityContext"].update(runAsUser=0)),
    ("no-privilege-escalation", "not set", lambda d: _c(d)["securityContext"].pop("allowPrivilegeEscalation")),
    ("no-privilege-escalation", "true", lambda d: _c(d)["securityContext"].update(allowPrivilegeEscalation=True)),
    ("no-privilege-escalation", "init container", lambda d: _add_init(d)["securityContext"].pop(
        "allowPrivilegeEscalation")),
    ("capabilities", "drop missing", lambda d: _c(d)["securityContext"].pop("capabilities")),
    ("capabilities", "drop without ALL", lambda d: _c(d)["securityContext"].update(capabilities={"drop": ["NET_RAW"]})),
    ("capabilities", "adds SYS_ADMIN", lambda d: _c(d)["securityContext"]["capabilities"].update(add=["SYS_ADMIN"])),
    ("seccomp-profile", "not set", lambda d: _spec(d)["securityContext"].pop("seccompProfile")),
    ("seccomp-profile", "Unconfined on container",
     lambda d: _c(d)["securityContext"].update(seccompProfile={"type": "Unconfined"})),
    ("no-privileged", "privileged", lambda d: _c(d)["securityContext"].update(privileged=True)),
    ("no-host-namespaces", "hostNetwork", lambda d: _spec(d).update(hostNetwork=True)),
    ("no-host-namespaces", "hostPID", lambda d: _spec(d).update(hostPID=True)),
    ("no-host-namespaces", "hostIPC", lambda d: _spec(d).update(hostIPC=True)),
    ("no-host-ports", "hostPort", lambda d: _c(d)["ports"][0].update(hostPort=8080)),
    ("no-host-path", "hostPath volume",
     lambda d: _spec(d)["volumes"].append({"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}})),
    ("read-only-root-filesystem", "not set", lambda d: _c(d)["securityContext"].pop("readOnlyRootFilesystem")),
    ("read-only-root-filesystem", "false", lambda d: _c(d)["securityContext"].update(readOnlyRootFilesystem=False)),
    ("resources", "no resources", lambda d: _c(d).pop("resources")),
    ("resources", "no cpu request", lambda d: _c(d)["resources"]["requests"].pop("cpu")),
    ("resources", "no memory request", lambda d: _c(d)["resources"]["requests"].pop("memory")),
    ("resources", "no memory limit", lambda d: _c(d)["resources"].update(limits={"cpu": "1"})),
    ("resources", "init container without resources", lambda d: _add_init(d).pop("resources")),
    ("probes", "no readiness", lambda d: _c(d).pop("readinessProbe")),
    ("probes", "no liveness", lambda d: _c(d).pop("livenessProbe")),
    ("image-tag", ":latest", lambda d: _c(d).update(image="ghcr.io/golden-path/web:latest")),
    ("image-tag", "untagged", lambda d: _c(d).update(image="nginx")),
    ("image-tag", "registry port, untagged", lambda d: _c(d).update(image="registry.local:5000/team/web")),
    ("backstage-kubernetes-id", "label missing", lambda d: d["metadata"]["labels"].pop("backstage.io/kubernetes-id")),
    ("backstage-kubernetes-id", "pod template label missing",
     lambda d: d["spec"]["template"]["metadata"]["labels"].pop("backstage.io/kubernetes-id")),
    ("backstage-kubernetes-id", "wrong id",
     lambda d: d["metadata"]["labels"].update({"backstage.io/kubernetes-id": "other-app"})),
    ("rollouts-entity-ref", "annotation missing",
     lambda d: d["metadata"]["annotations"].pop("rollouts.backstage.io/entity-ref")),
    ("rollouts-entity-ref", "another entity",
     lambda d: d["metadata"]["annotations"].update({"rollouts.backstage.io/entity-ref": "component:default/evil"})),
    ("rollouts-entity-ref", "not a full ref",
     lambda d: d["metadata"]["annotations"].update({"rollouts.backstage.io/entity-ref": "demo-app"})),
    ("catalog-namespace", "other namespace", lambda d: d["metadata"].update(namespace="default")),
    ("catalog-namespace", "namespace missing", lambda d: d["metadata"].pop("namespace")),
]
CTX = PolicyContext(expected_id=ID, expected_namespace=NS, expected_entity_ref=ENTITY_REF)


def test_baseline_passes_every_rule():
    report = evaluate(deployment(), CTX)
    assert report.findings == []
    assert report.checks_failed == 0
    # every rule that applies to a Deployment ran; service-exposure only applies to Services,
    # pdb-allows-disruption to PodDisruptionBudgets, and pod-disruption-budget needs the other
    # objects of a run (an inventory), which a single evaluate() does not have
    assert report.checks_passed == len(policy.RULES) - 3


@pytest.mark.parametrize("rule_id,what,mutate", BAD_CASES, ids=[f"{r}:{w}" for r, w, _ in BAD_CASES])
def test_rule_fails_on_bad_object(rule_id, what, mutate):
    d = deployment()
    assert check_rule(rule_id, d, CTX) == [], "baseline must pass"
    mutate(d)
    violations = check_rule(rule_id, d, CTX)
    assert violations, f"{rule_id} did not catch: {what}"
    assert all(v.message and v.fix for v in violations)
    findings = evaluate(d, CTX, file="x.yaml").findings
    assert rule_id in {f.rule for f in findings}
    assert all(f.file == "x.yaml" and f.kind == "Deployment" and f.name == "web" for f in findings)


def test_every_policy_rule_has_a_failing_case():
    # services and disruption budgets: see the tests below
    covered = {r for r, _, _ in BAD_CASES} | {"service-exposure", "pod-disruption-budget", "pdb-allows-disruption"}
    assert covered == set(policy.RULES)


# ------------------------------------------------------------ passing variants

def test_container_level_run_as_non_root_is_enough():
    d = deployment()
    _spec(d)["securityContext"].pop("runAsNonRoot")
    _c(d)["securityContext"]["runAsNonRoot"] = True
    assert check_rule("run-as-non-root", d) == []


def test_net_bind_service_may_be_added():
    d = deployment()
    _c(d)["securityContext"]["capabilities"]["add"] = ["NET_BIND_SERVICE"]
    assert check_rule("capabilities", d) == []


def test_localhost_seccomp_and_container_level_seccomp_are_accepted():
    d = deployment()
    _spec(d)["securityContext"].pop("seccompProfile")
    _c(d)["securityContext"]["seccompProfile"] = {"type": "Localhost", "localhostProfile": "profiles/web.json"}
    assert check_rule("seccomp-profile", d) == []


@pytest.mark.parametrize("image,ok", [
    ("ghcr.io/golden-path/web:1.2.3", True),
    ("nginx:1.27-alpine", True),
    ("registry.local:5000/web:2", True),
    ("ghcr.io/x/web@sha256:" + "a" * 64, True),
    ("ghcr.io/x/web:1.0@sha256:" + "a" * 64, True),
    ("nginx", False),
    ("nginx:latest", False),
    ("registry.local:5000/web", False),
    ("", False),
    (None, False),
])
def test_image_problem(image, ok):
    assert (image_problem(image) is None) == ok


def test_jobs_and_cronjobs_need_no_probes_but_get_security_rules():
    cj = cronjob()
    report = evaluate(cj, CTX)
    assert report.findings == []
    pod = cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    pod["containers"][0]["securityContext"]["privileged"] = True
    pod["hostNetwork"] = True
    rules = {f.rule for f in evaluate(cj, CTX).findings}
    assert rules == {"no-privileged", "no-host-namespaces"}
    assert check_rule("probes", cj) == []


def test_bare_pod_with_restart_always_needs_probes():
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": NS, "labels": {
        "backstage.io/kubernetes-id": ID}}, "spec": _spec(deployment())}
    assert evaluate(pod, CTX).findings == []
    del pod["spec"]["containers"][0]["livenessProbe"]
    assert [f.rule for f in evaluate(pod, CTX).findings] == ["probes"]
    pod["spec"]["restartPolicy"] = "Never"
    assert evaluate(pod, CTX).findings == []


def test_label_without_catalog_only_requires_presence():
    d = deployment()
    d["metadata"]["labels"]["backstage.io/kubernetes-id"] = "anything"
    assert check_rule("backstage-kubernetes-id", d, PolicyContext()) == []
    assert check_rule("backstage-kubernetes-id", d, CTX) != []


def test_entity_ref_compares_case_insensitively_and_without_catalog_only_requires_a_full_ref():
    d = deployment()
    d["metadata"]["annotations"]["rollouts.backstage.io/entity-ref"] = "Component:Default/WEB"
    assert check_rule("rollouts-entity-ref", d, CTX) == []
    d["metadata"]["annotations"]["rollouts.backstage.io/entity-ref"] = "component:default/anything"
    assert check_rule("rollouts-entity-ref", d, PolicyContext()) == []
    svc = service()
    svc["metadata"]["annotations"].clear()
    assert check_rule("rollouts-entity-ref", svc, CTX) != []
    # Other kinds are not changed by the rollouts plugin.
    assert "rollouts-entity-ref" not in {f.rule for f in evaluate(cronjob(), CTX).findings}


def test_catalog_namespace_rules():
    ns_obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}
    assert check_rule("catalog-namespace", ns_obj, CTX) == []
    assert check_rule("catalog-namespace", {**ns_obj, "metadata": {"name": "other"}}, CTX) != []
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"}}
    assert check_rule("catalog-namespace", role, CTX) == []  # cluster-scoped
    d = deployment()
    d["metadata"].pop("namespace")
    assert check_rule("catalog-namespace", d, CTX) != []
    ctx = PolicyContext(expected_id=ID, expected_namespace=NS, default_namespace=NS)  # from kustomization
    assert check_rule("catalog-namespace", d, ctx) == []
    assert check_rule("catalog-namespace", d, PolicyContext()) == []  # no expectation, rule not applied


# ------------------------------------------------------------------- services

@pytest.mark.parametrize("svc_type", ["LoadBalancer", "NodePort"])
def test_external_service_needs_explicit_allowance(svc_type):
    svc = service(svc_type, name="frontend")
    violations = check_rule("service-exposure", svc, CTX)
    assert violations and "--allow-external frontend" in violations[0].fix
    allowed = PolicyContext(expected_id=ID, allow_external=frozenset({"frontend"}))
    assert check_rule("service-exposure", svc, allowed) == []
    other = PolicyContext(allow_external=frozenset({"postgres"}))
    assert check_rule("service-exposure", svc, other) != []
    svc["metadata"]["annotations"] = {ALLOW_EXTERNAL_ANNOTATION: "true"}
    assert check_rule("service-exposure", svc, CTX) == []


def test_cluster_ip_and_headless_services_pass():
    assert check_rule("service-exposure", service("ClusterIP"), CTX) == []
    svc = service()
    del svc["spec"]["type"]
    svc["spec"]["clusterIP"] = "None"
    assert check_rule("service-exposure", svc, CTX) == []


# ---------------------------------------------------------- disruption budgets

def in_run(*objects: dict[str, Any]) -> PolicyContext:
    """The context check_paths gives each object: every object of the run is known."""
    return PolicyContext(expected_id=ID, expected_namespace=NS, expected_entity_ref=ENTITY_REF,
                         inventory=Inventory.of((o, None) for o in objects))


def statefulset(replicas: int) -> dict[str, Any]:
    d = deployment(replicas)
    d["kind"] = "StatefulSet"
    d["spec"]["serviceName"] = "web"
    return d


def _budget_findings(workload: dict[str, Any], *others: dict[str, Any]) -> list[str]:
    return [v.message for v in check_rule("pod-disruption-budget", workload, in_run(workload, *others))]


@pytest.mark.parametrize("workload,others,what", [
    (deployment(2), [], "2 replicas, no budget"),
    (statefulset(3), [], "a StatefulSet with 3 replicas, no budget"),
    (deployment(1), [hpa(2)], "one replica in the manifest, but the HPA keeps at least 2"),
    (deployment(3), [pdb() | {"metadata": {"name": "web", "namespace": "elsewhere"}}], "budget in another namespace"),
    (deployment(2), [pdb() | {"spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}}}],
     "budget selects labels the pods do not carry"),
    (deployment(2), [pdb() | {"spec": {"maxUnavailable": 1}}], "budget without a selector selects nothing"),
    (deployment(2), [pdb(maxUnavailable=2)], "budget lets both replicas go"),
    (deployment(4), [pdb(maxUnavailable="100%")], "budget lets every replica go"),
    (deployment(2), [pdb(minAvailable=0)], "budget keeps nothing"),
])
def test_pod_disruption_budget_fails(workload, others, what):
    found = _budget_findings(workload, *others)
    assert found, f"pod-disruption-budget did not catch: {what}"
    assert "drain" in found[0] or "evict" in found[0]


@pytest.mark.parametrize("workload,others,what", [
    (deployment(2), [pdb()], "maxUnavailable 1"),
    (deployment(3), [pdb(minAvailable=2)], "minAvailable 2 of 3"),
    (deployment(10), [pdb(maxUnavailable="25%")], "a percentage below 100%"),
    (statefulset(3), [pdb()], "a StatefulSet with its budget"),
    (deployment(1), [], "one replica needs none"),
    (deployment(1), [hpa(None)], "an HPA without minReplicas starts at 1"),
    (deployment(1), [hpa(3), pdb()], "the HPA's floor is protected"),
    (deployment(2), [pdb() | {"spec": {"maxUnavailable": 1, "selector": {"matchExpressions": [
        {"key": "app.kubernetes.io/name", "operator": "In", "values": ["web", "api"]}]}}}], "matchExpressions"),
    (deployment(2), [pdb(maxUnavailable=3), pdb(minAvailable=1) | {"metadata": {"name": "keep-one", "namespace": NS}}],
     "one of two budgets keeps a pod"),
])
def test_pod_disruption_budget_passes(workload, others, what):
    assert _budget_findings(workload, *others) == [], what


def test_pod_disruption_budget_needs_the_other_objects_of_the_run():
    # One object on its own (validate_yaml, evaluate without inventory): nothing to relate it to.
    assert "pod-disruption-budget" not in {f.rule for f in evaluate(deployment(3), CTX).findings}
    report = evaluate(deployment(3), in_run(deployment(3)), file="x.yaml")
    assert [f.rule for f in report.findings] == ["pod-disruption-budget"]
    assert report.findings[0].path == "spec.template.metadata.labels"


def test_a_deployment_may_opt_out_of_the_budget_with_a_reason():
    d = _except(deployment(2), "pod-disruption-budget", reason="batch workers: losing all of them is fine")
    report = evaluate(d, in_run(d))
    assert report.findings == [] and [e.rule for e in report.exceptions] == ["pod-disruption-budget"]


def _allows_findings(budget: dict[str, Any], *others: dict[str, Any], inventory: bool = True) -> list[str]:
    ctx = in_run(budget, *others) if inventory else CTX
    return [v.message for v in check_rule("pdb-allows-disruption", budget, ctx)]


@pytest.mark.parametrize("budget,others,what", [
    (pdb(maxUnavailable=0), [], "maxUnavailable 0"),
    (pdb(maxUnavailable="0%"), [], "maxUnavailable 0%"),
    (pdb(minAvailable="100%"), [], "minAvailable 100%"),
    (pdb(minAvailable=2), [deployment(2)], "minAvailable equal to the replicas"),
    (pdb(minAvailable=3), [deployment(2)], "minAvailable above the replicas"),
    (pdb(minAvailable=1), [deployment(1)], "minAvailable 1 on a single replica (blocks every drain)"),
    (pdb(minAvailable="50%"), [deployment(1)], "a percentage rounds up to the single replica"),
    (pdb(minAvailable=3), [deployment(5), hpa(3)], "minAvailable equal to the HPA's minReplicas"),
    (pdb(minAvailable=4), [deployment(2), statefulset(2) | {"metadata": {"name": "db", "namespace": NS}}],
     "all the pods of every workload it selects"),
])
def test_pdb_allows_disruption_fails(budget, others, what):
    found = _allows_findings(budget, *others)
    assert found, f"pdb-allows-disruption did not catch: {what}"
    assert "drain" in found[0]


@pytest.mark.parametrize("budget,others,what", [
    (pdb(), [deployment(1)], "maxUnavailable 1 never blocks, even on one replica"),
    (pdb(maxUnavailable="10%"), [deployment(3)], "a percentage rounds up to 1"),
    (pdb(minAvailable=2), [deployment(3)], "minAvailable below the replicas"),
    (pdb(minAvailable="50%"), [deployment(3)], "half of 3 rounds up to 2"),
    (pdb(minAvailable=3), [deployment(1), hpa(4)], "the HPA's floor is above minAvailable"),
    (pdb(minAvailable=2), [], "selects nothing in the run: its workload is checked where it lives"),
])
def test_pdb_allows_disruption_passes(budget, others, what):
    assert _allows_findings(budget, *others) == [], what


def test_pdb_allows_disruption_without_the_run_checks_what_the_budget_says_alone():
    assert _allows_findings(pdb(maxUnavailable=0), inventory=False) != []
    assert _allows_findings(pdb(minAvailable=5), inventory=False) == []  # replicas unknown


@pytest.mark.parametrize("selector,labels,ok", [
    ({"matchLabels": {"a": "1"}}, {"a": "1", "b": "2"}, True),
    ({"matchLabels": {"a": "1"}}, {"a": "2"}, False),
    ({}, {"a": "1"}, True),  # policy/v1: an empty selector selects every pod of the namespace
    (None, {"a": "1"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {"a": "1"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {"b": "1"}, True),
    ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {"a": ""}, True),
    ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {"a": "x"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "Bogus"}]}, {"a": "x"}, False),
])
def test_selector_matches(selector, labels, ok):
    assert selector_matches(selector, labels) is ok


# ----------------------------------------------------------------- exceptions

def _except(obj, rules, reason="postgres writes to its root filesystem"):
    ann = obj["metadata"].setdefault("annotations", {})
    ann[EXCEPTIONS_ANNOTATION] = rules
    if reason is not None:
        ann[EXCEPTIONS_REASON_ANNOTATION] = reason
    return obj


def test_exception_with_reason_suppresses_only_that_rule():
    d = deployment()
    _c(d)["securityContext"]["readOnlyRootFilesystem"] = False
    _c(d).pop("livenessProbe")
    _except(d, "read-only-root-filesystem")
    report = evaluate(d, CTX, file="db.yaml")
    assert [f.rule for f in report.findings] == ["probes"]
    assert [(e.rule, e.reason) for e in report.exceptions] == [
        ("read-only-root-filesystem", "postgres writes to its root filesystem")]


def test_several_exceptions_comma_separated():
    d = deployment()
    _c(d)["securityContext"]["readOnlyRootFilesystem"] = False
    _c(d)["image"] = "nginx"
    _except(d, "read-only-root-filesystem, image-tag")
    report = evaluate(d, CTX)
    assert report.findings == [] and len(report.exceptions) == 2


def test_exception_without_reason_is_ignored_and_reported():
    d = deployment()
    _c(d)["securityContext"]["readOnlyRootFilesystem"] = False
    _except(d, "read-only-root-filesystem", reason=None)
    rules = sorted(f.rule for f in evaluate(d, CTX).findings)
    assert rules == ["policy-exception", "read-only-root-filesystem"]
    _except(d, "read-only-root-filesystem", reason="   ")
    assert "read-only-root-filesystem" in {f.rule for f in evaluate(d, CTX).findings}


def test_exception_for_unknown_rule_is_reported():
    d = _except(deployment(), "read-only-rootfs")
    findings = evaluate(d, CTX).findings
    assert [f.rule for f in findings] == ["policy-exception"] and "read-only-rootfs" in findings[0].message


def test_exception_that_is_not_needed_is_reported():
    d = _except(deployment(), "probes")  # the baseline has probes
    findings = evaluate(d, CTX).findings
    assert [f.rule for f in findings] == ["policy-exception"] and "not needed" in findings[0].message
    svc = _except(service(), "probes")  # the rule does not apply to a Service
    assert [f.rule for f in evaluate(svc, CTX).findings] == ["policy-exception"]


def test_exception_on_pod_template_annotations_does_not_count():
    d = deployment()
    _c(d)["securityContext"]["readOnlyRootFilesystem"] = False
    d["spec"]["template"]["metadata"]["annotations"] = {
        EXCEPTIONS_ANNOTATION: "read-only-root-filesystem", EXCEPTIONS_REASON_ANNOTATION: "x"}
    assert [f.rule for f in evaluate(d, CTX).findings] == ["read-only-root-filesystem"]


def test_exception_findings_say_what_to_fix_where():
    d = _except(deployment(), "probes")
    assert evaluate(d, CTX, file="x.yaml", line=7).findings == [Finding(
        "x.yaml", "Deployment", "web", "policy-exception",
        "exception for probes is not needed: the object passes the rule",
        f"remove probes from {EXCEPTIONS_ANNOTATION}", 7, "metadata.annotations")]
    svc = _except(service(), "probes")
    assert evaluate(svc, CTX).findings == [Finding(
        "<document>", "Service", "web", "policy-exception",
        "exception for probes is not needed: the rule does not apply to this object",
        f"remove probes from {EXCEPTIONS_ANNOTATION}", None, "metadata.annotations")]


def test_applied_exception_names_the_object_rule_and_reason():
    d = deployment()
    _c(d)["securityContext"]["readOnlyRootFilesystem"] = False
    _except(d, "read-only-root-filesystem")
    assert evaluate(d, CTX, file="db.yaml").exceptions == [AppliedException(
        "db.yaml", "Deployment", "web", "read-only-root-filesystem", "postgres writes to its root filesystem")]


@pytest.mark.parametrize("annotations,problems", [
    ({EXCEPTIONS_ANNOTATION: " , ", EXCEPTIONS_REASON_ANNOTATION: "x"}, [Violation(
        f"annotation {EXCEPTIONS_ANNOTATION} is empty", "list rule ids or remove the annotation",
        "metadata.annotations")]),
    ({EXCEPTIONS_ANNOTATION: "probes, nope, bogus", EXCEPTIONS_REASON_ANNOTATION: "x"}, [Violation(
        f"unknown rule id(s) in {EXCEPTIONS_ANNOTATION}: bogus, nope",
        f"use ids from: {', '.join(sorted(policy.RULES))}", "metadata.annotations")]),
    ({EXCEPTIONS_ANNOTATION: "probes"}, [Violation(
        f"{EXCEPTIONS_ANNOTATION} has no {EXCEPTIONS_REASON_ANNOTATION}; the exceptions are ignored",
        f"add annotation {EXCEPTIONS_REASON_ANNOTATION}: \"<why this object needs it>\"", "metadata.annotations")]),
])
def test_exception_annotation_problems(annotations, problems):
    d = deployment()
    d["metadata"]["annotations"] = annotations
    assert parse_exceptions(d)[2] == problems


def test_rule_registers_id_description_applies_and_check(monkeypatch):
    monkeypatch.setattr(policy, "RULES", {})

    def applies(_obj, _ctx):
        return True

    @policy.rule("demo-rule", "what the demo rule checks", applies)
    def check(_obj, _ctx):
        return []

    assert policy.RULES == {"demo-rule": policy.Rule("demo-rule", "what the demo rule checks", applies, check)}


def test_findings_fall_back_to_generate_name_and_question_marks():
    obj = {"metadata": {"generateName": "web-"}}
    assert {(f.kind, f.name) for f in evaluate(obj).findings} == {("?", "web-")}
    assert {(f.kind, f.name) for f in evaluate({"kind": "ConfigMap"}).findings} == {("ConfigMap", "?")}


def test_an_object_without_a_pod_spec_is_checked_only_by_the_rules_for_any_object():
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {
        "backstage.io/kubernetes-id": ID}}}
    report = evaluate(config_map)
    assert (report.checks_passed, report.checks_failed) == (1, 0)  # backstage-kubernetes-id
    broken = deployment()
    broken["spec"]["template"]["spec"] = "not a pod spec"  # the schema reports it; the rules skip it
    assert {f.rule for f in evaluate(broken, CTX).findings} == set()


def test_container_findings_point_at_the_field():
    d = deployment()
    _c(d)["securityContext"]["privileged"] = True
    _add_init(d)["securityContext"]["privileged"] = True
    assert [v.path for v in check_rule("no-privileged", d)] == [
        "spec.template.spec.initContainers[0].securityContext.privileged",
        "spec.template.spec.containers[0].securityContext.privileged"]
    cj = cronjob()
    cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["hostPID"] = True
    assert [v.path for v in check_rule("no-host-namespaces", cj)] == ["spec.jobTemplate.spec.template.spec.hostPID"]


@pytest.mark.parametrize("image,problem", [
    (None, "has no image"),
    ("  ", "has no image"),
    ("nginx:", "has an empty tag (nginx:)"),
    # a digest does not make an empty or latest tag acceptable: the tag is what people read
    ("nginx:@sha256:" + "a" * 64, "has an empty tag (nginx:@sha256:" + "a" * 64 + ")"),
    ("nginx:latest@sha256:" + "a" * 64, "uses the mutable tag :latest (nginx:latest@sha256:" + "a" * 64 + ")"),
])
def test_image_problem_says_why(image, problem):
    assert image_problem(image) == problem


@pytest.mark.parametrize("selector,labels,ok", [
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1", "2"]}]}, {"a": "2"}, True),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1"]}]}, {"a": "2"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1"]}]}, {"b": "1"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {"b": "1"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {"b": "x"}, True),
])
def test_selector_match_expressions(selector, labels, ok):
    assert selector_matches(selector, labels) is ok


@pytest.mark.parametrize("spec,pods,allowed", [
    ({"maxUnavailable": "1%"}, 101, 2),  # 1.01 pods round up to 2, as the disruption controller does
    ({"minAvailable": "1%"}, 101, 99),
    ({"maxUnavailable": "one"}, 3, None),  # not an IntOrString the controller accepts: unknown
    ({"minAvailable": "one"}, 3, None),
    ({"maxUnavailable": 1.5}, 3, None),
])
def test_allowed_disruptions(spec, pods, allowed):
    assert allowed_disruptions({"spec": spec}, pods) == allowed


def test_inventory_places_objects_without_a_namespace_in_the_kustomization_namespace():
    d = deployment()
    del d["metadata"]["namespace"]
    assert [ns for ns, _ in Inventory.of([(d, "team-a"), (d, None)]).objects] == ["team-a", ""]


@pytest.mark.parametrize("replicas", [None, "3", True])
def test_replicas_that_are_not_a_number_count_as_one(replicas):
    d = deployment()
    if replicas is None:
        del d["spec"]["replicas"]
    else:
        d["spec"]["replicas"] = replicas
    assert _budget_findings(d) == []


@pytest.mark.parametrize("autoscaler", [
    hpa(3) | {"spec": {"scaleTargetRef": {"kind": "StatefulSet", "name": "web"}, "minReplicas": 3}},
    hpa(3, name="api"),
    hpa(None) | {"spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": "3"}},
])
def test_only_an_autoscaler_of_the_workload_with_a_numeric_floor_counts(autoscaler):
    assert _budget_findings(deployment(1), autoscaler) == []


@pytest.mark.parametrize("replicas,why", [(1, "1 replica"), (2, "2 replicas")])
def test_pdb_allows_disruption_says_how_many_pods_it_selects(replicas, why):
    assert _allows_findings(pdb(minAvailable=replicas), deployment(replicas)) == [
        f"minAvailable {replicas} leaves no eviction allowed with the {replicas} pod(s) it selects at the lowest "
        f"scale (Deployment/web: {why}): node drains block until someone deletes a pod by hand"]
