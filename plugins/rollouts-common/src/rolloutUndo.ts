import { KubeDeployment, KubePodTemplateSpec, KubeReplicaSet } from './kube';
import { JsonPatchOperation } from './jsonPatch';
import { ENTITY_REF_ANNOTATION } from './ownership';
import { REVISION_ANNOTATION } from './rolloutStatus';

/** Label the Deployment controller adds to each ReplicaSet's pods. @public */
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

/**
 * Deployment annotations `kubectl rollout undo` keeps from the Deployment
 * instead of copying them from the ReplicaSet; plus the ownership annotation,
 * which whoever deploys sets and an undo must never change (an old ReplicaSet
 * may predate it).
 */
const ANNOTATIONS_TO_SKIP = new Set([
  ENTITY_REF_ANNOTATION,
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

/** @public */
export type UndoPlan =
  | {
      allowed: true;
      fromRevision?: string;
      toRevision: string;
      replicaSet: string;
      /** The template already equals the target revision: nothing to do. */
      skipped: boolean;
      patch: JsonPatchOperation[];
    }
  | {
      allowed: false;
      code: 'paused' | 'no-history' | 'unknown-revision';
      reason: string;
    };

/** ReplicaSets controlled by the Deployment, newest revision first. @public */
export function ownedReplicaSets(
  deployment: KubeDeployment,
  replicaSets: KubeReplicaSet[],
): KubeReplicaSet[] {
  const uid = deployment.metadata?.uid;
  return replicaSets
    .filter(rs =>
      rs.metadata?.ownerReferences?.some(
        o => o.controller && o.kind === 'Deployment' && o.uid === uid,
      ),
    )
    .filter(rs => revisionOf(rs) !== undefined)
    .sort((a, b) => revisionOf(b)! - revisionOf(a)!);
}

function revisionOf(obj: {
  metadata?: { annotations?: Record<string, string> };
}) {
  const text = obj.metadata?.annotations?.[REVISION_ANNOTATION];
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  return Number(text);
}

function withoutHash(
  template: KubePodTemplateSpec | undefined,
): KubePodTemplateSpec {
  const copy: KubePodTemplateSpec = JSON.parse(JSON.stringify(template ?? {}));
  if (copy.metadata?.labels) {
    delete copy.metadata.labels[POD_TEMPLATE_HASH_LABEL];
  }
  return copy;
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

/**
 * Plans a rollback of a Deployment's pod template to an earlier revision, the
 * way `kubectl rollout undo` does: the target is `toRevision`, or else the
 * ReplicaSet with the second-highest revision; its template (without the
 * pod-template-hash label) replaces the Deployment's, its annotations replace
 * the Deployment's except the ones kubectl keeps. The patch starts with a
 * `test` of `metadata.generation`, so a concurrent change of the spec fails
 * instead of being overwritten. The generation, not the resourceVersion: the
 * controller rewrites the status (and so the resourceVersion) many times a
 * second during a rollout, which would fail every undo of a rollout in flight.
 *
 * @public
 */
export function planUndo(
  deployment: KubeDeployment,
  replicaSets: KubeReplicaSet[],
  toRevision?: string,
): UndoPlan {
  const name = deployment.metadata?.name ?? '';
  if (deployment.spec?.paused) {
    return {
      allowed: false,
      code: 'paused',
      reason: `Deployment ${name} is paused; resume it (kubectl rollout resume deployment/${name}) before rolling it back.`,
    };
  }
  const history = ownedReplicaSets(deployment, replicaSets);
  let target: KubeReplicaSet | undefined;
  if (toRevision !== undefined) {
    target = history.find(rs => String(revisionOf(rs)) === toRevision);
    if (!target) {
      return {
        allowed: false,
        code: 'unknown-revision',
        reason: `Revision ${toRevision} of Deployment ${name} is not in its history (kept: ${
          history.map(rs => revisionOf(rs)).join(', ') || 'none'
        }).`,
      };
    }
  } else {
    target = history[1];
    if (!target) {
      return {
        allowed: false,
        code: 'no-history',
        reason: `No rollout history found for Deployment ${name}: there is no earlier revision to go back to.`,
      };
    }
  }
  const template = withoutHash(target.spec?.template);
  const fromRevision = deployment.metadata?.annotations?.[REVISION_ANNOTATION];
  const targetRevision = String(revisionOf(target));
  const skipped =
    canonical(template) === canonical(withoutHash(deployment.spec?.template));

  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(deployment.metadata?.annotations ?? {})) {
    if (ANNOTATIONS_TO_SKIP.has(k)) annotations[k] = v;
  }
  for (const [k, v] of Object.entries(target.metadata?.annotations ?? {})) {
    if (!ANNOTATIONS_TO_SKIP.has(k)) annotations[k] = v;
  }
  return {
    allowed: true,
    fromRevision,
    toRevision: targetRevision,
    replicaSet: target.metadata?.name ?? '',
    skipped,
    patch: skipped
      ? []
      : [
          {
            op: 'test',
            path: '/metadata/generation',
            value: deployment.metadata?.generation,
          },
          { op: 'replace', path: '/spec/template', value: template },
          { op: 'replace', path: '/metadata/annotations', value: annotations },
        ],
  };
}
