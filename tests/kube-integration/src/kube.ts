/*
 * Small helpers around @kubernetes/client-node 1.x (object-style parameters) for
 * the integration tests: clients, throw-away namespaces, watch-based waiting and
 * restricted-profile pod templates.
 */
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  KubernetesObject,
  KubernetesObjectApi,
  NetworkingV1Api,
  V1PodSpec,
  V1PodTemplateSpec,
  Watch,
} from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import * as https from 'node:https';

export function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  if (!process.env.KUBECONFIG) {
    throw new Error(
      'KUBECONFIG is not set: run the tests through scripts/test-kube-integration.sh ' +
        '(it starts a local control plane) or export KUBECONFIG for an existing cluster',
    );
  }
  kc.loadFromDefault();
  return kc;
}

export interface Clients {
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  discovery: DiscoveryV1Api;
  networking: NetworkingV1Api;
}

export function clients(): Clients {
  const kc = loadKubeConfig();
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    discovery: kc.makeApiClient(DiscoveryV1Api),
    networking: kc.makeApiClient(NetworkingV1Api),
  };
}

/** The API server's Status object carried by an ApiException. */
export interface ApiStatus {
  code?: number;
  reason?: string;
  message?: string;
  details?: {
    causes?: { reason?: string; message?: string; field?: string }[];
  };
}

/** Runs fn, expects it to fail with an ApiException, returns code + parsed Status. */
export async function expectApiError(
  fn: () => Promise<unknown>,
): Promise<{ code: number; status: ApiStatus }> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof ApiException) {
      const body = (e as ApiException<unknown>).body;
      let status: ApiStatus = {};
      if (typeof body === 'string') {
        try {
          status = JSON.parse(body);
        } catch {
          status = { message: body };
        }
      } else if (body && typeof body === 'object') {
        status = body as ApiStatus;
      }
      return { code: e.code, status };
    }
    throw e;
  }
  throw new Error(
    'expected the API server to reject the request, but it succeeded',
  );
}

/**
 * A raw HTTPS request with the kubeconfig's credentials. The typed clients serialize
 * bodies through their models and silently drop unknown fields; this sends the JSON
 * exactly as given (to test the API server's own field validation).
 */
export async function rawRequest(
  kc: KubeConfig,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<{ code: number; body: any }> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const url = new URL(cluster.server + path);
  const opts: https.RequestOptions = {
    method,
    hostname: url.hostname,
    port: url.port,
    path: url.pathname + url.search,
    headers: { 'Content-Type': contentType, Accept: 'application/json' },
  };
  await kc.applyToHTTPSOptions(opts);
  return await new Promise((resolve, reject) => {
    const req = https.request(opts, res => {
      const chunks: Buffer[] = [];
      res.on('data', d => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: any = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // keep text
        }
        resolve({ code: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', reject);
    if (body !== undefined)
      req.write(typeof body === 'string' ? body : JSON.stringify(body));
    req.end();
  });
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/**
 * How test namespaces begin (`it-<suite>-<random>`); KUBE_TEST_NAMESPACE_PREFIX changes
 * it, e.g. to tell one person's runs from another's on a shared cluster.
 */
export const TEST_NAMESPACE_PREFIX =
  process.env.KUBE_TEST_NAMESPACE_PREFIX ?? 'it';

/** The labels every test namespace carries. */
export const TEST_NAMESPACE_LABELS = {
  'golden-path.example.com/test': 'kube-integration',
};

/** Creates a namespace that enforces Pod Security "restricted". */
export async function createTestNamespace(
  core: CoreV1Api,
  prefix: string,
): Promise<string> {
  const name = uniqueName(`${TEST_NAMESPACE_PREFIX}-${prefix}`);
  await core.createNamespace({
    body: {
      metadata: {
        name,
        labels: {
          ...TEST_NAMESPACE_LABELS,
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
        },
      },
    },
  });
  // The ServiceAccount controller creates "default"; pods cannot be admitted without it.
  await waitForList(
    col.serviceAccounts(name),
    {},
    items => items.has('default'),
    30_000,
    `ServiceAccount default in ${name}`,
  );
  return name;
}

/** Deletes the namespace and waits (bounded) until the namespace controller removed it. */
export async function deleteTestNamespace(
  core: CoreV1Api,
  name: string,
  timeoutMs = 60_000,
): Promise<void> {
  try {
    await core.deleteNamespace({ name });
  } catch (e) {
    if (e instanceof ApiException && e.code === 404) return;
    throw e;
  }
  await waitForList(
    col.namespaces(),
    { fieldSelector: `metadata.name=${name}` },
    items => items.size === 0,
    timeoutMs,
    `namespace ${name} to be deleted`,
  );
}

type Items = Map<string, any>;

/** A resource collection, e.g. { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespace }. */
export interface Collection {
  apiVersion: string;
  kind: string;
  plural: string;
  namespace?: string;
}

export const col = {
  pods: (namespace: string): Collection => ({
    apiVersion: 'v1',
    kind: 'Pod',
    plural: 'pods',
    namespace,
  }),
  serviceAccounts: (namespace: string): Collection => ({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    plural: 'serviceaccounts',
    namespace,
  }),
  namespaces: (): Collection => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    plural: 'namespaces',
  }),
  resourceQuotas: (namespace: string): Collection => ({
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    plural: 'resourcequotas',
    namespace,
  }),
  deployments: (namespace: string): Collection => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    plural: 'deployments',
    namespace,
  }),
  services: (namespace: string): Collection => ({
    apiVersion: 'v1',
    kind: 'Service',
    plural: 'services',
    namespace,
  }),
  replicaSets: (namespace: string): Collection => ({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    plural: 'replicasets',
    namespace,
  }),
  endpointSlices: (namespace: string): Collection => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    plural: 'endpointslices',
    namespace,
  }),
};

export function collectionPath(c: Collection): string {
  const base = c.apiVersion.includes('/')
    ? `/apis/${c.apiVersion}`
    : `/api/${c.apiVersion}`;
  return c.namespace
    ? `${base}/namespaces/${c.namespace}/${c.plural}`
    : `${base}/${c.plural}`;
}

/** LIST a collection (any kind) with the kubeconfig's credentials. */
export async function listCollection(
  kc: KubeConfig,
  c: Collection,
  query: { labelSelector?: string; fieldSelector?: string } = {},
): Promise<{ items: any[]; resourceVersion?: string }> {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const list = await objects.list(
    c.apiVersion,
    c.kind,
    c.namespace,
    undefined,
    undefined,
    undefined,
    query.fieldSelector,
    query.labelSelector,
  );
  return {
    items: list.items ?? [],
    resourceVersion: list.metadata?.resourceVersion,
  };
}

/**
 * List + watch a collection until predicate(items) holds. items is kept up to date
 * from watch events (keyed by metadata.name). No polling: one LIST for the start
 * state and its resourceVersion, then a WATCH from there.
 *
 * Returns `started` (resolves once the watch stream is open, so a caller can make a
 * change and be sure to see its effect) and `done` (resolves with the items). Aborting
 * `signal` ends the watch (`done` rejects), e.g. when the change it waits for failed.
 */
export function watchUntil(
  collection: Collection,
  query: { labelSelector?: string; fieldSelector?: string },
  predicate: (items: Items, event?: { type: string; object: any }) => boolean,
  timeoutMs: number,
  description: string,
  signal?: AbortSignal,
): { started: Promise<void>; done: Promise<Items> } {
  let markStarted!: () => void;
  const started = new Promise<void>(r => {
    markStarted = r;
  });
  const done = (async () => {
    const kc = loadKubeConfig();
    const list = await listCollection(kc, collection, query);
    const items: Items = new Map(
      list.items.map((o: KubernetesObject) => [o.metadata!.name!, o]),
    );
    if (predicate(items)) {
      markStarted();
      return items;
    }
    return await new Promise<Items>((resolve, reject) => {
      let controller: AbortController | undefined;
      let settled = false;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        controller?.abort();
        markStarted();
        if (err) reject(err);
        else resolve(items);
      };
      const timer = setTimeout(() => {
        finish(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${description}; last state: ${JSON.stringify(
              summarize(items),
            )}`,
          ),
        );
      }, timeoutMs);
      signal?.addEventListener('abort', () =>
        finish(new Error(`stopped waiting for ${description}`)),
      );
      new Watch(kc)
        .watch(
          collectionPath(collection),
          {
            ...query,
            resourceVersion: list.resourceVersion,
            allowWatchBookmarks: true,
          },
          (type, object) => {
            if (settled || type === 'BOOKMARK') return;
            if (type === 'ERROR') {
              finish(
                new Error(
                  `watch error for ${description}: ${JSON.stringify(object)}`,
                ),
              );
              return;
            }
            const name = object?.metadata?.name;
            if (!name) return;
            if (type === 'DELETED') items.delete(name);
            else items.set(name, object);
            try {
              if (predicate(items, { type, object })) finish();
            } catch (e) {
              finish(e as Error);
            }
          },
          err => {
            if (!settled) {
              finish(
                new Error(
                  `watch for ${description} ended before the condition held${
                    err ? `: ${err}` : ''
                  }`,
                ),
              );
            }
          },
        )
        .then(c => {
          controller = c;
          markStarted();
          if (settled) c.abort();
        })
        .catch(e => finish(e));
    });
  })();
  // Avoid an unhandled rejection if the caller awaits `started` first and `done` fails.
  done.catch(() => undefined);
  return { started, done };
}

export function waitForList(
  collection: Collection,
  query: { labelSelector?: string; fieldSelector?: string },
  predicate: (items: Items, event?: { type: string; object: any }) => boolean,
  timeoutMs: number,
  description: string,
): Promise<Items> {
  return watchUntil(collection, query, predicate, timeoutMs, description).done;
}

/** Waits for a single named object (watch on a fieldSelector) to satisfy predicate. */
export async function waitForObject<T = any>(
  collection: Collection,
  name: string,
  predicate: (obj: T) => boolean,
  timeoutMs: number,
  description: string,
): Promise<T> {
  const items = await waitForList(
    collection,
    { fieldSelector: `metadata.name=${name}` },
    m => m.has(name) && predicate(m.get(name)),
    timeoutMs,
    description,
  );
  return items.get(name);
}

function summarize(items: Items): unknown {
  return [...items.values()].slice(0, 10).map(o => ({
    name: o?.metadata?.name,
    status: o?.status,
    endpoints: o?.endpoints?.map((e: any) => e.addresses),
  }));
}

/**
 * Fake (KWOK) nodes: label `type=kwok`; when the cluster also runs real nodes they carry
 * the taint `kwok.x-k8s.io/node=fake:NoSchedule` (platform/kwok/kwok.sh), so a pod lands
 * on a fake node only if it asks for one. Pods whose images never exist (fakes that are
 * never pulled) must ask, or the scheduler puts them on a real node.
 */
export const KWOK_NODE_SELECTOR = { type: 'kwok' } as const;
export const KWOK_TOLERATION = {
  key: 'kwok.x-k8s.io/node',
  operator: 'Equal',
  value: 'fake',
  effect: 'NoSchedule',
} as const;

/** Real nodes (platform/node/node.sh) carry this label. */
export const REAL_NODE_LABEL = 'golden-path.dev/node=real';

/** The pod spec, placed on a fake (KWOK) node: nodeSelector type=kwok + the toleration. */
export function onKwokNodes<
  T extends { nodeSelector?: any; tolerations?: any[] },
>(spec: T): T {
  return {
    ...spec,
    nodeSelector: { ...spec.nodeSelector, ...KWOK_NODE_SELECTOR },
    tolerations: [...(spec.tolerations ?? []), { ...KWOK_TOLERATION }],
  };
}

/**
 * A workload object (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob) whose
 * pods go to fake (KWOK) nodes; other objects are returned unchanged. For manifests
 * whose images exist nowhere (they are tested for admission and rollout, not run).
 */
export function workloadOnKwokNodes(obj: any): any {
  const template =
    obj?.kind === 'CronJob'
      ? obj.spec?.jobTemplate?.spec?.template
      : [
          'Deployment',
          'StatefulSet',
          'DaemonSet',
          'ReplicaSet',
          'Job',
        ].includes(obj?.kind)
      ? obj.spec?.template
      : undefined;
  if (template?.spec) template.spec = onKwokNodes(template.spec);
  return obj;
}

/** Pod Security "restricted": the pod's part (a numeric non-root user, seccomp). */
export const RESTRICTED_POD_SECURITY = {
  runAsNonRoot: true,
  runAsUser: 10001,
  seccompProfile: { type: 'RuntimeDefault' },
} as const;

/** Pod Security "restricted": each container's part. */
export const RESTRICTED_CONTAINER_SECURITY = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

/**
 * A pod template that passes Pod Security "restricted", placed on fake (KWOK) nodes:
 * its image is never pulled, kwok reports the pod Running and Ready.
 */
export function restrictedPodTemplate(
  labels: Record<string, string>,
  image: string,
  resources: {
    cpu: string;
    memory: string;
    limitCpu?: string;
    limitMemory?: string;
  } = {
    cpu: '50m',
    memory: '64Mi',
  },
): V1PodTemplateSpec {
  return {
    metadata: { labels },
    spec: onKwokNodes<V1PodSpec>({
      automountServiceAccountToken: false,
      securityContext: { ...RESTRICTED_POD_SECURITY },
      containers: [
        {
          name: 'app',
          image,
          ports: [{ name: 'http', containerPort: 8000 }],
          resources: {
            requests: { cpu: resources.cpu, memory: resources.memory },
            limits: {
              cpu: resources.limitCpu ?? resources.cpu,
              memory: resources.limitMemory ?? resources.memory,
            },
          },
          readinessProbe: { httpGet: { path: '/ready', port: 'http' } },
          securityContext: { ...RESTRICTED_CONTAINER_SECURITY },
        },
      ],
    }),
  };
}

export function isPodReady(pod: any): boolean {
  return (
    pod?.status?.phase === 'Running' &&
    !pod.metadata?.deletionTimestamp &&
    (pod.status.conditions ?? []).some(
      (c: any) => c.type === 'Ready' && c.status === 'True',
    )
  );
}

/** Deployment rollout finished: the same checks as `kubectl rollout status`. */
export function rolloutComplete(d: any): boolean {
  const want = d?.spec?.replicas ?? 1;
  const s = d?.status ?? {};
  return (
    (s.observedGeneration ?? 0) >= (d?.metadata?.generation ?? 1) &&
    (s.updatedReplicas ?? 0) === want &&
    (s.replicas ?? 0) === want &&
    (s.availableReplicas ?? 0) === want &&
    (s.readyReplicas ?? 0) === want
  );
}

/**
 * rolloutComplete, but fails fast (throws, which ends the watch with that error) when
 * the Deployment reports ReplicaFailure, e.g. pods refused by admission.
 */
export function rolloutSucceeded(d: any): boolean {
  const failure = (d?.status?.conditions ?? []).find(
    (x: any) => x.type === 'ReplicaFailure' && x.status === 'True',
  );
  if (failure) {
    throw new Error(
      `deployment ${d.metadata?.name} cannot create pods: ${failure.message}`,
    );
  }
  return rolloutComplete(d);
}
