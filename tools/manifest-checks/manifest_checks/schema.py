"""Strict OpenAPI schema validation, offline.

The JSON schemas come from the ``kubernetes-validate`` package (PyPI), which
bundles the schemas generated from the Kubernetes OpenAPI spec for every
supported minor release, in a "-strict" variant where every object has
``additionalProperties: false``: an unknown or misspelt field is an error, as
it is for ``kubectl apply --validate=strict``.

We use the package's schema files directly (instead of its ``validate()``),
so that every error of a document is reported, not only the first one, and
so that validators are built once per kind.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import importlib_resources
import jsonschema
from jsonschema.exceptions import ValidationError, best_match
from packaging.version import Version
from referencing import Registry, Resource

from .model import Finding

DEFAULT_KUBERNETES_VERSION = "1.37"
MAX_ERRORS_PER_DOCUMENT = 20
RULE = "schema"


class SchemaError(Exception):
    pass


def _schema_root() -> Path:
    return Path(str(importlib_resources.files("kubernetes_validate").joinpath("kubernetes-json-schema")))


def available_versions() -> list[str]:
    """Kubernetes minor versions (e.g. '1.37') with bundled strict schemas."""
    out = []
    for child in _schema_root().iterdir():
        m = re.fullmatch(r"v(\d+\.\d+)\.\d+-local-strict", child.name)
        if m:
            out.append(m.group(1))
    return sorted(out, key=Version)


@lru_cache(maxsize=None)
def schema_dir(kubernetes_version: str) -> Path:
    """The strict schema folder for a minor version ('1.37', 'v1.37.2' ...)."""
    m = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?", kubernetes_version.strip())
    if not m:
        raise SchemaError(f"cannot read Kubernetes version {kubernetes_version!r}: use MAJOR.MINOR, e.g. 1.37")
    wanted = f"{m.group(1)}.{m.group(2)}"
    versions = available_versions()
    if wanted not in versions:
        raise SchemaError(
            f"no bundled schemas for Kubernetes {wanted}; kubernetes-validate offers {', '.join(versions)}"
        )
    matches = sorted(p for p in _schema_root().glob(f"v{wanted}.*-local-strict"))
    return matches[-1]


def _schema_file_name(kind: str, api_version: str) -> str:
    # rbac.authorization.k8s.io/v1 -> rbac-v1 ; apps/v1 -> apps-v1 ; v1 -> v1
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return f"{kind.lower()}-{group_version}.json"


CRD_DIR = Path(__file__).resolve().parent / "crds"


def _strict(schema: Any) -> Any:
    """A CRD's openAPIV3Schema made strict the way the API server's strict field validation
    is: an object schema that lists its properties rejects any other field, unless it says
    otherwise (additionalProperties, x-kubernetes-preserve-unknown-fields)."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _strict(value) for key, value in schema.items()}
    if ("properties" in out and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out


@lru_cache(maxsize=None)
def _crd_validator(kind: str, api_version: str) -> jsonschema.protocols.Validator | None:
    """A validator for a vendored custom resource (manifest_checks/crds/, written by
    scripts/vendor-crd-schemas.py), or None for an unknown one."""
    group, _, version = api_version.rpartition("/")
    path = CRD_DIR / f"{kind.lower()}-{group}-{version}.json"
    if not group or not path.is_file():
        return None
    with open(path, encoding="utf-8") as fh:
        schema = _strict(json.load(fh))
    return jsonschema.validators.Draft7Validator(schema)


@lru_cache(maxsize=None)
def _definitions(directory: Path) -> Resource:
    with open(directory / "_definitions.json", encoding="utf-8") as fh:
        return Resource.from_contents(json.load(fh))


@lru_cache(maxsize=None)
def _validator(directory: Path, file_name: str) -> jsonschema.protocols.Validator | None:
    path = directory / file_name
    if not path.is_file():
        return None
    with open(path, encoding="utf-8") as fh:
        schema = json.load(fh)
    registry: Registry = Resource.from_contents(schema) @ Registry()
    registry = _definitions(directory) @ registry
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def _json_path(error: ValidationError) -> str:
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def _fix_for(error: ValidationError, kind: str) -> str:
    if error.validator == "additionalProperties":
        return "remove the unknown field or correct its spelling/indentation (strict mode rejects unknown fields)"
    if error.validator == "required":
        return "add the required field"
    if error.validator in ("type", "format"):
        return "use the type the Kubernetes API expects (quote numbers meant as strings, e.g. label values)"
    if error.validator == "enum":
        return "use one of the allowed values"
    return f"compare with `kubectl explain {kind.lower()}` for this Kubernetes version"


def validate_document(
    doc: Any,
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
    *,
    file: str = "<document>",
    line: int | None = None,
    skip_kinds: Iterable[str] = (),
) -> list[Finding]:
    """Validate one parsed Kubernetes object in strict mode.

    Returns a list of findings (empty when the document is valid). Objects of
    a kind in ``skip_kinds`` (e.g. a CRD kind with no bundled schema) are not
    schema-checked.
    """
    if not isinstance(doc, dict):
        return [Finding(file, "?", "?", RULE, f"document is a {type(doc).__name__}, not a Kubernetes object (mapping)",
                        "each YAML document must be a mapping with apiVersion, kind and metadata", line)]
    kind = doc.get("kind")
    api_version = doc.get("apiVersion")
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    name = str(meta.get("name") or meta.get("generateName") or "?")
    shown_kind = str(kind or "?")
    if not isinstance(kind, str) or not kind or not isinstance(api_version, str) or not api_version:
        return [Finding(file, shown_kind, name, RULE, "apiVersion and kind are required",
                        "set apiVersion (e.g. apps/v1) and kind (e.g. Deployment)", line)]
    if kind in set(skip_kinds):
        return []
    directory = schema_dir(kubernetes_version)
    validator = _validator(directory, _schema_file_name(kind, api_version)) or _crd_validator(kind, api_version)
    if validator is None:
        return [Finding(file, kind, name, RULE,
                        f"no schema for kind {kind} in apiVersion {api_version} (Kubernetes {kubernetes_version})",
                        "check apiVersion/kind spelling and that the API exists in this Kubernetes version; "
                        "for a custom resource vendor its schema (scripts/vendor-crd-schemas.py) or pass --skip-kind "
                        + kind, line)]
    findings: list[Finding] = []
    errors = sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    for error in errors[:MAX_ERRORS_PER_DOCUMENT]:
        shown = best_match(error.context) if error.context else error
        findings.append(Finding(file, kind, name, RULE, f"{_json_path(shown)}: {shown.message}",
                                _fix_for(shown, kind), line, _json_path(shown)))
    if len(errors) > MAX_ERRORS_PER_DOCUMENT:
        findings.append(Finding(file, kind, name, RULE,
                                f"{len(errors) - MAX_ERRORS_PER_DOCUMENT} more schema errors not shown",
                                "fix the errors above and run again", line))
    if not meta.get("name") and not meta.get("generateName"):
        findings.append(Finding(file, kind, name, RULE, "metadata.name is required", "set metadata.name", line,
                                "metadata.name"))
    return findings
