import { JsonPatchOperation, jsonPointer } from './jsonPatch';
import { KubeDeployment } from './kube';

/**
 * Deployment annotation: when the slot that was switched away from is scaled
 * to 0 (RFC 3339). Until then it keeps running, so a rollback is instant (the
 * `scaleDownDelaySeconds` of Argo Rollouts).
 *
 * @public
 */
export const SCALE_DOWN_AT_ANNOTATION = 'rollouts.backstage.io/scale-down-at';

/**
 * Deployment annotation: the replica count a rollback restores after the
 * scheduled scale-down. Set with {@link SCALE_DOWN_AT_ANNOTATION}, kept after
 * the scale-down, removed when the slot is scaled back up or the schedule is
 * cancelled.
 *
 * @public
 */
export const RESTORE_REPLICAS_ANNOTATION =
  'rollouts.backstage.io/restore-replicas';

/** The longest scale-down delay a switch accepts: 7 days. @public */
export const MAX_SCALE_DOWN_DELAY_SECONDS = 7 * 24 * 60 * 60;

/**
 * A slot's scale-down as its Deployment's annotations say:
 * - `scheduled`: it runs `replicas` until `at`, then is scaled to 0;
 * - `scaled-down`: it was scaled to 0 and a rollback restores `replicas`;
 * - `invalid`: the annotations cannot be read (nothing will happen).
 *
 * @public
 */
export type SlotScaleDown =
  | { state: 'scheduled'; at: string; replicas: number }
  | { state: 'scaled-down'; replicas: number }
  | { state: 'invalid'; reason: string };

/** A patch of a slot's Deployment, or why there is none. @public */
export type ScaleDownPlan =
  | { allowed: true; patch: JsonPatchOperation[] }
  | { allowed: false; reason: string };

/** {@link planScheduleScaleDown}'s plan: when, and the count to restore. @public */
export type ScheduleScaleDownPlan =
  | { allowed: true; at: string; replicas: number; patch: JsonPatchOperation[] }
  | { allowed: false; reason: string };

/** {@link planRestoreReplicas}'s plan: the count it restores. @public */
export type RestoreReplicasPlan =
  | { allowed: true; replicas: number; patch: JsonPatchOperation[] }
  | { allowed: false; reason: string };

const annotationPath = (key: string) =>
  jsonPointer('metadata', 'annotations', key);

function replicaCount(text: string | undefined): number | undefined {
  if (text === undefined || !/^[1-9][0-9]{0,5}$/.test(text)) return undefined;
  return Number(text);
}

/** RFC 3339 in UTC, whole seconds (as Kubernetes writes times). */
function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The scale-down state of a slot's Deployment, or undefined when none was
 * scheduled.
 *
 * @public
 */
export function scaleDownState(
  deployment: KubeDeployment,
): SlotScaleDown | undefined {
  const annotations = deployment.metadata?.annotations ?? {};
  const at = annotations[SCALE_DOWN_AT_ANNOTATION];
  const restore = annotations[RESTORE_REPLICAS_ANNOTATION];
  const replicas = replicaCount(restore);
  if (at !== undefined) {
    if (Number.isNaN(Date.parse(at)) || !/^\d{4}-\d\d-\d\dT/.test(at)) {
      return {
        state: 'invalid',
        reason: `${SCALE_DOWN_AT_ANNOTATION} is '${at}', not an RFC 3339 time`,
      };
    }
    if (replicas === undefined) {
      return {
        state: 'invalid',
        reason: `${RESTORE_REPLICAS_ANNOTATION} is '${
          restore ?? ''
        }', not a replica count`,
      };
    }
    return { state: 'scheduled', at, replicas };
  }
  if (replicas !== undefined && deployment.spec?.replicas === 0) {
    return { state: 'scaled-down', replicas };
  }
  return undefined;
}

/** Whether a scheduled scale-down is due at `now` (ms since the epoch). @public */
export function isScaleDownDue(
  state: SlotScaleDown | undefined,
  now: number,
): boolean {
  return state?.state === 'scheduled' && Date.parse(state.at) <= now;
}

/**
 * Plans the annotations that schedule a scale-down of the slot switched away
 * from: `delaySeconds` after `now`, restoring its current replica count. The
 * patch tests that count, so a concurrent scale makes it fail.
 *
 * @public
 */
export function planScheduleScaleDown(
  deployment: KubeDeployment,
  options: { delaySeconds: number; now: number },
): ScheduleScaleDownPlan {
  const { delaySeconds, now } = options;
  if (
    !Number.isInteger(delaySeconds) ||
    delaySeconds < 0 ||
    delaySeconds > MAX_SCALE_DOWN_DELAY_SECONDS
  ) {
    return {
      allowed: false,
      reason: `scaleDownDelaySeconds must be a whole number of seconds from 0 to ${MAX_SCALE_DOWN_DELAY_SECONDS}, got ${delaySeconds}`,
    };
  }
  const replicas = deployment.spec?.replicas ?? 1;
  if (replicas < 1) {
    return {
      allowed: false,
      reason: `Deployment ${deployment.metadata?.name} is already scaled to 0 replicas`,
    };
  }
  const at = rfc3339(now + delaySeconds * 1000);
  const values = {
    [SCALE_DOWN_AT_ANNOTATION]: at,
    [RESTORE_REPLICAS_ANNOTATION]: String(replicas),
  };
  const annotate: JsonPatchOperation[] = deployment.metadata?.annotations
    ? Object.entries(values).map(([key, value]) => ({
        op: 'add' as const,
        path: annotationPath(key),
        value,
      }))
    : [{ op: 'add', path: '/metadata/annotations', value: values }];
  return {
    allowed: true,
    at,
    replicas,
    patch: [
      { op: 'test', path: '/spec/replicas', value: replicas },
      ...annotate,
    ],
  };
}

/**
 * Plans the scale-down itself, for a Deployment read fresh when it is due: the
 * patch tests the schedule, the slot label and the current replica count (a
 * rollback that cancelled the schedule, or a concurrent scale, makes it fail),
 * sets 0 replicas and records the count to restore.
 *
 * @public
 */
export function planScaleDown(
  deployment: KubeDeployment,
  slotLabel: string,
): ScaleDownPlan {
  const state = scaleDownState(deployment);
  if (state?.state !== 'scheduled') {
    return {
      allowed: false,
      reason: `Deployment ${
        deployment.metadata?.name
      } has no valid scheduled scale-down${
        state?.state === 'invalid' ? ` (${state.reason})` : ''
      }`,
    };
  }
  const slot = deployment.spec?.template?.metadata?.labels?.[slotLabel];
  if (slot === undefined) {
    return {
      allowed: false,
      reason: `Deployment ${deployment.metadata?.name} has no '${slotLabel}' label: it is not a slot`,
    };
  }
  const current = deployment.spec?.replicas ?? 1;
  const pins: JsonPatchOperation[] = [
    {
      op: 'test',
      path: annotationPath(SCALE_DOWN_AT_ANNOTATION),
      value: state.at,
    },
    {
      op: 'test',
      path: jsonPointer('spec', 'template', 'metadata', 'labels', slotLabel),
      value: slot,
    },
    { op: 'test', path: '/spec/replicas', value: current },
  ];
  if (current === 0) {
    // Scaled to 0 by someone else meanwhile: only the schedule goes.
    return {
      allowed: true,
      patch: [
        ...pins,
        { op: 'remove', path: annotationPath(SCALE_DOWN_AT_ANNOTATION) },
      ],
    };
  }
  return {
    allowed: true,
    patch: [
      ...pins,
      { op: 'replace', path: '/spec/replicas', value: 0 },
      { op: 'remove', path: annotationPath(SCALE_DOWN_AT_ANNOTATION) },
      {
        op: 'add',
        path: annotationPath(RESTORE_REPLICAS_ANNOTATION),
        value: String(current),
      },
    ],
  };
}

/**
 * Plans the cancellation of a scheduled scale-down (the slot takes traffic
 * again): the patch tests the schedule it removes, so it fails if the
 * scale-down ran meanwhile.
 *
 * @public
 */
export function planCancelScaleDown(deployment: KubeDeployment): ScaleDownPlan {
  const annotations = deployment.metadata?.annotations ?? {};
  const at = annotations[SCALE_DOWN_AT_ANNOTATION];
  if (at === undefined) {
    return {
      allowed: false,
      reason: `Deployment ${deployment.metadata?.name} has no scheduled scale-down`,
    };
  }
  return {
    allowed: true,
    patch: [
      { op: 'test', path: annotationPath(SCALE_DOWN_AT_ANNOTATION), value: at },
      { op: 'remove', path: annotationPath(SCALE_DOWN_AT_ANNOTATION) },
      ...(annotations[RESTORE_REPLICAS_ANNOTATION] === undefined
        ? []
        : [
            {
              op: 'remove' as const,
              path: annotationPath(RESTORE_REPLICAS_ANNOTATION),
            },
          ]),
    ],
  };
}

/**
 * Plans scaling a slot back up after its scheduled scale-down, to the replica
 * count recorded then; refused unless the slot is at 0 with that record.
 *
 * @public
 */
export function planRestoreReplicas(
  deployment: KubeDeployment,
): RestoreReplicasPlan {
  const state = scaleDownState(deployment);
  if (state?.state !== 'scaled-down') {
    return {
      allowed: false,
      reason: `Deployment ${
        deployment.metadata?.name
      } was not scaled down by a scheduled scale-down (it has ${
        deployment.spec?.replicas ?? 1
      } replicas${
        deployment.metadata?.annotations?.[RESTORE_REPLICAS_ANNOTATION] ===
        undefined
          ? ` and no ${RESTORE_REPLICAS_ANNOTATION} annotation`
          : ''
      })`,
    };
  }
  return {
    allowed: true,
    replicas: state.replicas,
    patch: [
      { op: 'test', path: '/spec/replicas', value: 0 },
      {
        op: 'test',
        path: annotationPath(RESTORE_REPLICAS_ANNOTATION),
        value: String(state.replicas),
      },
      { op: 'replace', path: '/spec/replicas', value: state.replicas },
      { op: 'remove', path: annotationPath(RESTORE_REPLICAS_ANNOTATION) },
    ],
  };
}
