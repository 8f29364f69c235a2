import type {
  KubeCondition,
  KubeContainerStatus,
  KubeDeployment,
  KubePod,
} from '@golden-path/plugin-rollouts-common';
import type { KubeReplicaSetWithConditions } from '../kubernetes/rolloutProgress';

/**
 * Workload objects shaped like `kubectl get -o json` output, for the rollout tests: a
 * Deployment at some point of its rollout, its ReplicaSet, and a pod of it.
 */
export function deployment(
  name: string,
  state: {
    replicas?: number;
    updated?: number;
    available?: number;
    generation?: number;
    observedGeneration?: number;
    conditions?: KubeCondition[];
  } = {},
): KubeDeployment {
  const replicas = state.replicas ?? 1;
  const updated = state.updated ?? replicas;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: 'shop',
      uid: `uid-${name}`,
      generation: state.generation ?? 1,
      annotations: { 'deployment.kubernetes.io/revision': '1' },
    },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        spec: { containers: [{ name: 'app', image: `acme/${name}:1.0.0` }] },
      },
    },
    status: {
      observedGeneration: state.observedGeneration ?? state.generation ?? 1,
      replicas: updated,
      updatedReplicas: updated,
      readyReplicas: state.available ?? updated,
      availableReplicas: state.available ?? updated,
      conditions: state.conditions,
    },
  };
}

/** The Deployment's current ReplicaSet (revision 1), with conditions if any. */
export function replicaSet(
  owner: string,
  conditions?: KubeCondition[],
  revision = '1',
): KubeReplicaSetWithConditions {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${owner}-${revision}abc`,
      namespace: 'shop',
      uid: `uid-${owner}-rs-${revision}`,
      annotations: { 'deployment.kubernetes.io/revision': revision },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: owner,
          uid: `uid-${owner}`,
          controller: true,
        },
      ],
    },
    status: { replicas: 1, conditions },
  };
}

/** A pod of the ReplicaSet `replicaSet(owner, _, revision)` with one container's status. */
export function pod(
  owner: string,
  container: Partial<KubeContainerStatus>,
  revision = '1',
): KubePod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${owner}-${revision}abc-x1`,
      namespace: 'shop',
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: `${owner}-${revision}abc`,
          uid: `uid-${owner}-rs-${revision}`,
          controller: true,
        },
      ],
    },
    status: {
      phase: 'Pending',
      containerStatuses: [
        { name: 'app', ready: false, restartCount: 0, ...container },
      ],
    },
  };
}

export const imagePullBackOff: Partial<KubeContainerStatus> = {
  state: {
    waiting: {
      reason: 'ImagePullBackOff',
      message: 'Back-off pulling image "acme/web:9.9.9": not found',
    },
  },
};

export const crashLoopBackOff: Partial<KubeContainerStatus> = {
  restartCount: 4,
  state: {
    waiting: {
      reason: 'CrashLoopBackOff',
      message: 'back-off 1m20s restarting failed container',
    },
  },
  lastState: { terminated: { exitCode: 1, reason: 'Error' } },
};

export const quotaExceeded: KubeCondition = {
  type: 'ReplicaFailure',
  status: 'True',
  reason: 'FailedCreate',
  message:
    'pods "web-1abc-x2" is forbidden: exceeded quota: shop-quota, requested: limits.memory=512Mi, used: limits.memory=1536Mi, limited: limits.memory=1536Mi',
};

export const progressDeadlineExceeded: KubeCondition = {
  type: 'Progressing',
  status: 'False',
  reason: 'ProgressDeadlineExceeded',
  message: 'ReplicaSet "web-1abc" has timed out progressing.',
};
