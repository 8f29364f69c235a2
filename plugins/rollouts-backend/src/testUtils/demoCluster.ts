/*
 * A cluster holding the fastapi-demo blue-green pair as the API server would
 * return it, for the router and service tests.
 */
import { Entity } from '@backstage/catalog-model';
import {
  ENTITY_REF_ANNOTATION,
  KubeDeployment,
  KubePod,
  KubeReplicaSet,
  PREVIEW_OF_ANNOTATION,
} from '@golden-path/plugin-rollouts-common';
import { FakeCluster } from './FakeCluster';

/** @public */
export const NAMESPACE = 'fastapi-demo';
export const ENTITY_REF = 'component:default/fastapi-demo';
export const OWNER = 'user:default/owner';

export const demoEntity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'fastapi-demo',
    namespace: 'default',
    annotations: { 'backstage.io/kubernetes-id': 'fastapi-demo' },
  },
  spec: { type: 'service', owner: OWNER, lifecycle: 'production' },
};

const labels = (slot: string) => ({
  'app.kubernetes.io/name': 'demo-api',
  'app.kubernetes.io/slot': slot,
  'backstage.io/kubernetes-id': 'fastapi-demo',
});

/** @public */
export function deployment(
  slot: string,
  opts: { image?: string; revision?: string; available?: number } = {},
): KubeDeployment {
  return {
    metadata: {
      name: `demo-api-${slot}`,
      namespace: NAMESPACE,
      uid: `uid-${slot}`,
      generation: 2,
      labels: labels(slot),
      annotations: {
        'deployment.kubernetes.io/revision': opts.revision ?? '2',
        [ENTITY_REF_ANNOTATION]: ENTITY_REF,
      },
    },
    spec: {
      replicas: 2,
      selector: {
        matchLabels: {
          'app.kubernetes.io/name': 'demo-api',
          'app.kubernetes.io/slot': slot,
        },
      },
      template: {
        metadata: { labels: labels(slot) },
        spec: {
          containers: [
            {
              name: 'api',
              image:
                opts.image ??
                `ghcr.io/example/fastapi-demo:${
                  slot === 'blue' ? '1.0.0' : '2.0.0'
                }`,
              ports: [{ name: 'http', containerPort: 8000 }],
              resources: {
                requests: { cpu: '100m', memory: '128Mi' },
                limits: { cpu: '250m', memory: '256Mi' },
              },
              livenessProbe: { httpGet: { path: '/health', port: 'http' } },
              readinessProbe: { httpGet: { path: '/ready', port: 'http' } },
            },
          ],
        },
      },
    },
    status: {
      observedGeneration: 2,
      replicas: 2,
      updatedReplicas: 2,
      readyReplicas: opts.available ?? 2,
      availableReplicas: opts.available ?? 2,
    },
  };
}

export function replicaSet(
  d: KubeDeployment,
  revision: string,
  hash: string,
  image: string,
): KubeReplicaSet {
  const template = JSON.parse(JSON.stringify(d.spec!.template));
  template.metadata.labels['pod-template-hash'] = hash;
  template.spec.containers[0].image = image;
  return {
    metadata: {
      name: `${d.metadata!.name}-${hash}`,
      namespace: NAMESPACE,
      uid: `uid-rs-${d.metadata!.name}-${hash}`,
      labels: template.metadata.labels,
      annotations: { 'deployment.kubernetes.io/revision': revision },
      ownerReferences: [
        {
          kind: 'Deployment',
          name: d.metadata!.name,
          uid: d.metadata!.uid,
          controller: true,
        },
      ],
    },
    spec: { replicas: 2, template },
  };
}

export function pod(rs: KubeReplicaSet, suffix: string, ready = true): KubePod {
  return {
    metadata: {
      name: `${rs.metadata!.name}-${suffix}`,
      namespace: NAMESPACE,
      uid: `uid-pod-${rs.metadata!.name}-${suffix}`,
      labels: rs.spec!.template!.metadata!.labels,
      ownerReferences: [
        {
          kind: 'ReplicaSet',
          name: rs.metadata!.name,
          uid: rs.metadata!.uid,
          controller: true,
        },
      ],
    },
    spec: { containers: [{ name: 'api' }] },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: [
        {
          name: 'api',
          ready,
          started: true,
          restartCount: 0,
          state: { running: {} },
        },
      ],
    },
  };
}

/**
 * The pair with blue live and green idle but ready (or not, with
 * `greenAvailable`); with `preview`, also the template's preview Service
 * `demo-api-preview` selecting green.
 *
 * @public
 */
export function demoCluster(
  options: { name?: string; greenAvailable?: number; preview?: boolean } = {},
): FakeCluster {
  const blue = deployment('blue', { revision: '2' });
  const green = deployment('green', {
    revision: '3',
    available: options.greenAvailable,
  });
  const blueRs = replicaSet(
    blue,
    '2',
    'b1b1b1',
    'ghcr.io/example/fastapi-demo:1.0.0',
  );
  const blueOldRs = replicaSet(
    blue,
    '1',
    'b0b0b0',
    'ghcr.io/example/fastapi-demo:0.9.0',
  );
  const greenRs = replicaSet(
    green,
    '3',
    'g3g3g3',
    'ghcr.io/example/fastapi-demo:2.0.0',
  );
  const greenReady = (options.greenAvailable ?? 2) > 0;
  const cluster = new FakeCluster(options.name ?? 'local', {
    deployments: [blue, green],
    replicasets: [blueRs, blueOldRs, greenRs],
    pods: [
      pod(blueRs, 'aaaaa'),
      pod(blueRs, 'bbbbb'),
      pod(greenRs, 'ccccc', greenReady),
      pod(greenRs, 'ddddd', greenReady),
    ],
    services: [
      {
        metadata: {
          name: 'demo-api',
          namespace: NAMESPACE,
          uid: 'uid-svc',
          labels: { 'backstage.io/kubernetes-id': 'fastapi-demo' },
          annotations: { [ENTITY_REF_ANNOTATION]: ENTITY_REF },
        },
        spec: {
          selector: {
            'app.kubernetes.io/name': 'demo-api',
            'app.kubernetes.io/slot': 'blue',
          },
        },
      },
    ],
    resourcequotas: [
      {
        metadata: { name: 'quota', namespace: NAMESPACE },
        spec: { hard: { 'requests.cpu': '2' } },
        status: {
          hard: { 'requests.cpu': '2' },
          used: { 'requests.cpu': '400m' },
        },
      },
    ],
    limitranges: [
      {
        metadata: { name: 'defaults', namespace: NAMESPACE },
        spec: { limits: [{ type: 'Container', default: { memory: '512Mi' } }] },
      },
    ],
    horizontalpodautoscalers: [
      {
        metadata: { name: 'demo-api-blue', namespace: NAMESPACE },
        spec: {
          scaleTargetRef: { kind: 'Deployment', name: 'demo-api-blue' },
          minReplicas: 2,
          maxReplicas: 4,
        },
        status: { currentReplicas: 2, desiredReplicas: 2 },
      },
    ],
    events: [
      {
        metadata: { name: 'ev1', namespace: NAMESPACE },
        type: 'Warning',
        reason: 'Unhealthy',
        message:
          'Readiness probe failed: HTTP probe failed with statuscode: 503',
        count: 4,
        lastTimestamp: '2026-11-20T10:00:00Z',
        involvedObject: {
          kind: 'Pod',
          name: `${greenRs.metadata!.name}-ccccc`,
          namespace: NAMESPACE,
          uid: `uid-pod-${greenRs.metadata!.name}-ccccc`,
        },
      },
      {
        metadata: { name: 'ev-other', namespace: NAMESPACE },
        type: 'Warning',
        reason: 'BackOff',
        involvedObject: { kind: 'Pod', name: 'someone-else', uid: 'uid-x' },
      },
    ],
    // Another team's Deployment in the same namespace
  });
  cluster.put(
    'deployments',
    {
      metadata: {
        name: 'other-app',
        namespace: NAMESPACE,
        uid: 'uid-other',
        labels: { app: 'other' },
      },
      spec: { template: { metadata: { labels: { app: 'other' } } } },
    },
    false,
  );
  cluster.reconcileEndpoints(NAMESPACE, 'demo-api');
  if (options.preview) {
    cluster.put(
      'services',
      {
        metadata: {
          name: 'demo-api-preview',
          namespace: NAMESPACE,
          uid: 'uid-svc-preview',
          labels: { 'backstage.io/kubernetes-id': 'fastapi-demo' },
          annotations: {
            [ENTITY_REF_ANNOTATION]: ENTITY_REF,
            [PREVIEW_OF_ANNOTATION]: 'demo-api',
          },
        },
        spec: {
          selector: {
            'app.kubernetes.io/name': 'demo-api',
            'app.kubernetes.io/slot': 'green',
          },
          ports: [{ name: 'http', port: 80, targetPort: 'http' }],
        },
      },
      false,
    );
    cluster.reconcileEndpoints(NAMESPACE, 'demo-api-preview');
  }
  return cluster;
}
