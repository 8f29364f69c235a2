/*
 * Realistic objects, shaped like `kubectl get -o json` output from a cluster
 * running the fastapi-demo blue-green pair. Used by the unit tests only.
 */
import {
  KubeDeployment,
  KubeEndpointSlice,
  KubePod,
  KubeService,
} from './kube';

export function demoDeployment(
  slot: string,
  overrides: {
    image?: string;
    revision?: string;
    replicas?: number;
    status?: KubeDeployment['status'];
    generation?: number;
  } = {},
): KubeDeployment {
  const replicas = overrides.replicas ?? 2;
  const generation = overrides.generation ?? 3;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: `demo-api-${slot}`,
      namespace: 'fastapi-demo',
      uid: `uid-demo-api-${slot}`,
      resourceVersion: '48213',
      generation,
      creationTimestamp: '2026-11-20T09:12:44Z',
      labels: {
        'app.kubernetes.io/name': 'demo-api',
        'app.kubernetes.io/part-of': 'fastapi-demo',
        'app.kubernetes.io/slot': slot,
        'backstage.io/kubernetes-id': 'fastapi-demo',
      },
      annotations: {
        'deployment.kubernetes.io/revision': overrides.revision ?? '2',
      },
    },
    spec: {
      replicas,
      revisionHistoryLimit: 3,
      progressDeadlineSeconds: 600,
      selector: {
        matchLabels: {
          'app.kubernetes.io/name': 'demo-api',
          'app.kubernetes.io/slot': slot,
        },
      },
      strategy: {
        type: 'RollingUpdate',
        rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' },
      },
      template: {
        metadata: {
          labels: {
            'app.kubernetes.io/name': 'demo-api',
            'app.kubernetes.io/part-of': 'fastapi-demo',
            'app.kubernetes.io/slot': slot,
            'backstage.io/kubernetes-id': 'fastapi-demo',
          },
        },
        spec: {
          containers: [
            {
              name: 'api',
              image:
                overrides.image ??
                (slot === 'blue'
                  ? 'ghcr.io/example/fastapi-demo:1.0.0'
                  : 'ghcr.io/example/fastapi-demo:2.0.0'),
              ports: [{ name: 'http', containerPort: 8000, protocol: 'TCP' }],
              resources: {
                requests: { cpu: '100m', memory: '128Mi' },
                limits: { cpu: '250m', memory: '256Mi' },
              },
              startupProbe: {
                httpGet: { path: '/health', port: 'http', scheme: 'HTTP' },
                periodSeconds: 2,
                failureThreshold: 30,
                timeoutSeconds: 1,
                successThreshold: 1,
              },
              livenessProbe: {
                httpGet: { path: '/health', port: 'http', scheme: 'HTTP' },
                periodSeconds: 10,
                timeoutSeconds: 1,
                successThreshold: 1,
                failureThreshold: 3,
              },
              readinessProbe: {
                httpGet: { path: '/ready', port: 'http', scheme: 'HTTP' },
                periodSeconds: 5,
                timeoutSeconds: 1,
                successThreshold: 1,
                failureThreshold: 3,
              },
            },
          ],
        },
      },
    },
    status: overrides.status ?? {
      observedGeneration: generation,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: replicas,
      availableReplicas: replicas,
      conditions: [
        {
          type: 'Available',
          status: 'True',
          reason: 'MinimumReplicasAvailable',
          message: 'Deployment has minimum availability.',
          lastUpdateTime: '2026-11-20T09:13:02Z',
          lastTransitionTime: '2026-11-20T09:13:02Z',
        },
        {
          type: 'Progressing',
          status: 'True',
          reason: 'NewReplicaSetAvailable',
          message: `ReplicaSet "demo-api-${slot}-7d4b9c6f5d" has successfully progressed.`,
          lastUpdateTime: '2026-11-20T09:13:02Z',
          lastTransitionTime: '2026-11-20T09:12:44Z',
        },
      ],
    },
  };
}

export function demoService(
  liveSlot: string,
  annotations?: Record<string, string>,
): KubeService {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'demo-api',
      namespace: 'fastapi-demo',
      resourceVersion: '48100',
      labels: {
        'app.kubernetes.io/name': 'demo-api',
        'backstage.io/kubernetes-id': 'fastapi-demo',
      },
      ...(annotations && { annotations }),
    },
    spec: {
      type: 'ClusterIP',
      clusterIP: '10.96.14.201',
      selector: {
        'app.kubernetes.io/name': 'demo-api',
        'app.kubernetes.io/slot': liveSlot,
      },
      ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

export function demoPod(slot: string, suffix: string): KubePod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `demo-api-${slot}-7d4b9c6f5d-${suffix}`,
      namespace: 'fastapi-demo',
      labels: {
        'app.kubernetes.io/name': 'demo-api',
        'app.kubernetes.io/slot': slot,
        'pod-template-hash': '7d4b9c6f5d',
      },
    },
    spec: { containers: [{ name: 'api' }], nodeName: 'kwok-node-0' },
    status: {
      phase: 'Running',
      podIP: '10.244.0.12',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [
        {
          name: 'api',
          ready: true,
          started: true,
          restartCount: 0,
          state: { running: { startedAt: '2026-11-20T09:12:50Z' } },
        },
      ],
    },
  };
}

export function demoEndpointSlice(
  service: string,
  pods: { name: string; ready: boolean }[],
): KubeEndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    addressType: 'IPv4',
    metadata: {
      name: `${service}-x7k2p`,
      namespace: 'fastapi-demo',
      labels: {
        'kubernetes.io/service-name': service,
        'endpointslice.kubernetes.io/managed-by':
          'endpointslice-controller.k8s.io',
      },
    },
    endpoints: pods.map((p, i) => ({
      addresses: [`10.244.0.${20 + i}`],
      conditions: { ready: p.ready, serving: p.ready, terminating: false },
      nodeName: 'kwok-node-0',
      targetRef: { kind: 'Pod', name: p.name, namespace: 'fastapi-demo' },
    })),
    ports: [{ name: 'http', port: 8000, protocol: 'TCP' }],
  };
}
