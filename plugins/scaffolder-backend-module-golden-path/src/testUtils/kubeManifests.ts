import fs from 'node:fs/promises';
import path from 'node:path';

/** What a fixture service looks like: one Deployment, its Service and its namespace. */
export interface FixtureService {
  name: string;
  namespace: string;
  image: string;
  replicas?: number;
  /** Pins the pods to some nodes (the local cluster's real ones). */
  nodeSelector?: Record<string, string>;
  /** Makes the Deployment fail fast in tests (`progressDeadlineSeconds`). */
  progressDeadlineSeconds?: number;
}

/** The service most unit tests deploy: web, in namespace shop. */
export const WEB_IN_SHOP: FixtureService = {
  name: 'web',
  namespace: 'shop',
  image: 'acme/web:1.0.0',
};

/**
 * A folder of manifests shaped like the golden-path skeletons' k8s/: a kustomization
 * setting the namespace, a Namespace under Pod Security "restricted", a Deployment that
 * passes every project policy, and its Service. Returns the file contents by name.
 */
export function fixtureManifests(
  service: FixtureService,
): Record<string, string> {
  const labels = {
    'app.kubernetes.io/name': service.name,
    'backstage.io/kubernetes-id': service.name,
  };
  const entityRef = `component:default/${service.name}`;
  const yaml = (value: object) => `${JSON.stringify(value, null, 2)}\n`;
  return {
    'kustomization.yaml': yaml({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      namespace: service.namespace,
      resources: ['namespace.yaml', 'deployment.yaml', 'service.yaml'],
    }),
    'namespace.yaml': yaml({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: service.namespace,
        labels: {
          ...labels,
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
        },
      },
    }),
    'deployment.yaml': yaml({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: service.name,
        labels,
        annotations: { 'rollouts.backstage.io/entity-ref': entityRef },
      },
      spec: {
        replicas: service.replicas ?? 1,
        ...(service.progressDeadlineSeconds && {
          progressDeadlineSeconds: service.progressDeadlineSeconds,
        }),
        selector: { matchLabels: { 'app.kubernetes.io/name': service.name } },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: 1,
            ...(service.nodeSelector && { nodeSelector: service.nodeSelector }),
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 10001,
              runAsGroup: 10001,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [
              {
                name: 'app',
                image: service.image,
                command: ['sh', '-c', 'sleep 3600'],
                ports: [{ name: 'http', containerPort: 8000 }],
                resources: {
                  requests: { cpu: '10m', memory: '16Mi' },
                  limits: { memory: '32Mi' },
                },
                readinessProbe: {
                  exec: { command: ['true'] },
                  periodSeconds: 2,
                },
                livenessProbe: {
                  exec: { command: ['true'] },
                  periodSeconds: 10,
                },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ['ALL'] },
                },
              },
            ],
          },
        },
      },
    }),
    'service.yaml': yaml({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: service.name,
        labels,
        annotations: { 'rollouts.backstage.io/entity-ref': entityRef },
      },
      spec: {
        selector: { 'app.kubernetes.io/name': service.name },
        ports: [{ name: 'http', port: 80, targetPort: 'http' }],
      },
    }),
  };
}

/** Writes files (name → content) below `dir`, creating it. */
export async function writeFiles(
  dir: string,
  files: Record<string, string>,
): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await fs.writeFile(path.join(dir, name), content);
  }
}
