/*
 * A status response as the backend builds it, computed with the shared logic
 * from realistic objects, for the component tests.
 */
import { Entity } from '@backstage/catalog-model';
import {
  analyzePodTemplateProbes,
  ClusterWriteAccess,
  containerResources,
  deriveRolloutStatus,
  detectBlueGreen,
  DeploymentView,
  EntityRolloutsResponse,
  KubeDeployment,
  KubeEndpointSlice,
  KubePod,
  KubeService,
  podHealth,
  PREVIEW_OF_ANNOTATION,
  RESTORE_REPLICAS_ANNOTATION,
  SCALE_DOWN_AT_ANNOTATION,
  summarizeHpa,
  summarizeLimitRange,
  summarizeQuota,
} from '@golden-path/plugin-rollouts-common';

export const entity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'fastapi-demo',
    namespace: 'default',
    annotations: { 'backstage.io/kubernetes-id': 'fastapi-demo' },
  },
  spec: {
    type: 'service',
    owner: 'group:default/team-a',
    lifecycle: 'production',
  },
};

export const entityRef = 'component:default/fastapi-demo';

function deployment(slot: string, available: number): KubeDeployment {
  const labels = {
    'app.kubernetes.io/name': 'demo-api',
    'app.kubernetes.io/slot': slot,
  };
  return {
    metadata: {
      name: `demo-api-${slot}`,
      namespace: 'fastapi-demo',
      generation: 2,
      annotations: {
        'deployment.kubernetes.io/revision': slot === 'blue' ? '4' : '5',
      },
    },
    spec: {
      replicas: 2,
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: 'api',
              image: `ghcr.io/example/fastapi-demo:${
                slot === 'blue' ? '1.0.0' : '2.0.0'
              }`,
              ports: [{ name: 'http', containerPort: 8000 }],
              resources: { limits: { memory: '256Mi' } },
              livenessProbe: {
                httpGet: { path: '/health', port: 'http' },
                initialDelaySeconds: 60,
              },
              readinessProbe: { httpGet: { path: '/health', port: 'http' } },
            },
          ],
        },
      },
    },
    status: {
      observedGeneration: 2,
      replicas: 2,
      updatedReplicas: 2,
      readyReplicas: available,
      availableReplicas: available,
    },
  };
}

const oomPod: KubePod = {
  metadata: { name: 'demo-api-blue-7d4b-abcde', namespace: 'fastapi-demo' },
  status: {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'False' }],
    containerStatuses: [
      {
        name: 'api',
        ready: false,
        restartCount: 5,
        state: { waiting: { reason: 'CrashLoopBackOff' } },
        lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
      },
    ],
  },
};

function previewService(slot: string): KubeService {
  return {
    metadata: {
      name: 'demo-api-preview',
      namespace: 'fastapi-demo',
      annotations: { [PREVIEW_OF_ANNOTATION]: 'demo-api' },
    },
    spec: {
      selector: {
        'app.kubernetes.io/name': 'demo-api',
        'app.kubernetes.io/slot': slot,
      },
    },
  };
}

/** Two ready pods per slot, for the preview Service's endpoints. */
const previewPods: KubePod[] = ['blue', 'green'].flatMap(slot =>
  ['a', 'b'].map(suffix => ({
    metadata: {
      name: `demo-api-${slot}-${suffix}`,
      namespace: 'fastapi-demo',
      labels: { 'app.kubernetes.io/slot': slot },
    },
  })),
);

function previewEndpoints(slot: string): KubeEndpointSlice {
  return {
    metadata: {
      name: 'demo-api-preview-x1',
      namespace: 'fastapi-demo',
      labels: { 'kubernetes.io/service-name': 'demo-api-preview' },
    },
    endpoints: ['a', 'b'].map((suffix, i) => ({
      addresses: [`10.0.0.${i + 1}`],
      conditions: { ready: true },
      targetRef: { kind: 'Pod', name: `demo-api-${slot}-${suffix}` },
    })),
  };
}

export function statusResponse(
  options: {
    greenAvailable?: number;
    previousSlot?: string;
    /** Pause the blue Deployment. */
    bluePaused?: boolean;
    writes?: ClusterWriteAccess;
    /** Point the Service at this slot (one with no Deployment: an outage). */
    selectorSlot?: string;
    /** Add the preview Service `demo-api-preview`, selecting this slot. */
    previewSlot?: string;
    /** Schedule a scale-down of the blue slot at this time (RFC 3339). */
    blueScaleDownAt?: string;
  } = {},
): EntityRolloutsResponse {
  const blue = deployment('blue', 2);
  if (options.bluePaused) blue.spec!.paused = true;
  if (options.blueScaleDownAt) {
    blue.metadata!.annotations = {
      ...blue.metadata!.annotations,
      [SCALE_DOWN_AT_ANNOTATION]: options.blueScaleDownAt,
      [RESTORE_REPLICAS_ANNOTATION]: '2',
    };
  }
  const green = deployment('green', options.greenAvailable ?? 2);
  const limitRange = {
    metadata: { name: 'defaults', namespace: 'fastapi-demo' },
    spec: {
      limits: [
        {
          type: 'Container',
          default: { cpu: '500m' },
          defaultRequest: { cpu: '100m', memory: '128Mi' },
        },
      ],
    },
  };
  const view = (d: KubeDeployment, pods: KubePod[]): DeploymentView => {
    const probes = analyzePodTemplateProbes(d.spec!.template);
    const resources = containerResources(d.spec!.template, [limitRange]);
    const health = pods.map(podHealth);
    return {
      cluster: 'local',
      namespace: 'fastapi-demo',
      name: d.metadata!.name!,
      status: deriveRolloutStatus(d),
      probes,
      resources,
      pods: health,
      history: [
        {
          revision: '4',
          replicaSet: `${d.metadata!.name}-7d4b`,
          images: ['ghcr.io/example/fastapi-demo:1.0.0'],
        },
        {
          revision: '3',
          replicaSet: `${d.metadata!.name}-6c3a`,
          images: ['ghcr.io/example/fastapi-demo:0.9.0'],
        },
      ],
      findings: [
        ...probes.flatMap(p => p.findings),
        ...resources.flatMap(r => r.findings),
        ...health.flatMap(h => h.findings),
      ],
    };
  };
  const service = {
    metadata: {
      name: 'demo-api',
      namespace: 'fastapi-demo',
      ...(options.previousSlot && {
        annotations: {
          'rollouts.backstage.io/previous-slot': options.previousSlot,
        },
      }),
    },
    spec: {
      selector: {
        'app.kubernetes.io/name': 'demo-api',
        'app.kubernetes.io/slot': options.selectorSlot ?? 'blue',
      },
    },
  };
  return {
    entityRef,
    slotLabel: 'app.kubernetes.io/slot',
    generatedAt: '2026-11-28T10:00:00Z',
    clusters: [
      {
        cluster: 'local',
        state: 'ok',
        writes: options.writes ?? { mode: 'plugin' },
        deployments: [view(blue, [oomPod]), view(green, [])],
        blueGreen: detectBlueGreen({
          services: [
            service,
            ...(options.previewSlot
              ? [previewService(options.previewSlot)]
              : []),
          ],
          deployments: [blue, green],
          pods: previewPods,
          endpointSlices: options.previewSlot
            ? [previewEndpoints(options.previewSlot)]
            : [],
        }),
        quotas: [
          summarizeQuota({
            metadata: { name: 'quota', namespace: 'fastapi-demo' },
            status: {
              hard: { 'requests.cpu': '2', 'limits.memory': '4Gi' },
              used: { 'requests.cpu': '1900m', 'limits.memory': '1Gi' },
            },
          }),
        ],
        limitRanges: [summarizeLimitRange(limitRange)],
        hpas: [
          summarizeHpa({
            metadata: { name: 'demo-api-blue', namespace: 'fastapi-demo' },
            spec: {
              scaleTargetRef: { kind: 'Deployment', name: 'demo-api-blue' },
              minReplicas: 2,
              maxReplicas: 5,
              metrics: [
                {
                  type: 'Resource',
                  resource: {
                    name: 'cpu',
                    target: { type: 'Utilization', averageUtilization: 70 },
                  },
                },
              ],
            },
            status: {
              currentReplicas: 2,
              desiredReplicas: 3,
              currentMetrics: [
                {
                  type: 'Resource',
                  resource: {
                    name: 'cpu',
                    current: { averageUtilization: 95 },
                  },
                },
              ],
            },
          }),
        ],
        warningEvents: [
          {
            namespace: 'fastapi-demo',
            object: 'Pod/demo-api-blue-7d4b-abcde',
            reason: 'BackOff',
            message: 'Back-off restarting failed container api',
            count: 12,
            lastSeen: '2026-11-28T09:59:00Z',
          },
        ],
      },
      {
        cluster: 'prod',
        state: 'error',
        error: "The cluster's API server cannot be reached (listing pods).",
        writes: { mode: 'plugin' },
        deployments: [],
        blueGreen: [],
        quotas: [],
        limitRanges: [],
        hpas: [],
        warningEvents: [],
      },
    ],
    skippedClusters: [],
    liveUpdates: { keepaliveIntervalMs: 15000 },
  };
}
