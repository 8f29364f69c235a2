/*
 * What the integration tests share: clients for the cluster in KUBECONFIG, a
 * throw-away namespace with a blue-green pair, least-privileged identities,
 * and the API server's audit log. The suites run only when KUBECONFIG is set
 * (scripts/test-kube-integration.sh sets it for the local cluster).
 */
import {
  ENTITY_REF_ANNOTATION,
  KubeObject,
} from '@golden-path/plugin-rollouts-common';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  V1PolicyRule,
} from '@kubernetes/client-node';
import { createServiceFactory } from '@backstage/backend-plugin-api';
import { mockServices } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { signalsServiceRef } from '@backstage/plugin-signals-node';
import { rolloutsPlugin } from '../plugin';
import {
  ClusterTuning,
  InformerClusterRegistry,
} from '../services/clusters/ClusterRegistry';
import { kubeRequest } from '../services/clusters/kubeHttp';
import { rolloutsClusterRegistryServiceRef } from '../services/clusters/serviceRef';
import { RolloutsClusterRegistry } from '../services/clusters/types';
import { ApiServerAuditLog, WRITE_VERBS } from '../testUtils';

export const KUBECONFIG = process.env.KUBECONFIG;
export const SLOT = 'app.kubernetes.io/slot';
/** Real nodes the cluster runs (scripts/test-kube-integration.sh sets it). */
export const REAL_NODES = Number(process.env.KUBE_REAL_NODES ?? '0');
/** scripts/test-kube-integration.sh (make test) sets it: the suites must run. */
export const KUBE_INTEGRATION_REQUIRED = Boolean(
  process.env.REQUIRE_KUBE_INTEGRATION,
);

/** The API server's audit log (platform/cluster.sh writes one). */
export const audit = ApiServerAuditLog.fromEnv();

/**
 * Whether tests that need something can run. Without it they are skipped, with a
 * warning, unless `required` (by default KUBE_INTEGRATION_REQUIRED): then a
 * missing prerequisite fails the suite.
 */
export function prerequisite(
  present: boolean,
  missing: string,
  required = KUBE_INTEGRATION_REQUIRED,
): boolean {
  if (present) return true;
  if (required) {
    throw new Error(
      `${missing}. REQUIRE_KUBE_INTEGRATION is set: these tests must run, not be skipped.`,
    );
  }
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED: ${missing}.`);
  return false;
}

if (KUBECONFIG && !audit) {
  // eslint-disable-next-line no-console
  console.warn(
    'rollouts integration: KUBE_AUDIT_LOG is not set, so writes cannot be counted at the API server; ' +
      'the write tests only check that objects are unchanged. The local cluster sets it: ' +
      'eval "$(platform/cluster.sh env)".',
  );
}

export const describeWithCluster = prerequisite(
  Boolean(KUBECONFIG),
  'The rollouts integration tests need KUBECONFIG. Start a cluster with ' +
    '`platform/cluster.sh start` and run `eval "$(platform/cluster.sh env)"` first',
)
  ? describe
  : describe.skip;

/** Retries `check` until it passes or the timeout ends (then throws its last error). */
export async function eventually<T>(
  check: () => T | Promise<T>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      last = e;
      if (Date.now() > deadline) {
        throw new Error(
          `Timed out after ${timeoutMs} ms waiting for ${what}: ${last}`,
        );
      }
      await new Promise(r => setTimeout(r, 100));
    }
  }
}

/** Admin clients for the cluster in KUBECONFIG. */
export function adminClients() {
  const kc = new KubeConfig();
  kc.loadFromFile(KUBECONFIG!);
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    rbac: kc.makeApiClient(RbacAuthorizationV1Api),
  };
}

export type AdminClients = ReturnType<typeof adminClients>;

/** A namespace under Pod Security "restricted", ready for pods (default ServiceAccount). */
export async function createNamespace(admin: AdminClients, name: string) {
  await admin.core.createNamespace({
    body: {
      metadata: {
        name,
        labels: {
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
        },
      },
    },
  });
  await eventually(
    () =>
      admin.core.readNamespacedServiceAccount({
        name: 'default',
        namespace: name,
      }),
    30_000,
    `the default ServiceAccount in ${name}`,
  );
}

/** A KubeConfig for the same cluster with another bearer token. */
export function kubeConfigWithToken(
  admin: AdminClients,
  user: string,
  token: string,
) {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [admin.kc.getCurrentCluster()!],
    users: [{ name: user, token }],
    contexts: [
      { name: user, cluster: admin.kc.getCurrentCluster()!.name, user },
    ],
    currentContext: user,
  });
  return kc;
}

/** A short-lived token of a ServiceAccount (TokenRequest). */
export async function serviceAccountToken(
  admin: AdminClients,
  namespace: string,
  name: string,
): Promise<string> {
  const token = await admin.core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  return token.status!.token;
}

/** The kinds the rollouts plugin caches, as RBAC rules (list + watch). */
export const ROLLOUTS_READ_RULES: V1PolicyRule[] = [
  {
    apiGroups: [''],
    resources: ['pods', 'services', 'resourcequotas', 'limitranges', 'events'],
    verbs: ['list', 'watch'],
  },
  {
    apiGroups: ['apps'],
    resources: ['deployments', 'replicasets'],
    verbs: ['list', 'watch'],
  },
  {
    apiGroups: ['discovery.k8s.io'],
    resources: ['endpointslices'],
    verbs: ['list', 'watch'],
  },
  {
    apiGroups: ['autoscaling'],
    resources: ['horizontalpodautoscalers'],
    verbs: ['list', 'watch'],
  },
  {
    apiGroups: ['kustomize.toolkit.fluxcd.io'],
    resources: ['kustomizations'],
    verbs: ['list', 'watch'],
  },
];

/** What the rollouts plugin's writes need, bound per namespace. */
export const ROLLOUTS_WRITE_RULES: V1PolicyRule[] = [
  { apiGroups: [''], resources: ['services'], verbs: ['get', 'patch'] },
  { apiGroups: [''], resources: ['services/proxy'], verbs: ['get'] },
  { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'] },
];

/**
 * A ServiceAccount in `namespace` with a ClusterRole of `clusterRules` (if
 * any) and a namespaced Role of `namespaceRules` (if any). Returns its
 * username at the API server and a KubeConfig that signs in as it.
 * `cleanup` deletes the cluster-scoped objects (the namespace takes the rest).
 */
export async function identity(
  admin: AdminClients,
  namespace: string,
  name: string,
  rules: { clusterRules?: V1PolicyRule[]; namespaceRules?: V1PolicyRule[] },
) {
  await admin.core.createNamespacedServiceAccount({
    namespace,
    body: { metadata: { name } },
  });
  const subjects = [{ kind: 'ServiceAccount', name, namespace }];
  const clusterRoleName = `${namespace}-${name}`;
  if (rules.clusterRules) {
    await admin.rbac.createClusterRole({
      body: { metadata: { name: clusterRoleName }, rules: rules.clusterRules },
    });
    await admin.rbac.createClusterRoleBinding({
      body: {
        metadata: { name: clusterRoleName },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: clusterRoleName,
        },
        subjects,
      },
    });
  }
  if (rules.namespaceRules) {
    await admin.rbac.createNamespacedRole({
      namespace,
      body: { metadata: { name }, rules: rules.namespaceRules },
    });
    await admin.rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
        subjects,
      },
    });
  }
  const token = await serviceAccountToken(admin, namespace, name);
  return {
    username: `system:serviceaccount:${namespace}:${name}`,
    token,
    kubeConfig: kubeConfigWithToken(admin, name, token),
    async cleanup() {
      if (!rules.clusterRules) return;
      await admin.rbac
        .deleteClusterRoleBinding({ name: clusterRoleName })
        .catch(() => undefined);
      await admin.rbac
        .deleteClusterRole({ name: clusterRoleName })
        .catch(() => undefined);
    },
  };
}

/** Labels of one slot of the blue-green pair of entity `id`. */
export const slotLabels = (id: string, slot: string) => ({
  'app.kubernetes.io/name': 'demo-api',
  [SLOT]: slot,
  'backstage.io/kubernetes-id': id,
});

/**
 * A pod template that passes Pod Security "restricted". By default its pods
 * run on the local cluster's KWOK nodes (fake kubelets: Running and Ready at
 * once, no image pulled): these tests check the API, not containers. On a
 * cluster without KWOK nodes the pods stay Pending; point KUBECONFIG at the
 * local one. With `realNode`, they run the image on a real node (with room
 * to start a Python app, a writable /tmp and the given environment).
 */
export function podTemplate(
  labels: Record<string, string>,
  image: string,
  options: { realNode?: boolean; env?: { name: string; value: string }[] } = {},
) {
  const container = {
    name: 'api',
    image,
    ports: [{ name: 'http', containerPort: 8000 }],
    resources: {
      requests: { cpu: '50m', memory: '64Mi' },
      limits: { cpu: '100m', memory: '128Mi' },
    },
    livenessProbe: { httpGet: { path: '/health', port: 'http' } },
    readinessProbe: { httpGet: { path: '/ready', port: 'http' } },
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    },
  };
  const securityContext = {
    runAsNonRoot: true,
    runAsUser: 10001,
    seccompProfile: { type: 'RuntimeDefault' },
  };
  if (options.realNode) {
    return {
      metadata: { labels },
      spec: {
        nodeSelector: { 'golden-path.dev/node': 'real' },
        automountServiceAccountToken: false,
        securityContext: { ...securityContext, runAsGroup: 10001 },
        containers: [
          {
            ...container,
            imagePullPolicy: 'IfNotPresent',
            env: options.env ?? [],
            resources: {
              requests: { cpu: '20m', memory: '64Mi' },
              limits: { cpu: '300m', memory: '192Mi' },
            },
            readinessProbe: {
              httpGet: { path: '/ready', port: 'http' },
              periodSeconds: 2,
            },
            volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
          },
        ],
        volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '16Mi' } }],
      },
    };
  }
  return {
    metadata: { labels },
    spec: {
      nodeSelector: { type: 'kwok' },
      tolerations: [
        {
          key: 'kwok.x-k8s.io/node',
          operator: 'Equal',
          value: 'fake',
          effect: 'NoSchedule',
        },
      ],
      automountServiceAccountToken: false,
      securityContext,
      containers: [container],
    },
  };
}

/** A Component of the catalog for entity `id`, owned by `owner`. */
export function componentEntity(
  id: string,
  owner: string,
  namespace?: string,
): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name: id,
      namespace: 'default',
      annotations: {
        'backstage.io/kubernetes-id': id,
        ...(namespace && { 'backstage.io/kubernetes-namespace': namespace }),
      },
    },
    spec: { type: 'service', owner, lifecycle: 'production' },
  };
}

/** Permissions that allow everything to `owner` and nothing to anyone else. */
export function ownerOnlyPermissions(owner: string) {
  return mockServices.permissions.mock({
    authorize: async (requests: unknown[], { credentials }: any) =>
      requests.map(() => ({
        result:
          credentials.principal.userEntityRef === owner
            ? AuthorizeResult.ALLOW
            : AuthorizeResult.DENY,
      })),
  } as any);
}

/**
 * The plugin's clusters for a test: one cluster `it` whose cache reads with
 * `kubeConfig` and whose writes use the same identity, started and synced.
 */
export async function syncedRegistry(
  kubeConfig: KubeConfig,
  tuning: ClusterTuning = {},
): Promise<InformerClusterRegistry> {
  const registry = InformerClusterRegistry.fromKubeConfigs(
    [{ name: 'it', kubeConfig, write: { mode: 'plugin', kubeConfig } }],
    mockServices.logger.mock(),
    tuning,
  );
  await registry.start();
  await eventually(
    () => {
      const state = registry.get('it')!.health().state;
      if (state !== 'ok') throw new Error(`cluster is ${state}`);
    },
    30_000,
    'informers to sync',
  );
  return registry;
}

/**
 * A test backend's features for the rollouts plugin over `registry`: the
 * plugin, a signals service that drops signals, and the registry.
 */
export function rolloutsPluginFeatures(registry: RolloutsClusterRegistry) {
  return [
    rolloutsPlugin,
    createServiceFactory({
      service: signalsServiceRef,
      deps: {},
      factory: () => ({ publish: async () => {} }),
    }),
    createServiceFactory({
      service: rolloutsClusterRegistryServiceRef,
      deps: {},
      factory: () => registry,
    }),
  ];
}

/**
 * The blue-green pair of entity `id` in `namespace`: Deployments demo-api-blue
 * (1.0.0) and demo-api-green (2.0.0) and the Service demo-api selecting blue,
 * each naming `owner` as its owning entity, as the templates' manifests do.
 */
export async function createBlueGreenPair(
  admin: AdminClients,
  namespace: string,
  id: string,
  owner: string,
  replicas = 2,
) {
  const annotations = { [ENTITY_REF_ANNOTATION]: owner };
  for (const [slot, image] of [
    ['blue', 'ghcr.io/example/fastapi-demo:1.0.0'],
    ['green', 'ghcr.io/example/fastapi-demo:2.0.0'],
  ]) {
    await admin.apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: {
          name: `demo-api-${slot}`,
          labels: slotLabels(id, slot),
          annotations,
        },
        spec: {
          replicas,
          selector: {
            matchLabels: { 'app.kubernetes.io/name': 'demo-api', [SLOT]: slot },
          },
          template: podTemplate(slotLabels(id, slot), image) as any,
        },
      },
    });
  }
  await admin.core.createNamespacedService({
    namespace,
    body: {
      metadata: {
        name: 'demo-api',
        labels: { 'backstage.io/kubernetes-id': id },
        annotations,
      },
      spec: {
        selector: { 'app.kubernetes.io/name': 'demo-api', [SLOT]: 'blue' },
        ports: [{ name: 'http', port: 80, targetPort: 'http' as any }],
      },
    },
  });
}

/** Waits until a Deployment is fully rolled out (all replicas updated and available). */
export async function waitForRollout(
  admin: AdminClients,
  namespace: string,
  name: string,
) {
  await eventually(
    async () => {
      const d = await admin.apps.readNamespacedDeployment({ name, namespace });
      const s = d.status ?? {};
      if (
        (d.metadata?.generation ?? 0) > (s.observedGeneration ?? 0) ||
        s.updatedReplicas !== d.spec?.replicas ||
        s.availableReplicas !== d.spec?.replicas ||
        s.replicas !== d.spec?.replicas
      ) {
        throw new Error(`${name} not rolled out: ${JSON.stringify(s)}`);
      }
    },
    120_000,
    `Deployment ${name} to roll out`,
  );
}

/** A fresh read through the admin identity (never a cache). */
export function fresh<T extends KubeObject>(admin: AdminClients, path: string) {
  return kubeRequest<T>(admin.kc, path);
}

/** Write requests one identity made since the mark, from the audit log. */
export async function writesSince(
  username: string,
  mark: number,
  settleMs = 0,
): Promise<string[]> {
  const requests = await audit!.requestsSince(mark, { settleMs });
  return requests
    .filter(r => r.username === username && WRITE_VERBS.has(r.verb))
    .map(r => `${r.verb} ${r.resource} ${r.namespace}/${r.name} ${r.code}`);
}
