import type { KubeObject } from '@golden-path/plugin-rollouts-common';

/** A condition of a Flux object's status (metav1.Condition). */
export interface FluxCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  /** The generation of the spec the controller judged. */
  observedGeneration?: number;
}

/** What the portal reads of a GitRepository's or Kustomization's status. */
export type FluxStatusObject = KubeObject & {
  status?: {
    observedGeneration?: number;
    conditions?: FluxCondition[];
    artifact?: { revision?: string };
    lastAppliedRevision?: string;
    lastAttemptedRevision?: string;
  };
};

/**
 * How far a registration has come:
 * - `applied`: kustomize-controller applied the source's current revision (its health
 *   checks may still run: then the Deployments' rollout is what remains);
 * - `ready`: applied, and every applied object is healthy (the Kustomization is Ready).
 */
export type FluxWaitFor = 'applied' | 'ready';

export type FluxProgress =
  | { state: 'waiting'; message: string }
  | { state: 'done'; message: string; revision: string }
  | { state: 'failed'; message: string };

/** Kustomization reasons that only mean the source is not there yet. */
const WAITING_FOR_SOURCE = new Set(['ArtifactFailed', 'DependencyNotReady']);

/**
 * The condition, if the controller set it for the object's current spec. Flux stamps
 * each condition with the generation it judged; `status.observedGeneration` moves only
 * when a reconciliation succeeds (a failing one leaves it at -1 or the last good one),
 * so it only stands in for conditions without their own.
 */
function condition(
  object: FluxStatusObject | undefined,
  type: string,
): FluxCondition | undefined {
  const found = object?.status?.conditions?.find(c => c.type === type);
  const generation = object?.metadata?.generation;
  if (!found || generation === undefined) return found;
  const observed =
    found.observedGeneration ?? object?.status?.observedGeneration;
  return observed !== undefined && observed >= generation ? found : undefined;
}

function says(c: FluxCondition): string {
  return `${c.reason ?? c.status}${c.message ? `: ${c.message}` : ''}`;
}

/**
 * Where a registration stands, read from the controllers' own conditions: the
 * GitRepository's Ready (source-controller fetched the branch and stored an artifact of
 * a revision) and the Kustomization's Ready and Healthy (kustomize-controller built and
 * applied that revision, then checked the objects' health). A condition that can only
 * change by someone fixing something (a refused fetch, a build or apply error, failed
 * health checks) is a failure at once; everything else is waiting.
 */
export function fluxProgress(
  gitRepository: FluxStatusObject | undefined,
  kustomization: FluxStatusObject | undefined,
  waitFor: FluxWaitFor,
): FluxProgress {
  if (!gitRepository) {
    return {
      state: 'waiting',
      message: 'the GitRepository does not exist (yet)',
    };
  }
  const sourceReady = condition(gitRepository, 'Ready');
  if (!sourceReady) {
    return {
      state: 'waiting',
      message: 'source-controller has not fetched the repository yet',
    };
  }
  if (sourceReady.status === 'False') {
    return {
      state: 'failed',
      message: `source-controller cannot fetch the repository: ${says(
        sourceReady,
      )}`,
    };
  }
  const revision = gitRepository.status?.artifact?.revision;
  if (sourceReady.status !== 'True' || !revision) {
    return {
      state: 'waiting',
      message: `source-controller: ${says(sourceReady)}`,
    };
  }

  const ready = condition(kustomization, 'Ready');
  const status = kustomization?.status ?? {};
  if (!ready) {
    return {
      state: 'waiting',
      message: `source-controller has revision ${revision}; kustomize-controller has not started on it`,
    };
  }
  if (status.lastAppliedRevision === revision && ready.status === 'True') {
    return {
      state: 'done',
      revision,
      message: `kustomize-controller applied revision ${revision} and every object is healthy`,
    };
  }
  if (ready.status === 'False') {
    if (
      WAITING_FOR_SOURCE.has(ready.reason ?? '') &&
      status.lastAttemptedRevision !== revision
    ) {
      return {
        state: 'waiting',
        message: `kustomize-controller is picking up revision ${revision} (${says(
          ready,
        )})`,
      };
    }
    return {
      state: 'failed',
      message: `kustomize-controller could not apply revision ${
        status.lastAttemptedRevision ?? revision
      }: ${says(ready)}`,
    };
  }
  // kustomize-controller stores the inventory, then starts the health checks with
  // "Running health checks for revision <revision>": from then on it has applied it.
  const healthy = condition(kustomization, 'Healthy');
  if (
    waitFor === 'applied' &&
    status.lastAttemptedRevision === revision &&
    healthy?.status === 'Unknown' &&
    healthy.message?.includes(revision)
  ) {
    return {
      state: 'done',
      revision,
      message: `kustomize-controller applied revision ${revision} (${says(
        healthy,
      )})`,
    };
  }
  return {
    state: 'waiting',
    message: `kustomize-controller: ${says(ready)}`,
  };
}
