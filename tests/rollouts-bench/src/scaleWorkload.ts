/*
 * The workload of the scale benchmark: Deployments across namespaces, each with
 * the default revision history (10 old ReplicaSets scaled to 0 and the current
 * one), and the current ReplicaSet's pods on fake (KWOK) nodes.
 *
 * The benchmark creates all of it itself (a paused Deployment, its current
 * ReplicaSet, that one's pods, the old ReplicaSets, then it resumes the
 * Deployment), with owner references as the controllers set them: at 20,000 pods,
 * letting kube-controller-manager create them (20 requests/s by default)
 * would take longer than the benchmark. The controllers accept the result: the
 * current ReplicaSet's template equals the Deployment's (only the
 * pod-template-hash label differs, which they ignore), so the Deployment
 * controller finds it as the new ReplicaSet and creates none, and each
 * ReplicaSet already has its replicas.
 */
import type {
  V1Container,
  V1Deployment,
  V1Node,
  V1Pod,
  V1PodSpec,
  V1PodTemplateSpec,
  V1ReplicaSet,
} from '@kubernetes/client-node';

/** Default `spec.revisionHistoryLimit` of a Deployment. */
export const DEFAULT_REVISION_HISTORY = 10;
export const KWOK_TAINT = { key: 'kwok.x-k8s.io/node', value: 'fake' };

export interface ScaleSize {
  deployments: number;
  namespaces: number;
  podsPerDeployment: number;
  /** Old ReplicaSets per Deployment (scaled to 0). */
  history: number;
}

export const FULL_SIZE: ScaleSize = {
  deployments: 4000,
  namespaces: 200,
  podsPerDeployment: 5,
  history: DEFAULT_REVISION_HISTORY,
};

export function totals(size: ScaleSize) {
  return {
    pods: size.deployments * size.podsPerDeployment,
    replicaSets: size.deployments * (size.history + 1),
  };
}

/** One Deployment of the workload: its place and the entity it belongs to. */
export interface ScaleApp {
  index: number;
  namespace: string;
  name: string;
  /** Its `backstage.io/kubernetes-id` (one entity per Deployment). */
  entityId: string;
  /** The run's prefix, also the value of the {@link RUN_LABEL} of its pods. */
  run: string;
}

/** Label of every pod of one run, to find them all with one selector. */
export const RUN_LABEL = 'bench.rollouts/run';

export function scaleApps(prefix: string, size: ScaleSize): ScaleApp[] {
  if (size.deployments < size.namespaces) {
    throw new Error(
      `${size.deployments} Deployments cannot fill ${size.namespaces} namespaces`,
    );
  }
  return Array.from({ length: size.deployments }, (_, index) => {
    const name = `app-${String(index).padStart(5, '0')}`;
    return {
      index,
      namespace: `${prefix}-${String(index % size.namespaces).padStart(
        3,
        '0',
      )}`,
      name,
      entityId: `${prefix}-${name}`,
      run: prefix,
    };
  });
}

/** One image per Deployment and revision, as teams build their own. */
const image = (app: ScaleApp, revision: number) =>
  `ghcr.io/example/${app.name}:1.0.${revision}`;

function template(app: ScaleApp, revision: number): V1PodTemplateSpec {
  return {
    metadata: {
      labels: {
        app: app.name,
        'backstage.io/kubernetes-id': app.entityId,
        [RUN_LABEL]: app.run,
      },
    },
    spec: fakeNodePodSpec({
      name: 'api',
      image: image(app, revision),
      env: [
        { name: 'LOG_LEVEL', value: 'info' },
        { name: 'PORT', value: '8000' },
      ],
      ports: [{ name: 'http', containerPort: 8000 }],
      resources: {
        requests: { cpu: '10m', memory: '16Mi' },
        limits: { cpu: '50m', memory: '64Mi' },
      },
      readinessProbe: { httpGet: { path: '/ready', port: 'http' as any } },
      livenessProbe: { httpGet: { path: '/health', port: 'http' as any } },
    }),
  };
}

/** The label every fake (KWOK) node carries (platform/kwok/kwok.sh, scaleNode). */
export const FAKE_NODE_SELECTOR = { type: 'kwok' };

/**
 * A pod of one container that Pod Security "restricted" admits and that only
 * fake (KWOK) nodes take: their taint tolerated, their label required. Nothing
 * runs it, so the image is never pulled. Pods a controller makes from this
 * template (a ReplicaSet replacing one) go through the scheduler: without the
 * selector a real node could take them, where the image cannot be pulled and
 * the pod never becomes Ready (seen in CI: 3 of 500 scale pods on the real node,
 * the benchmark waiting for them).
 */
export function fakeNodePodSpec(container: V1Container): V1PodSpec {
  return {
    nodeSelector: FAKE_NODE_SELECTOR,
    tolerations: [{ ...KWOK_TAINT, operator: 'Equal', effect: 'NoSchedule' }],
    automountServiceAccountToken: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 10001,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    containers: [
      {
        ...container,
        securityContext: {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        },
      },
    ],
  };
}

const withHash = (t: V1PodTemplateSpec, hash: string): V1PodTemplateSpec => ({
  ...t,
  metadata: {
    ...t.metadata,
    labels: { ...t.metadata!.labels, 'pod-template-hash': hash },
  },
});

const hashOf = (app: ScaleApp, revision: number) =>
  `r${revision}x${app.index.toString(36)}`;

export function scaleDeployment(app: ScaleApp, size: ScaleSize): V1Deployment {
  return {
    metadata: {
      name: app.name,
      namespace: app.namespace,
      labels: { app: app.name, 'backstage.io/kubernetes-id': app.entityId },
      annotations: {
        'deployment.kubernetes.io/revision': String(size.history + 1),
      },
    },
    spec: {
      // Paused until its ReplicaSets exist: a running Deployment controller
      // would otherwise create a ReplicaSet of its own first.
      paused: true,
      replicas: size.podsPerDeployment,
      selector: { matchLabels: { app: app.name } },
      template: template(app, size.history + 1),
    },
  };
}

/**
 * The Deployment's ReplicaSets, oldest first: revisions 1..history scaled to
 * 0 with older images, then the current one with the Deployment's template.
 */
export function scaleReplicaSets(
  app: ScaleApp,
  size: ScaleSize,
  deploymentUid: string,
): V1ReplicaSet[] {
  return Array.from({ length: size.history + 1 }, (_, i) => {
    const revision = i + 1;
    const current = revision === size.history + 1;
    const hash = hashOf(app, revision);
    const t = withHash(template(app, revision), hash);
    return {
      metadata: {
        name: `${app.name}-${hash}`,
        namespace: app.namespace,
        labels: t.metadata!.labels,
        annotations: { 'deployment.kubernetes.io/revision': String(revision) },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: app.name,
            uid: deploymentUid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        replicas: current ? size.podsPerDeployment : 0,
        selector: {
          matchLabels: { app: app.name, 'pod-template-hash': hash },
        },
        template: t,
      },
    };
  });
}

/** The current ReplicaSet's pods, bound to a fake node. */
export function scalePods(
  app: ScaleApp,
  size: ScaleSize,
  replicaSet: { name: string; uid: string },
  nodeName: string,
): V1Pod[] {
  const t = withHash(
    template(app, size.history + 1),
    hashOf(app, size.history + 1),
  );
  return Array.from({ length: size.podsPerDeployment }, (_, i) => ({
    metadata: {
      name: `${replicaSet.name}-${i}`,
      namespace: app.namespace,
      labels: t.metadata!.labels,
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: replicaSet.name,
          uid: replicaSet.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: { ...t.spec!, nodeName },
  }));
}

/** A fake node KWOK runs pods on; tainted so no other workload lands there. */
export function scaleNode(name: string, pods: number): V1Node {
  const capacity = { cpu: '1000', memory: '4Ti', pods: String(pods) };
  return {
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': 'fake' },
      labels: { ...FAKE_NODE_SELECTOR, 'kubernetes.io/hostname': name },
    },
    spec: { taints: [{ ...KWOK_TAINT, effect: 'NoSchedule' }] },
    status: { allocatable: capacity, capacity },
  };
}
