"""Static checks for Kubernetes manifests and GitHub Actions workflows.

Public API:
    validate_document(doc: dict, kubernetes_version="1.37") -> list[Finding]   # strict schema, one object
    validate_yaml(text: str, source="<snippet>") -> list[Finding]             # strict schema, YAML string
    check_paths(paths, catalog_info=..., allow_external=...) -> Report        # schema + policy
    check_workflows(paths) -> Report                                          # workflow rules + actionlint + zizmor
"""

from .checker import check_paths, validate_yaml
from .model import AppliedException, Finding, Report
from .policy import RULES as POLICY_RULES
from .schema import DEFAULT_KUBERNETES_VERSION, validate_document
from .workflows import WORKFLOW_RULES, check_workflows

__all__ = [
    "AppliedException", "DEFAULT_KUBERNETES_VERSION", "Finding", "POLICY_RULES", "Report", "WORKFLOW_RULES",
    "check_paths", "check_workflows", "validate_document", "validate_yaml",
]
