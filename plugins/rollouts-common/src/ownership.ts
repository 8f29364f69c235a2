import { JsonPatchOperation, jsonPointer } from './jsonPatch';
import { KubeLabelSelector, KubeObject } from './kube';

/**
 * Annotation on a Kubernetes object naming the catalog entity that may change
 * it through the rollouts plugin, as a full entity ref
 * (`component:default/fastapi-demo`).
 *
 * @remarks
 * Catalog annotations say which objects an entity *shows*; anyone who can
 * register a Component can point it at any labels. Write authority therefore
 * comes from the cluster: whoever deploys the object (its manifests, the GitOps
 * pipeline) names the owning entity here, and a write is refused unless the
 * object names the entity the user acts through.
 *
 * @public
 */
export const ENTITY_REF_ANNOTATION = 'rollouts.backstage.io/entity-ref';

const FULL_ENTITY_REF = /^([^:/\s]+):([^:/\s]+)\/([^:/\s]+)$/;

/**
 * The canonical form of a full entity ref (`kind:namespace/name`, compared
 * case-insensitively as the catalog does), or undefined when the text is not
 * a full ref.
 *
 * @public
 */
export function canonicalEntityRef(text: string): string | undefined {
  const m = FULL_ENTITY_REF.exec(text.trim());
  return m ? `${m[1]}:${m[2]}/${m[3]}`.toLocaleLowerCase('en-US') : undefined;
}

/** @public */
export type OwnershipCheck =
  | { owned: true; annotationValue: string }
  | { owned: false; reason: string };

/**
 * Whether the cluster says `object` belongs to `entityRef`: its
 * {@link ENTITY_REF_ANNOTATION} names that entity.
 *
 * @public
 */
export function checkOwnership(
  object: KubeObject,
  entityRef: string,
): OwnershipCheck {
  const kind = object.kind ?? 'Object';
  const where = `${kind} ${object.metadata?.namespace}/${object.metadata?.name}`;
  const value = object.metadata?.annotations?.[ENTITY_REF_ANNOTATION];
  if (value === undefined) {
    return {
      owned: false,
      reason: `${where} has no '${ENTITY_REF_ANNOTATION}' annotation, so the cluster does not say which entity may change it. Whoever deploys it must set the annotation to ${entityRef}.`,
    };
  }
  const expected = canonicalEntityRef(entityRef);
  if (expected === undefined || canonicalEntityRef(value) !== expected) {
    return {
      owned: false,
      reason: `${where} belongs to '${value}' (annotation '${ENTITY_REF_ANNOTATION}'), not to ${entityRef}.`,
    };
  }
  return { owned: true, annotationValue: value };
}

/**
 * A JSON Patch that first pins the object it was planned for: the API server
 * applies `patch` only if the object still has the same UID (it was not
 * deleted and re-created) and still names the same owning entity. Otherwise
 * the whole patch fails and nothing is written.
 *
 * @public
 */
export function pinnedPatch(
  object: KubeObject,
  ownership: { annotationValue: string },
  patch: JsonPatchOperation[],
): JsonPatchOperation[] {
  const uid = object.metadata?.uid;
  if (!uid) {
    throw new Error(
      'Cannot pin a patch to an object without metadata.uid (was it read from the API server?)',
    );
  }
  return [
    { op: 'test', path: '/metadata/uid', value: uid },
    {
      op: 'test',
      path: jsonPointer('metadata', 'annotations', ENTITY_REF_ANNOTATION),
      value: ownership.annotationValue,
    },
    ...patch,
  ];
}

/**
 * Why a label selector may not choose the objects of a write, or undefined if
 * it may. A write selector must pin at least one label to a value (`a=b` or
 * `a in (b)`): an empty selector matches everything, and one made only of
 * negations (`!a`, `a!=b`, `a notin (b)`) or bare existence (`a`) matches
 * everything that happens to lack or carry a label.
 *
 * @public
 */
export function writeSelectorRefusal(
  selector: KubeLabelSelector,
): string | undefined {
  const pinsValue =
    Object.keys(selector.matchLabels ?? {}).length > 0 ||
    (selector.matchExpressions ?? []).some(
      e => e.operator === 'In' && (e.values?.length ?? 0) > 0,
    );
  if (pinsValue) {
    return undefined;
  }
  const nothing =
    Object.keys(selector.matchLabels ?? {}).length === 0 &&
    (selector.matchExpressions ?? []).length === 0;
  return nothing
    ? 'the label selector is empty, so it matches every object'
    : 'the label selector pins no label to a value (only negations or existence checks), so it matches objects of other workloads';
}
