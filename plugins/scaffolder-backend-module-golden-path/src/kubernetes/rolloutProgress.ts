import {
  deriveRolloutStatus,
  KubeCondition,
  KubeDeployment,
  KubeObject,
  KubePod,
  KubeReplicaSet,
  podHealth,
  REVISION_ANNOTATION,
  RolloutStatus,
} from '@golden-path/plugin-rollouts-common';

/** A ReplicaSet with the conditions its controller reports (`ReplicaFailure`). @public */
export type KubeReplicaSetWithConditions = KubeReplicaSet & {
  status?: KubeReplicaSet['status'] & { conditions?: KubeCondition[] };
};

/** Why a rollout does not converge, in the words `kubectl describe` uses. */
export type RolloutBlockerReason =
  | 'ImagePullBackOff'
  | 'ErrImagePull'
  | 'CrashLoopBackOff'
  | 'QuotaExceeded'
  | 'FailedCreate'
  | 'ProgressDeadlineExceeded';

/** One reason a Deployment is stuck, on the object that shows it. */
export interface RolloutBlocker {
  reason: RolloutBlockerReason;
  /** `pod/<name>`, `replicaset/<name>` or `deployment/<name>`. */
  object: string;
  message: string;
}

/** Where one Deployment's rollout stands, and what holds it up. */
export interface DeploymentProgress {
  name: string;
  status: RolloutStatus;
  blockers: RolloutBlocker[];
}

const REPLICA_FAILURE = 'ReplicaFailure';

function ownedBy(object: KubeObject, owner: KubeObject): boolean {
  const uid = owner.metadata?.uid;
  return (
    uid !== undefined &&
    (object.metadata?.ownerReferences ?? []).some(
      ref => ref.uid === uid && ref.controller !== false,
    )
  );
}

/**
 * The ReplicaSets that hold the Deployment's current template: the one with the
 * Deployment's revision, or every one it owns while the controller has not numbered the
 * revision yet.
 */
function currentReplicaSets(
  deployment: KubeDeployment,
  replicaSets: KubeReplicaSetWithConditions[],
): KubeReplicaSetWithConditions[] {
  const owned = replicaSets.filter(rs => ownedBy(rs, deployment));
  const revision = deployment.metadata?.annotations?.[REVISION_ANNOTATION];
  const current = owned.filter(
    rs => rs.metadata?.annotations?.[REVISION_ANNOTATION] === revision,
  );
  return revision !== undefined && current.length > 0 ? current : owned;
}

function replicaFailure(
  object: string,
  condition: KubeCondition | undefined,
): RolloutBlocker | undefined {
  if (condition?.status !== 'True') return undefined;
  const message = condition.message ?? condition.reason ?? REPLICA_FAILURE;
  return {
    reason: /exceeded quota/i.test(message) ? 'QuotaExceeded' : 'FailedCreate',
    object,
    message,
  };
}

function podBlockers(pod: KubePod): RolloutBlocker[] {
  const health = podHealth(pod);
  return health.containers.flatMap((container): RolloutBlocker[] => {
    const reason = container.waitingReason;
    if (
      reason !== 'ImagePullBackOff' &&
      reason !== 'ErrImagePull' &&
      reason !== 'CrashLoopBackOff'
    ) {
      return [];
    }
    // podHealth's finding says it in the rollouts plugin's words (restart count, the
    // kubelet's pull error, OOM kills).
    const findings = health.findings
      .filter(
        f => f.container === container.container && f.severity === 'error',
      )
      .map(f => f.message);
    return [
      {
        reason,
        object: `pod/${health.pod}`,
        message: `container ${container.container}: ${
          findings.join(' ') || container.waitingMessage || reason
        }`,
      },
    ];
  });
}

/**
 * The rollout status of a Deployment exactly as `kubectl rollout status` derives it (the
 * rollouts plugin's {@link deriveRolloutStatus}), plus what blocks it: pods of the current
 * ReplicaSet that cannot pull their image or crash in a loop, pods the ReplicaSet could
 * not create (quota, admission), and a passed progress deadline.
 */
export function deploymentProgress(
  deployment: KubeDeployment,
  replicaSets: KubeReplicaSetWithConditions[],
  pods: KubePod[],
): DeploymentProgress {
  const name = deployment.metadata?.name ?? '';
  const status = deriveRolloutStatus(deployment);
  const blockers: RolloutBlocker[] = [];
  if (status.phase === 'failed') {
    const progressing = deployment.status?.conditions?.find(
      c => c.type === 'Progressing',
    );
    blockers.push({
      reason: 'ProgressDeadlineExceeded',
      object: `deployment/${name}`,
      message: `${status.message}${
        progressing?.message ? `: ${progressing.message}` : ''
      }`,
    });
  }
  const current = currentReplicaSets(deployment, replicaSets);
  for (const rs of current) {
    const failure = replicaFailure(
      `replicaset/${rs.metadata?.name}`,
      rs.status?.conditions?.find(c => c.type === REPLICA_FAILURE),
    );
    if (failure) blockers.push(failure);
  }
  // The Deployment controller copies a ReplicaSet's failure to the Deployment; report
  // it from there only when the ReplicaSet's own condition is not (yet) visible.
  const mirrored = replicaFailure(
    `deployment/${name}`,
    deployment.status?.conditions?.find(c => c.type === REPLICA_FAILURE),
  );
  if (mirrored && !blockers.some(b => b.message === mirrored.message)) {
    blockers.push(mirrored);
  }
  for (const pod of pods) {
    if (current.some(rs => ownedBy(pod, rs))) {
      blockers.push(...podBlockers(pod));
    }
  }
  return { name, status, blockers };
}

/**
 * A blocker's identity across polls: the same problem on the same object. The kubelet
 * alternates ErrImagePull (a pull failed) and ImagePullBackOff (waiting to retry) for one
 * image that cannot be pulled: that is one blocker, not a new one on every retry.
 */
export function blockerKey(
  deployment: string,
  blocker: RolloutBlocker,
): string {
  const problem =
    blocker.reason === 'ErrImagePull' ? 'ImagePullBackOff' : blocker.reason;
  return `${deployment} ${problem} ${blocker.object}`;
}

/** One line per blocker, for the task log and the failure message. */
export function describeBlocker(
  deployment: string,
  blocker: RolloutBlocker,
): string {
  return `deployment/${deployment}: ${blocker.reason} (${blocker.object}): ${blocker.message}`;
}

/**
 * Follows the blockers of a wait across polls: since when each has lasted (one that
 * clears starts over) and which reasons it showed meanwhile.
 */
export class BlockerTracker {
  private readonly since = new Map<string, number>();
  private readonly reasons = new Map<string, Set<RolloutBlockerReason>>();

  /**
   * Records one poll; returns the blockers seen for the first time, or showing a reason
   * they had not shown yet, in the words of {@link describeBlocker}.
   */
  observe(progress: DeploymentProgress[], now: number): string[] {
    const news: string[] = [];
    const current = new Set<string>();
    for (const p of progress) {
      for (const blocker of p.blockers) {
        const key = blockerKey(p.name, blocker);
        current.add(key);
        if (!this.since.has(key)) {
          this.since.set(key, now);
          this.reasons.set(key, new Set());
        }
        const reasons = this.reasons.get(key)!;
        if (!reasons.has(blocker.reason)) {
          reasons.add(blocker.reason);
          news.push(describeBlocker(p.name, blocker));
        }
      }
    }
    for (const key of [...this.since.keys()]) {
      if (!current.has(key)) {
        this.since.delete(key);
        this.reasons.delete(key);
      }
    }
    return news;
  }

  /** The Deployments with a blocker that has lasted at least `ms`. */
  persistent(
    progress: DeploymentProgress[],
    now: number,
    ms: number,
  ): DeploymentProgress[] {
    return progress.filter(p =>
      p.blockers.some(
        b => now - (this.since.get(blockerKey(p.name, b)) ?? now) >= ms,
      ),
    );
  }

  /** Every reason the current blockers showed while they lasted, first seen first. */
  reasonsOf(progress: DeploymentProgress[]): RolloutBlockerReason[] {
    return [
      ...new Set(
        progress.flatMap(p =>
          p.blockers.flatMap(b => [
            ...(this.reasons.get(blockerKey(p.name, b)) ?? [b.reason]),
          ]),
        ),
      ),
    ];
  }
}
