"""Read the expected Kubernetes id/namespace from a Backstage catalog-info.yaml."""

from __future__ import annotations

from dataclasses import dataclass

from .loader import load_file

KUBERNETES_ID = "backstage.io/kubernetes-id"
KUBERNETES_NAMESPACE = "backstage.io/kubernetes-namespace"
LABEL_SELECTOR = "backstage.io/kubernetes-label-selector"


class CatalogError(Exception):
    pass


@dataclass(frozen=True)
class CatalogExpectation:
    component: str
    kubernetes_id: str
    namespace: str | None
    #: the Component's full entity ref, e.g. component:default/my-service
    entity_ref: str = ""
    #: a System of several Components: each Component's pod labels (its
    #: backstage.io/kubernetes-label-selector) and its entity ref
    component_selectors: tuple[tuple[tuple[tuple[str, str], ...], str], ...] = ()


def _ref(kind: str, meta: dict) -> str:
    return f"{kind}:{meta.get('namespace') or 'default'}/{meta.get('name')}".lower()


def _entities(docs: list, kind: str):
    """(entity, metadata, annotations) of each entity of ``kind``."""
    for doc in docs:
        d = doc.data
        if isinstance(d, dict) and d.get("kind") == kind:
            meta = d.get("metadata") or {}
            yield d, meta, meta.get("annotations") or {}


def _equality_selector(text: str) -> tuple[tuple[str, str], ...] | None:
    """``a=b,c=d`` as pairs; None for anything else (set-based selectors)."""
    pairs = []
    for part in str(text).split(","):
        key, sep, value = part.strip().partition("=")
        if not sep or not key or value.startswith("=") or key.endswith("!"):
            return None
        pairs.append((key.strip(), value.strip()))
    return tuple(pairs)


def _system_expectation(docs: list) -> CatalogExpectation | None:
    """A System carrying the Kubernetes annotations, whose Components each select their
    own objects with an equality label selector (one repository, several services)."""
    for _, meta, annotations in _entities(docs, "System"):
        if not annotations.get(KUBERNETES_ID):
            continue
        selectors = []
        for c, cmeta, cannotations in _entities(docs, "Component"):
            if str((c.get("spec") or {}).get("system", "")).split("/")[-1].removeprefix("system:") != meta.get("name"):
                continue
            selector = _equality_selector(cannotations.get(LABEL_SELECTOR, ""))
            if selector is None:
                raise CatalogError(
                    f"Component {cmeta.get('name')!r} of System {meta.get('name')!r} needs an annotation "
                    f"{LABEL_SELECTOR} of the form key=value[,key=value] naming its own objects"
                )
            selectors.append((selector, _ref("component", cmeta)))
        if selectors:
            ns = annotations.get(KUBERNETES_NAMESPACE)
            return CatalogExpectation(str(meta.get("name")), str(annotations[KUBERNETES_ID]),
                                      str(ns) if ns else None, "", tuple(selectors))
    return None


def read_catalog_info(path: str, component: str | None = None) -> CatalogExpectation:
    """Find the Component carrying ``backstage.io/kubernetes-id``, or else a System
    carrying it whose Components select their own objects by label.

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
    for _, meta, annotations in _entities(docs, "Component"):
        if component and meta.get("name") != component:
            continue
        if annotations.get(KUBERNETES_ID):
            ns = annotations.get(KUBERNETES_NAMESPACE)
            ref = _ref("component", meta)
            candidates.append(CatalogExpectation(str(meta.get("name")), str(annotations[KUBERNETES_ID]),
                                                 str(ns) if ns else None, ref))
    if not candidates and component is None:
        system = _system_expectation(docs)
        if system is not None:
            return system
    if not candidates:
        which = f"Component {component!r}" if component else "a Component"
        raise CatalogError(
            f"{which} with annotation {KUBERNETES_ID} was not found; add "
            f"metadata.annotations['{KUBERNETES_ID}'] to the Component that these manifests deploy "
            f"(or to their System, with {LABEL_SELECTOR} on each of its Components)"
        )
    if len(candidates) > 1:
        names = ", ".join(c.component for c in candidates)
        raise CatalogError(f"several Components carry {KUBERNETES_ID} ({names}); pick one with --component")
    return candidates[0]
