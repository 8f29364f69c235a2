import { Entity } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import {
  KUBERNETES_CLUSTER_ANNOTATION,
  KUBERNETES_ID_ANNOTATION,
  KUBERNETES_LABEL_SELECTOR_ANNOTATION,
  KUBERNETES_NAMESPACE_ANNOTATION,
  KubeLabelSelector,
  checkOwnership,
  KubeObject,
  matchesLabelSelector,
  parseLabelSelector,
} from '@golden-path/plugin-rollouts-common';

/** Which Kubernetes objects belong to an entity. @public */
export interface EntitySelection {
  labelSelector: KubeLabelSelector;
  namespace?: string;
  cluster?: string;
}

/**
 * Finds an entity's objects the way the Kubernetes plugin does:
 * `backstage.io/kubernetes-label-selector` if set, else the label
 * `backstage.io/kubernetes-id=<id>`; optionally restricted by
 * `backstage.io/kubernetes-namespace` and `backstage.io/kubernetes-cluster`.
 *
 * @returns undefined when the entity has neither annotation.
 *
 * @public
 */
export function entitySelection(entity: Entity): EntitySelection | undefined {
  const annotations = entity.metadata.annotations ?? {};
  const selectorText = annotations[KUBERNETES_LABEL_SELECTOR_ANNOTATION];
  const id = annotations[KUBERNETES_ID_ANNOTATION];
  let labelSelector: KubeLabelSelector;
  if (selectorText) {
    try {
      labelSelector = parseLabelSelector(selectorText);
    } catch (e) {
      throw new InputError(
        `Entity annotation ${KUBERNETES_LABEL_SELECTOR_ANNOTATION} is not a valid label selector: ${
          (e as Error).message
        }`,
      );
    }
    if (
      Object.keys(labelSelector.matchLabels ?? {}).length === 0 &&
      (labelSelector.matchExpressions ?? []).length === 0
    ) {
      throw new InputError(
        `Entity annotation ${KUBERNETES_LABEL_SELECTOR_ANNOTATION} is empty, which would select every object in the cluster; give a selector such as app=my-service`,
      );
    }
  } else if (id) {
    labelSelector = { matchLabels: { [KUBERNETES_ID_ANNOTATION]: id } };
  } else {
    return undefined;
  }
  return {
    labelSelector,
    namespace: annotations[KUBERNETES_NAMESPACE_ANNOTATION] || undefined,
    cluster: annotations[KUBERNETES_CLUSTER_ANNOTATION] || undefined,
  };
}

/** Whether an object carries the entity's labels (and is in its namespace). */
export function selects(selection: EntitySelection, obj: KubeObject): boolean {
  if (
    selection.namespace !== undefined &&
    obj.metadata?.namespace !== selection.namespace
  ) {
    return false;
  }
  return matchesLabelSelector(selection.labelSelector, obj.metadata?.labels);
}

/**
 * Whether a Flux Kustomization belongs to the entity: its ownership annotation
 * names the entity, or it carries the entity's labels. In any namespace: Flux's
 * objects live in Flux's namespace, not where the entity's workloads are
 * (`backstage.io/kubernetes-namespace` restricts those).
 */
export function selectsKustomization(
  selection: EntitySelection,
  entityRef: string,
  obj: KubeObject,
): boolean {
  return (
    checkOwnership(obj, entityRef).owned ||
    matchesLabelSelector(selection.labelSelector, obj.metadata?.labels)
  );
}
