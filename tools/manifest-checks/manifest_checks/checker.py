"""Run every manifest check over files and folders and collect one Report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Iterable

from . import policy
from .catalog import CatalogError, read_catalog_info
from .kustomize import check_kustomization
from .loader import Document, find_yaml_files, is_kustomization_doc, is_kustomization_file, load_documents
from .model import Finding, Report
from .schema import DEFAULT_KUBERNETES_VERSION, validate_document


def _objects(doc: Document) -> Iterable[Any]:
    """A document's objects; a kind: List is expanded into its items."""
    data = doc.data
    if isinstance(data, dict) and data.get("kind") == "List" and isinstance(data.get("items"), list):
        yield from data["items"]
    else:
        yield data


def validate_yaml(text: str, source: str = "<snippet>",
                  kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
                  skip_kinds: Iterable[str] = ()) -> list[Finding]:
    """Strict schema validation of a YAML string (one or more documents).

    Meant for YAML snippets taken from Markdown: kustomizations are skipped,
    a YAML syntax error is one finding (rule ``yaml``).
    """
    findings: list[Finding] = []
    for doc in load_documents(text, source):
        if doc.error:
            findings.append(Finding(source, "?", "?", "yaml", doc.error, "fix the YAML syntax", doc.line))
            continue
        if is_kustomization_doc(doc.data):
            continue
        for obj in _objects(doc):
            findings.extend(validate_document(obj, kubernetes_version, file=source, line=doc.line,
                                              skip_kinds=skip_kinds))
    return findings


def _identity(obj: dict[str, Any], default_ns: str | None) -> tuple[str, str, str, str]:
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    ns = "" if obj.get("kind") in policy.CLUSTER_SCOPED_KINDS else str(meta.get("namespace") or default_ns or "")
    return group, str(obj.get("kind")), ns, str(meta.get("name"))


def check_paths(
    paths: Iterable[str],
    *,
    catalog_info: str | None = None,
    component: str | None = None,
    allow_external: Iterable[str] = (),
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
    schema_only: bool = False,
    skip_kinds: Iterable[str] = (),
) -> Report:
    report = Report()
    skip_kinds = tuple(skip_kinds)
    paths = list(paths)

    expected_id = expected_ns = expected_ref = None
    component_selectors: tuple = ()
    if catalog_info and not schema_only:
        try:
            expectation = read_catalog_info(catalog_info, component)
            expected_id, expected_ns = expectation.kubernetes_id, expectation.namespace
            expected_ref = expectation.entity_ref or None
            component_selectors = expectation.component_selectors
            report.record([])
        except CatalogError as exc:
            report.record([Finding(catalog_info, "Component", component or "?", "catalog-info", str(exc),
                                   "fix catalog-info.yaml or the --catalog-info path")])

    sources: list[tuple[str, str]] = []  # (display name, text)
    file_paths: list[Path] = []
    if "-" in paths:
        sources.append(("<stdin>", sys.stdin.read()))
        paths = [p for p in paths if p != "-"]
    files, missing = find_yaml_files(paths)
    for m in missing:
        report.record([Finding(m, "?", "?", "input", "path does not exist", "pass existing files or folders")])

    default_ns: dict[Path, str] = {}
    for f in files:
        if is_kustomization_file(f):
            report.files += 1
            k = check_kustomization(f)
            report.record(k.findings)
            if k.namespace:
                for target in k.resources:
                    members = [target] if target.is_file() else find_yaml_files([target])[0]
                    for member in members:
                        default_ns.setdefault(member.resolve(), k.namespace)
        else:
            file_paths.append(f)
    for f in file_paths:
        try:
            sources.append((str(f), f.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            report.record([Finding(str(f), "?", "?", "input", f"cannot read file: {exc}", "check the file")])

    # Everything is read first: some rules relate objects to each other (a workload and the
    # PodDisruptionBudget that selects it), wherever in the run each one is defined.
    loaded: list[tuple[str, int | None, str | None, Any]] = []  # (file, line, default namespace, object)
    for display, text in sources:
        report.files += 1
        file_ns = default_ns.get(Path(display).resolve()) if display != "<stdin>" else None
        for doc in load_documents(text, display):
            if doc.error:
                report.record([Finding(display, "?", "?", "yaml", doc.error, "fix the YAML syntax", doc.line)])
                continue
            if is_kustomization_doc(doc.data):
                continue
            loaded.extend((display, doc.line, file_ns, obj) for obj in _objects(doc))
    inventory = policy.Inventory.of((obj, ns) for _, _, ns, obj in loaded)

    seen: dict[tuple[str, str, str, str], str] = {}
    duplicates: list[Finding] = []
    for display, line, file_ns, obj in loaded:
        report.objects += 1
        schema_findings = validate_document(obj, kubernetes_version, file=display, line=line, skip_kinds=skip_kinds)
        report.record(schema_findings)
        if schema_only or not isinstance(obj, dict):
            continue
        if not obj.get("kind") or not obj.get("apiVersion"):
            continue  # already reported by the schema check
        ctx = policy.PolicyContext(expected_id=expected_id, expected_namespace=expected_ns,
                                   expected_entity_ref=expected_ref, component_selectors=component_selectors,
                                   allow_external=frozenset(allow_external),
                                   default_namespace=file_ns, inventory=inventory)
        report.merge(policy.evaluate(obj, ctx, file=display, line=line))
        ident = _identity(obj, file_ns)
        if ident in seen:
            duplicates.append(Finding(display, ident[1], ident[3], "duplicate-object",
                                      f"also defined in {seen[ident]} (same kind, namespace and name)",
                                      "remove one of the two definitions", line))
        else:
            seen[ident] = display
    if not schema_only and report.objects:
        report.record(duplicates)
    return report
