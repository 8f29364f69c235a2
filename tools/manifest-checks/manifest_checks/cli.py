"""Command line: python -m manifest_checks [options] PATHS..."""

from __future__ import annotations

import argparse
import json
import sys

from . import policy
from .checker import check_paths
from .model import Report
from .schema import DEFAULT_KUBERNETES_VERSION, SchemaError, available_versions, schema_dir
from .workflows import WORKFLOW_RULES, check_workflows


def _split(values: list[str]) -> list[str]:
    return [part.strip() for v in values for part in v.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m manifest_checks",
        description="Strict schema validation and policy checks for Kubernetes manifests, and lint for GitHub "
                    "Actions workflows. Exit code 1 when anything fails.")
    p.add_argument("paths", nargs="*", help="manifest files or folders (searched for *.yaml/*.yml); - reads stdin")
    p.add_argument("--catalog-info", metavar="FILE",
                   help="catalog-info.yaml whose Component annotation backstage.io/kubernetes-id (and "
                        "backstage.io/kubernetes-namespace) the objects must carry")
    p.add_argument("--component", metavar="NAME", help="which Component of --catalog-info when it has several")
    p.add_argument("--allow-external", action="append", default=[], metavar="NAMES",
                   help="comma-separated Service names allowed to be LoadBalancer/NodePort")
    p.add_argument("--workflows", action="append", default=[], metavar="DIR",
                   help="GitHub Actions workflow folder or file (e.g. .github/workflows); repeatable")
    p.add_argument("--kubernetes-version", default=DEFAULT_KUBERNETES_VERSION,
                   help=f"Kubernetes minor version of the schemas (default {DEFAULT_KUBERNETES_VERSION})")
    p.add_argument("--schema-only", action="store_true", help="only strict schema validation (no policy rules)")
    p.add_argument("--skip-kind", action="append", default=[], metavar="KIND",
                   help="kinds without a bundled schema (custom resources) to skip in schema validation")
    p.add_argument("--json", action="store_true", help="machine-readable JSON on stdout")
    p.add_argument("--list-rules", action="store_true", help="print the rule ids and exit")
    return p


def print_rules() -> None:
    print("schema: strict OpenAPI schema validation (unknown fields are errors)")
    for r in policy.RULES.values():
        print(f"{r.id}: {r.description}")
    for rule_id, fn in WORKFLOW_RULES.items():
        print(f"{rule_id}: {(fn.__doc__ or '').strip() or 'workflow rule'}")
    print("actionlint/*: actionlint findings; zizmor/*: zizmor --offline findings")
    print("kustomization, duplicate-object, policy-exception, catalog-info, yaml, input: structural checks")


def render_text(report: Report) -> str:
    lines = [f.render() for f in sorted(report.findings, key=lambda f: (f.file, f.line or 0, f.kind, f.name))]
    lines += [e.render() for e in report.exceptions]
    status = "OK" if report.ok else "FAILED"
    lines.append(
        f"manifest-checks: {status}: {report.checks_passed} checks passed, {report.checks_failed} checks failed "
        f"({len(report.findings)} findings, {len(report.exceptions)} exceptions applied; {report.files} files, "
        f"{report.objects} objects, {report.workflows} workflows)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.list_rules:
        print_rules()
        return 0
    if not args.paths and not args.workflows:
        print("error: nothing to check: pass manifest PATHS and/or --workflows DIR", file=sys.stderr)
        return 2
    report = Report()
    try:
        schema_dir(args.kubernetes_version)
        if args.paths:
            report.merge(check_paths(args.paths, catalog_info=args.catalog_info, component=args.component,
                                     allow_external=_split(args.allow_external),
                                     kubernetes_version=args.kubernetes_version, schema_only=args.schema_only,
                                     skip_kinds=_split(args.skip_kind)))
    except SchemaError as exc:
        print(f"error: {exc} (available: {', '.join(available_versions())})", file=sys.stderr)
        return 2
    if args.workflows:
        report.merge(check_workflows(args.workflows))
    if args.paths and report.files == 0 and not report.findings:
        print("error: no YAML files found in " + ", ".join(args.paths), file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, sort_keys=True))
    else:
        print(render_text(report))
    return 0 if report.ok else 1
