"""Read the expected Kubernetes id/namespace from a Backstage catalog-info.yaml."""

from __future__ import annotations

from dataclasses import dataclass

from .loader import load_file

KUBERNETES_ID = "backstage.io/kubernetes-id"
KUBERNETES_NAMESPACE = "backstage.io/kubernetes-namespace"


class CatalogError(Exception):
    pass


@dataclass(frozen=True)
class CatalogExpectation:
    component: str
    kubernetes_id: str
    namespace: str | None
    #: the Component's full entity ref, e.g. component:default/my-service
    entity_ref: str = ""


def read_catalog_info(path: str, component: str | None = None) -> CatalogExpectation:
    """Find the Component carrying ``backstage.io/kubernetes-id``.

    With several such Components, ``component`` (metadata.name) picks one.
    Raises CatalogError with a message that says what to fix.
    """
    try:
        docs = load_file(path)
    except OSError as exc:
        raise CatalogError(f"cannot read catalog-info {path}: {exc.strerror}") from exc
    for doc in docs:
        if doc.error:
            raise CatalogError(f"invalid YAML: {doc.error}")
    candidates = []
    for doc in docs:
        d = doc.data
        if not isinstance(d, dict) or d.get("kind") != "Component":
            continue
        meta = d.get("metadata") or {}
        annotations = meta.get("annotations") or {}
        if component and meta.get("name") != component:
            continue
        if annotations.get(KUBERNETES_ID):
            ns = annotations.get(KUBERNETES_NAMESPACE)
            ref = f"component:{meta.get('namespace') or 'default'}/{meta.get('name')}".lower()
            candidates.append(CatalogExpectation(str(meta.get("name")), str(annotations[KUBERNETES_ID]),
                                                 str(ns) if ns else None, ref))
    if not candidates:
        which = f"Component {component!r}" if component else "a Component"
        raise CatalogError(
            f"{which} with annotation {KUBERNETES_ID} was not found; add "
            f"metadata.annotations['{KUBERNETES_ID}'] to the Component that these manifests deploy"
        )
    if len(candidates) > 1:
        names = ", ".join(c.component for c in candidates)
        raise CatalogError(f"several Components carry {KUBERNETES_ID} ({names}); pick one with --component")
    return candidates[0]
