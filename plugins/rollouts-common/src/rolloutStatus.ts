import { IntOrString, KubeDeployment } from './kube';

/** Annotation the Deployment controller keeps the revision number in. @public */
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

/** `Progressing` condition reason when `progressDeadlineSeconds` passed. @public */
export const PROGRESS_DEADLINE_EXCEEDED = 'ProgressDeadlineExceeded';

/**
 * Where a Deployment's rollout stands, using the same checks in the same order
 * as `kubectl rollout status`.
 *
 * @public
 */
export type RolloutPhase =
  | 'waiting-for-spec-update'
  | 'failed'
  | 'updating-replicas'
  | 'terminating-old-replicas'
  | 'waiting-for-available'
  | 'complete';

/** Rolling-update strategy with percentages resolved to pod counts. @public */
export interface RolloutStrategy {
  type: 'RollingUpdate' | 'Recreate' | string;
  /** As written in the spec, or the default `25%`. */
  maxSurge?: IntOrString;
  maxUnavailable?: IntOrString;
  /** Extra pods the rollout may create above the desired count. */
  maxSurgePods?: number;
  /** Pods that may be unavailable during the rollout. */
  maxUnavailablePods?: number;
}

/** @public */
export interface RolloutStatus {
  phase: RolloutPhase;
  /** Same sentence `kubectl rollout status` prints. */
  message: string;
  complete: boolean;
  paused: boolean;
  desired: number;
  current: number;
  updated: number;
  ready: number;
  available: number;
  unavailable: number;
  generation?: number;
  observedGeneration?: number;
  revision?: string;
  strategy: RolloutStrategy;
  images: { container: string; image: string }[];
}

const DEFAULT_SURGE_OR_UNAVAILABLE = '25%';

/**
 * Resolves an int-or-percent value against a total, like the Deployment
 * controller's `intstr.GetScaledValueFromIntOrPercent`.
 *
 * @public
 */
export function scaledValue(
  value: IntOrString,
  total: number,
  roundUp: boolean,
): number {
  if (typeof value === 'number') {
    return value;
  }
  const trimmed = value.trim();
  if (trimmed.endsWith('%')) {
    const percent = Number(trimmed.slice(0, -1));
    if (!Number.isFinite(percent)) {
      throw new Error(`Invalid percentage '${value}'`);
    }
    const raw = (percent * total) / 100;
    return roundUp ? Math.ceil(raw) : Math.floor(raw);
  }
  const n = Number(trimmed);
  if (!Number.isInteger(n)) {
    throw new Error(`Invalid int-or-percent value '${value}'`);
  }
  return n;
}

/**
 * Strategy with defaults (RollingUpdate, 25% surge rounded up, 25% unavailable
 * rounded down; if both resolve to 0, one pod may be unavailable, as the
 * controller's `ResolveFenceposts` does).
 *
 * @public
 */
export function resolveStrategy(deployment: KubeDeployment): RolloutStrategy {
  const strategy = deployment.spec?.strategy;
  const type = strategy?.type ?? 'RollingUpdate';
  if (type !== 'RollingUpdate') {
    return { type };
  }
  const desired = deployment.spec?.replicas ?? 1;
  const maxSurge =
    strategy?.rollingUpdate?.maxSurge ?? DEFAULT_SURGE_OR_UNAVAILABLE;
  const maxUnavailable =
    strategy?.rollingUpdate?.maxUnavailable ?? DEFAULT_SURGE_OR_UNAVAILABLE;
  const surge = scaledValue(maxSurge, desired, true);
  let unavailable = scaledValue(maxUnavailable, desired, false);
  if (surge === 0 && unavailable === 0) {
    unavailable = 1;
  }
  return {
    type,
    maxSurge,
    maxUnavailable,
    maxSurgePods: surge,
    maxUnavailablePods: unavailable,
  };
}

/**
 * Derives the rollout state of a Deployment exactly as `kubectl rollout status`
 * does (`DeploymentStatusViewer`), plus the counts and images a page shows.
 *
 * @public
 */
export function deriveRolloutStatus(deployment: KubeDeployment): RolloutStatus {
  const name = deployment.metadata?.name ?? '';
  const spec = deployment.spec ?? {};
  const status = deployment.status ?? {};
  const generation = deployment.metadata?.generation;
  const observedGeneration = status.observedGeneration;
  const updated = status.updatedReplicas ?? 0;
  const current = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;

  let phase: RolloutPhase;
  let message: string;
  if ((generation ?? 0) <= (observedGeneration ?? 0)) {
    const progressing = status.conditions?.find(c => c.type === 'Progressing');
    if (progressing?.reason === PROGRESS_DEADLINE_EXCEEDED) {
      phase = 'failed';
      message = `deployment "${name}" exceeded its progress deadline`;
    } else if (spec.replicas !== undefined && updated < spec.replicas) {
      phase = 'updating-replicas';
      message = `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${spec.replicas} new replicas have been updated...`;
    } else if (current > updated) {
      phase = 'terminating-old-replicas';
      message = `Waiting for deployment "${name}" rollout to finish: ${
        current - updated
      } old replicas are pending termination...`;
    } else if (available < updated) {
      phase = 'waiting-for-available';
      message = `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...`;
    } else {
      phase = 'complete';
      message = `deployment "${name}" successfully rolled out`;
    }
  } else {
    phase = 'waiting-for-spec-update';
    message = 'Waiting for deployment spec update to be observed...';
  }

  return {
    phase,
    message,
    complete: phase === 'complete',
    paused: spec.paused === true,
    desired: spec.replicas ?? 1,
    current,
    updated,
    ready: status.readyReplicas ?? 0,
    available,
    unavailable: status.unavailableReplicas ?? 0,
    generation,
    observedGeneration,
    revision: deployment.metadata?.annotations?.[REVISION_ANNOTATION],
    strategy: resolveStrategy(deployment),
    images: (spec.template?.spec?.containers ?? []).map(c => ({
      container: c.name,
      image: c.image ?? '',
    })),
  };
}
