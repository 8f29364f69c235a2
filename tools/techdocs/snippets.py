#!/usr/bin/env python3
"""Extract, validate and export the YAML snippets of the portal's TechDocs.

Every ```yaml (or ```yml) fence in docs/**/*.md is one snippet. By default a snippet is
one or more complete Kubernetes objects, and each object must validate against the
Kubernetes OpenAPI schemas bundled with the `kubernetes-validate` package in *strict*
mode (unknown fields are errors), for every version in TARGET_VERSIONS.

A snippet that is deliberately not a complete built-in object says so with an HTML
comment on the line right before its fence (invisible in the rendered page):

    <!-- snippet: partial in=container -->   fragment, validated after being merged into
                                             a minimal object (see WRAPPERS for `in=`)
    <!-- snippet: partial -->                 fragment that only has to be valid YAML
    <!-- snippet: crd -->                     custom resource (Argo CD, External Secrets):
                                             needs apiVersion group/version, kind,
                                             metadata.name; no schema is bundled
    <!-- snippet: not-kubernetes -->          YAML that is not a Kubernetes API object
                                             (GitHub workflow, kustomization.yaml,
                                             EncryptionConfiguration, app-config)

Complete objects and fragments validated in context then go through the workload rules
(probe ports, readable Secret/ConfigMap files, `envFrom` on file keys; see "workload
rules" below): examples that are well-formed but could not work.

Command line (used by tools/techdocs/run-tests.sh):

    python tools/techdocs/snippets.py                 # validate, print a report
    python tools/techdocs/snippets.py --export DIR    # also write every complete
                                                      # object to DIR for a dry-run apply
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import re
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

import yaml

from workload_rules import env_from_problems, pod_spec_of, probe_problems, volume_problems

try:  # kubernetes-validate is pinned in requirements.txt
    import functools

    import kubernetes_validate
    import kubernetes_validate.utils as _kv_utils
    from kubernetes_validate.utils import SchemaNotFoundError, ValidationError

    # validate() re-reads and re-parses the 1.5 MB definitions file on every call; the
    # parsed schemas are never mutated, so caching them per (file, version) is safe and
    # makes the suite several times faster.
    if not hasattr(_kv_utils.schema_contents, "cache_info"):
        _kv_utils.schema_contents = functools.lru_cache(maxsize=None)(_kv_utils.schema_contents)
except ImportError:  # pragma: no cover - reported by main()/tests
    kubernetes_validate = None  # type: ignore[assignment]

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS_DIR = REPO_ROOT / "docs"

# Kubernetes minor versions every complete object must be valid for (1.3x, as the docs say).
TARGET_VERSIONS = ("1.34.0", "1.35.0", "1.36.0")

KINDS = ("kubernetes", "partial", "crd", "not-kubernetes")
YAML_LANGS = {"yaml", "yml"}

MARKER_RE = re.compile(r"^\s*<!--\s*snippet:\s*(?P<kind>[\w-]+)(?P<args>(?:\s+[\w-]+=[\w.-]+)*)\s*-->\s*$")
ANY_MARKER_RE = re.compile(r"^\s*<!--\s*snippet:")
FENCE_RE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")

_BASE_CONTAINER = {"name": "app", "image": "registry.example.com/app:1.0.0"}
_BASE_POD_SPEC = {"containers": [_BASE_CONTAINER]}
_BASE_LABELS = {"app.kubernetes.io/name": "snippet"}

# `in=<name>`: (base object, path of the mapping the fragment is deep-merged into).
WRAPPERS: dict[str, tuple[dict[str, Any], tuple[Any, ...]]] = {
    "container": (
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "snippet"},
         "spec": {"containers": [_BASE_CONTAINER]}},
        ("spec", "containers", 0),
    ),
    "pod-spec": (
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "snippet"}, "spec": _BASE_POD_SPEC},
        ("spec",),
    ),
    "deployment-spec": (
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "snippet"},
         "spec": {"selector": {"matchLabels": _BASE_LABELS},
                  "template": {"metadata": {"labels": _BASE_LABELS}, "spec": _BASE_POD_SPEC}}},
        ("spec",),
    ),
    "hpa-spec": (
        {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "snippet"},
         "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "snippet"},
                  "maxReplicas": 10}},
        ("spec",),
    ),
    "service-spec": (
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "snippet"},
         "spec": {"selector": _BASE_LABELS, "ports": [{"port": 80}]}},
        ("spec",),
    ),
}


class SnippetError(Exception):
    """A snippet (or a marker) is wrong; the message says where and what to fix."""


@dataclasses.dataclass
class Snippet:
    path: Path          # markdown file
    line: int           # 1-based line of the opening fence
    text: str           # block content, de-indented
    kind: str = "kubernetes"
    args: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def where(self) -> str:
        rel = self.path
        if self.path.is_absolute():
            try:
                rel = self.path.relative_to(REPO_ROOT)
            except ValueError:
                pass
        return f"{rel}:{self.line}"

    @property
    def id(self) -> str:
        return self.where

    def documents(self) -> list[Any]:
        try:
            docs = [d for d in yaml.safe_load_all(self.text) if d is not None]
        except yaml.YAMLError as exc:
            raise SnippetError(f"{self.where}: not valid YAML: {exc}") from exc
        if not docs:
            raise SnippetError(f"{self.where}: empty YAML block")
        return docs


# --------------------------------------------------------------------------- extraction

def _parse_marker(line: str, where: str) -> tuple[str, dict[str, str]] | None:
    if not ANY_MARKER_RE.search(line):
        return None
    m = MARKER_RE.match(line)
    if not m:
        raise SnippetError(f"{where}: malformed snippet marker {line.strip()!r}; "
                           "write e.g. <!-- snippet: partial in=container -->")
    kind = m.group("kind")
    if kind not in KINDS[1:]:
        raise SnippetError(f"{where}: unknown snippet kind {kind!r}; use one of {', '.join(KINDS[1:])}")
    args = dict(a.split("=", 1) for a in m.group("args").split())
    unknown = set(args) - {"in"}
    if unknown:
        raise SnippetError(f"{where}: unknown marker option(s) {sorted(unknown)}; only in= is supported")
    if "in" in args and (kind != "partial" or args["in"] not in WRAPPERS):
        raise SnippetError(f"{where}: in={args['in']} needs kind 'partial' and one of {sorted(WRAPPERS)}")
    return kind, args


def extract_from_text(text: str, path: Path) -> list[Snippet]:
    """Return the yaml fences of one markdown text, with their markers applied."""
    lines = text.splitlines()
    snippets: list[Snippet] = []
    pending: tuple[str, dict[str, str], int] | None = None  # marker waiting for its fence
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = FENCE_RE.match(line)
        if fence:
            indent, marks, info = fence.group("indent"), fence.group("fence"), fence.group("info").strip()
            lang = info.split()[0].lstrip("{.").rstrip("}").lower() if info else ""
            body: list[str] = []
            j = i + 1
            close_re = re.compile(r"^[ \t]*" + re.escape(marks[0]) + "{" + str(len(marks)) + r",}\s*$")
            while j < len(lines) and not close_re.match(lines[j]):
                body.append(lines[j][len(indent):] if lines[j].startswith(indent) else lines[j].lstrip())
                j += 1
            if j >= len(lines):
                raise SnippetError(f"{path}:{i + 1}: code fence is never closed")
            if lang in YAML_LANGS:
                kind, args = ("kubernetes", {}) if pending is None else (pending[0], pending[1])
                snippets.append(Snippet(path=path, line=i + 1, text="\n".join(body) + "\n", kind=kind, args=args))
                pending = None
            elif pending is not None:
                raise SnippetError(f"{path}:{pending[2]}: snippet marker is followed by a "
                                   f"```{lang or '(no language)'} fence, not a ```yaml fence")
            i = j + 1
            continue
        marker = _parse_marker(line, f"{path}:{i + 1}")
        if marker is not None:
            if pending is not None:
                raise SnippetError(f"{path}:{pending[2]}: snippet marker is not followed by a ```yaml fence")
            pending = (marker[0], marker[1], i + 1)
        elif pending is not None and line.strip():
            raise SnippetError(f"{path}:{pending[2]}: snippet marker must be directly above its ```yaml fence")
        i += 1
    if pending is not None:
        raise SnippetError(f"{path}:{pending[2]}: snippet marker is not followed by a ```yaml fence")
    return snippets


def extract(docs_dir: Path = DOCS_DIR) -> list[Snippet]:
    out: list[Snippet] = []
    for md in sorted(docs_dir.rglob("*.md")):
        out.extend(extract_from_text(md.read_text(encoding="utf-8"), md))
    return out


# --------------------------------------------------------------------------- validation

def _deep_merge(base: Any, fragment: Any) -> Any:
    if isinstance(base, dict) and isinstance(fragment, dict):
        merged = dict(base)
        for key, value in fragment.items():
            merged[key] = _deep_merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(fragment)


def wrap_fragment(fragment: Any, where_name: str) -> dict[str, Any]:
    base, path = WRAPPERS[where_name]
    obj = copy.deepcopy(base)
    parent: Any = obj
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = _deep_merge(parent[path[-1]], fragment)
    return obj


def validate_object(obj: Any, where: str, versions: Iterable[str] = TARGET_VERSIONS, strict: bool = True) -> None:
    """Raise SnippetError unless obj is a built-in Kubernetes object valid for all versions."""
    if kubernetes_validate is None:
        raise SnippetError("kubernetes-validate is not installed: run tools/techdocs/setup-venv.sh")
    if not isinstance(obj, dict) or not isinstance(obj.get("apiVersion"), str) or not isinstance(obj.get("kind"), str):
        raise SnippetError(f"{where}: not a Kubernetes object (needs apiVersion and kind). "
                           "Mark deliberate fragments with <!-- snippet: partial ... --> above the fence")
    name = (obj.get("metadata") or {}).get("name") if isinstance(obj.get("metadata"), dict) else None
    if not name:
        raise SnippetError(f"{where}: {obj['kind']} has no metadata.name")
    for version in versions:
        try:
            kubernetes_validate.validate(obj, version, strict=strict)
        except ValidationError as exc:
            path = ".".join(str(p) for p in exc.absolute_path) or "(root)"
            raise SnippetError(f"{where}: {obj['kind']}/{name} is invalid for Kubernetes {version} "
                               f"(strict={strict}) at {path}: {exc.message}") from exc
        except SchemaNotFoundError as exc:
            raise SnippetError(f"{where}: {exc.message}. Built-in kinds only; mark custom resources "
                               "with <!-- snippet: crd -->") from exc


def validate_snippet(snippet: Snippet, versions: Iterable[str] = TARGET_VERSIONS) -> list[dict[str, Any]]:
    """Validate one snippet according to its kind. Returns the complete objects it holds.

    Complete objects and fragments validated in context also go through the workload
    rules (check_workload): well-formed examples that still could not work.
    """
    docs = snippet.documents()
    if snippet.kind == "kubernetes":
        for n, doc in enumerate(docs, 1):
            where = f"{snippet.where} (document {n})"
            validate_object(doc, where, versions)
            check_workload(doc, where)
        return docs
    if snippet.kind == "partial":
        if "in" in snippet.args:
            for n, doc in enumerate(docs, 1):
                if not isinstance(doc, dict):
                    raise SnippetError(f"{snippet.where}: a partial in={snippet.args['in']} must be a mapping")
                obj = wrap_fragment(doc, snippet.args["in"])
                where = f"{snippet.where} (document {n}, wrapped in {snippet.args['in']})"
                validate_object(obj, where, versions)
                check_workload(obj, where)
        return []
    if snippet.kind == "crd":
        for n, doc in enumerate(docs, 1):
            api = doc.get("apiVersion", "") if isinstance(doc, dict) else ""
            ok = (isinstance(doc, dict) and re.fullmatch(r"[a-z0-9.-]+\.[a-z]+/v\d+\w*", str(api))
                  and isinstance(doc.get("kind"), str)
                  and isinstance(doc.get("metadata"), dict) and doc["metadata"].get("name"))
            if not ok:
                raise SnippetError(f"{snippet.where} (document {n}): a custom resource needs "
                                   "apiVersion <group>/<version>, kind and metadata.name")
        return []
    return []  # not-kubernetes: parsing as YAML (documents()) is the whole check


# --------------------------------------------------------------------------- workload rules
# (workload_rules.py: probe-port, probe-loopback, volume-readable, env-from-files)

def check_workload(obj: Any, where: str) -> None:
    """Raise SnippetError if a workload breaks one of the rules above."""
    pod = pod_spec_of(obj)
    if not isinstance(pod, dict):
        return
    problems = probe_problems(pod) + volume_problems(pod)
    if problems:
        name = (obj.get("metadata") or {}).get("name")
        raise SnippetError(f"{where}: {obj['kind']}/{name}: " + "; ".join(problems))


@dataclasses.dataclass
class Report:
    snippets: list[Snippet]
    errors: list[str]
    objects: list[tuple[Snippet, dict[str, Any]]]

    def counts(self) -> Counter:
        c: Counter = Counter()
        for s in self.snippets:
            key = s.kind
            if s.kind == "partial":
                key = "partial (validated in context)" if "in" in s.args else "partial (YAML only)"
            c[key] += 1
        return c


def validate_all(docs_dir: Path = DOCS_DIR, versions: Iterable[str] = TARGET_VERSIONS) -> Report:
    versions = tuple(versions)
    snippets = extract(docs_dir)
    errors: list[str] = []
    objects: list[tuple[Snippet, dict[str, Any]]] = []
    parsed: list[tuple[Snippet, dict[str, Any]]] = []  # also objects that failed a rule
    for s in snippets:
        try:
            objects.extend((s, o) for o in validate_snippet(s, versions))
        except SnippetError as exc:
            errors.append(str(exc))
        if s.kind == "kubernetes":
            try:
                parsed.extend((s, d) for d in s.documents()
                              if isinstance(d, dict) and isinstance(d.get("metadata"), dict))
            except SnippetError:
                pass  # already reported
    errors.extend(page_problems(parsed))
    return Report(snippets, errors, objects)


def page_problems(objects: list[tuple[Snippet, dict[str, Any]]]) -> list[str]:
    """Rules that need several objects of one page (see env_from_problems)."""
    pages: dict[Path, list[tuple[Snippet, dict[str, Any]]]] = {}
    for snippet, obj in objects:
        pages.setdefault(snippet.path, []).append((snippet, obj))
    errors = []
    for entries in pages.values():
        for problem in env_from_problems([o for _, o in entries]):
            name = problem.split(":", 1)[0]
            where = next((s.where for s, o in entries if f"{o['kind']}/{o['metadata'].get('name')}" == name),
                         entries[0][0].where)
            errors.append(f"{where}: {problem}")
    return errors


# --------------------------------------------------------------------------- export

def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def export(objects: list[tuple[Snippet, dict[str, Any]]], out_dir: Path) -> list[Path]:
    """Write the complete objects as files for a server-side dry run against a real cluster.

    `000-namespaces.yaml` holds every Namespace the snippets define plus one for each
    namespace they use without defining it; it must really be applied first, because a
    dry run cannot create namespaces for the objects in them:

        kubectl apply -f DIR/000-namespaces.yaml
        kubectl apply --dry-run=server -f DIR/

    Every other object gets its own file (`NNN-<kind>-<name>.yaml`, document order).
    Existing *.yaml files in out_dir are replaced.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.yaml"):
        old.unlink()
    written: list[Path] = []
    namespaces = [o for _, o in objects if o["kind"] == "Namespace"]
    defined = {o["metadata"]["name"] for o in namespaces}
    used = {o["metadata"].get("namespace") for _, o in objects} - {None, "default"}
    generated = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in sorted(used - defined)]
    if namespaces or generated:
        p = out_dir / "000-namespaces.yaml"
        p.write_text("# Namespaces defined by the docs' snippets, then those they only use.\n"
                     + yaml.safe_dump_all(namespaces + generated, sort_keys=False))
        written.append(p)
    others = [(snippet, obj) for snippet, obj in objects if obj["kind"] != "Namespace"]
    for seq, (snippet, obj) in enumerate(others, 1):
        rel = snippet.where.replace("docs/", "", 1)
        p = out_dir / f"{seq:03d}-{_slug(obj['kind'])}-{_slug(obj['metadata']['name'])}.yaml"
        p.write_text(f"# from {rel}\n" + yaml.safe_dump(obj, sort_keys=False))
        written.append(p)
    return written


WORKLOAD_KINDS = {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}


def export_workloads(objects: list[tuple[Snippet, dict[str, Any]]], out_dir: Path) -> list[Path]:
    """Write the workload objects without their namespace, for a Pod Security check:

        kubectl create namespace psa-check
        kubectl label namespace psa-check pod-security.kubernetes.io/enforce=restricted \\
            pod-security.kubernetes.io/warn=restricted
        kubectl apply -n psa-check --dry-run=server -f DIR/   # any "would violate" warning fails
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.yaml"):
        old.unlink()
    written = []
    for seq, (snippet, obj) in enumerate(((s, o) for s, o in objects if o["kind"] in WORKLOAD_KINDS), 1):
        obj = copy.deepcopy(obj)
        obj["metadata"].pop("namespace", None)
        p = out_dir / f"{seq:03d}-{_slug(obj['kind'])}-{_slug(obj['metadata']['name'])}.yaml"
        p.write_text(f"# from {snippet.where}\n" + yaml.safe_dump(obj, sort_keys=False))
        written.append(p)
    return written


# --------------------------------------------------------------------------- CLI

def main(argv: list[str] | None = None) -> int:
    if hasattr(signal, "SIGPIPE"):  # `snippets.py | head` ends quietly
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=Path, default=DOCS_DIR, help="docs directory (default: <repo>/docs)")
    parser.add_argument("--export", type=Path, metavar="DIR", help="write every complete object to DIR")
    parser.add_argument("--export-workloads", type=Path, metavar="DIR",
                        help="write the workloads (Pods, Deployments, Jobs...) without namespace to DIR")
    parser.add_argument("--versions", default=",".join(TARGET_VERSIONS),
                        help=f"Kubernetes versions to validate against (default: {','.join(TARGET_VERSIONS)})")
    args = parser.parse_args(argv)
    try:
        report = validate_all(args.docs, [v.strip() for v in args.versions.split(",") if v.strip()])
    except SnippetError as exc:
        print(f"snippets: ERROR: {exc}", file=sys.stderr)
        return 1
    for err in report.errors:
        print(f"snippets: FAIL {err}", file=sys.stderr)
    counts = report.counts()
    print(f"snippets: {len(report.snippets)} yaml blocks in {args.docs}: "
          + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    print(f"snippets: {len(report.objects)} Kubernetes objects validated (strict) against {args.versions}")
    for s in report.snippets:
        if s.kind != "kubernetes":
            detail = f" in={s.args['in']}" if "in" in s.args else ""
            print(f"snippets:   marked {s.kind}{detail}: {s.where}")
    if args.export and not report.errors:
        files = export(report.objects, args.export)
        print(f"snippets: exported {len(files)} files to {args.export}")
    if args.export_workloads and not report.errors:
        files = export_workloads(report.objects, args.export_workloads)
        print(f"snippets: exported {len(files)} workloads to {args.export_workloads}")
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
