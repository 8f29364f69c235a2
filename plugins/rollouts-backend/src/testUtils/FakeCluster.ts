/*
 * In-memory RolloutsCluster for unit tests. It behaves like the API server
 * where the tests need it to: JSON Patch with `test` (a failed test is a 422
 * without causes, nothing is written), resourceVersion bumps, an optional
 * EndpointSlice "controller" that re-points a Service's slice after its
 * selector changes, a Deployment "controller" that follows a replica change
 * (status, pods, EndpointSlices), and a service proxy that answers like the
 * blue-green template's /health.
 */
import { AuthenticationError, NotAllowedError } from '@backstage/errors';
import {
  ClusterWriteAccess,
  JsonPatchOperation,
  KubeEndpointSlice,
  KubeObject,
  KubePod,
  matchesEqualitySelector,
  SERVICE_NAME_LABEL,
  slotVersion,
} from '@golden-path/plugin-rollouts-common';
import {
  CACHE_INDEXES,
  CachedObjects,
  ObjectIndex,
} from '../services/clusters/cache/ObjectIndex';
import { KubeApiError } from '../services/clusters/kubeHttp';
import {
  ClusterChange,
  ClusterHealth,
  ClusterWriter,
  RESOURCE_KINDS,
  ResourceKind,
  ResourceTypes,
  RolloutsCluster,
  RolloutsClusterRegistry,
} from '../services/clusters/types';

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

function unescape(token: string) {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function notFound(): KubeApiError {
  return new KubeApiError(404, { reason: 'NotFound' }, 'not found');
}

function invalid(message: string): KubeApiError {
  return new KubeApiError(
    422,
    {
      kind: 'Status',
      status: 'Failure',
      reason: 'Invalid',
      message: `the server rejected our request due to an error in our request: ${message}`,
      details: {},
      code: 422,
    },
    message,
  );
}

/** Applies an RFC 6902 patch (test/add/replace/remove on objects). */
export function applyJsonPatch<T>(doc: T, ops: JsonPatchOperation[]): T {
  const result = clone(doc) as any;
  for (const op of ops) {
    const tokens = op.path.split('/').slice(1).map(unescape);
    const last = tokens.pop()!;
    let parent = result;
    for (const t of tokens) {
      if (parent === null || typeof parent !== 'object' || !(t in parent)) {
        throw invalid(`path ${op.path} does not exist`);
      }
      parent = parent[t];
    }
    if (parent === null || typeof parent !== 'object') {
      throw invalid(`path ${op.path} does not exist`);
    }
    switch (op.op) {
      case 'test':
        if (JSON.stringify(parent[last]) !== JSON.stringify(op.value)) {
          throw invalid(`testing value ${op.path} failed`);
        }
        break;
      case 'add':
        parent[last] = clone(op.value);
        break;
      case 'replace':
        if (!(last in parent)) {
          throw invalid(
            `replace operation does not apply: doc is missing key ${op.path}`,
          );
        }
        parent[last] = clone(op.value);
        break;
      case 'remove':
        delete parent[last];
        break;
      default:
        throw invalid('unknown op');
    }
  }
  return result;
}

/** @public */
export class FakeCluster implements RolloutsCluster {
  /** Every call that would reach the Kubernetes API. */
  readonly apiCalls: { method: string; args: unknown[] }[] = [];
  currentHealth: ClusterHealth = { state: 'ok', unavailable: [] };
  /**
   * Runs after a writer read an object and before its patch is applied: a test
   * changes the object here to race the write.
   */
  onBeforePatch?: () => void;
  /** How writes authenticate; tests switch it to `user` or `disabled`. */
  access: ClusterWriteAccess = { mode: 'plugin' };
  /** When set, EndpointSlices follow a Service selector change after this delay. */
  endpointControllerDelayMs?: number = 5;
  /**
   * When set, a Deployment follows a change of its replica count after this
   * delay: status, pods (Ready at once) and the EndpointSlices of the
   * namespace's Services.
   */
  deploymentControllerDelayMs?: number = 5;
  /**
   * Answers GETs through the service proxy. By default: 503 without a ready
   * endpoint, else 200 with `{"status":"ok","version":...}` of the slot the
   * Service selects (as the blue-green template's /health answers).
   */
  serviceProxy?: (request: {
    namespace: string;
    service: string;
    port: string;
    path: string;
  }) => { status: number; body: string };
  private readonly store = new Map<ResourceKind, ObjectIndex<KubeObject>>();
  private readonly listeners = new Set<(c: ClusterChange) => void>();
  private resourceVersion = 1000;

  constructor(
    readonly name: string,
    objects: Partial<{ [K in ResourceKind]: ResourceTypes[K][] }> = {},
  ) {
    for (const kind of RESOURCE_KINDS)
      this.store.set(kind, new ObjectIndex(kind, CACHE_INDEXES[kind]));
    for (const [kind, list] of Object.entries(objects)) {
      for (const obj of list as KubeObject[]) {
        this.put(kind as ResourceKind, obj as any, false);
      }
    }
  }

  put<K extends ResourceKind>(kind: K, obj: ResourceTypes[K], emit = true) {
    const copy = clone(obj);
    copy.metadata = {
      ...copy.metadata,
      resourceVersion: String(++this.resourceVersion),
    };
    const existed = this.store.get(kind)!.upsert(copy) !== undefined;
    if (emit)
      this.emit({
        cluster: this.name,
        kind,
        verb: existed ? 'update' : 'add',
        object: copy,
      });
    return copy;
  }

  delete<K extends ResourceKind>(kind: K, obj: ResourceTypes[K]) {
    if (this.store.get(kind)!.remove(obj)) {
      this.emit({ cluster: this.name, kind, verb: 'delete', object: obj });
    }
  }

  get<K extends ResourceKind>(kind: K, namespace: string, name: string) {
    return this.store.get(kind)!.get(namespace, name) as
      | ResourceTypes[K]
      | undefined;
  }

  private emit(change: ClusterChange) {
    for (const l of this.listeners) l(change);
  }

  health(): ClusterHealth {
    return this.currentHealth;
  }

  list<K extends ResourceKind>(kind: K): ReadonlyArray<ResourceTypes[K]> {
    return this.objects(kind).all();
  }

  objects<K extends ResourceKind>(kind: K): CachedObjects<ResourceTypes[K]> {
    return this.store.get(kind) as unknown as CachedObjects<ResourceTypes[K]>;
  }

  subscribe(listener: (change: ClusterChange) => void) {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Re-points the Service's EndpointSlice at the ready pods its selector matches. */
  reconcileEndpoints(namespace: string, service: string) {
    const svc = this.get('services', namespace, service);
    const pods = this.list('pods').filter(
      (p: KubePod) =>
        p.metadata?.namespace === namespace &&
        matchesEqualitySelector(svc?.spec?.selector, p.metadata?.labels),
    );
    const slice: KubeEndpointSlice = {
      metadata: {
        name: `${service}-abcde`,
        namespace,
        labels: { [SERVICE_NAME_LABEL]: service },
      },
      addressType: 'IPv4',
      endpoints: pods.map((p, i) => ({
        addresses: [`10.244.1.${i + 10}`],
        conditions: {
          ready: p.status?.conditions?.some(
            c => c.type === 'Ready' && c.status === 'True',
          ),
        },
        targetRef: { kind: 'Pod', name: p.metadata?.name, namespace },
      })),
    };
    this.put('endpointslices', slice);
  }

  /**
   * Brings a Deployment's status and pods to its replica count (all Ready and
   * available), then re-points the EndpointSlices of the namespace.
   */
  reconcileDeployment(namespace: string, name: string) {
    const d = this.get('deployments', namespace, name);
    if (!d) return;
    const replicas = d.spec?.replicas ?? 1;
    const replicaSets = this.list('replicasets').filter(rs =>
      rs.metadata?.ownerReferences?.some(r => r.uid === d.metadata?.uid),
    );
    const newest = [...replicaSets].sort(
      (a, b) =>
        Number(
          b.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0,
        ) -
        Number(
          a.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0,
        ),
    )[0];
    const rsUids = new Set(replicaSets.map(rs => rs.metadata?.uid));
    const pods = this.list('pods').filter(p =>
      p.metadata?.ownerReferences?.some(r => rsUids.has(r.uid)),
    );
    pods.slice(replicas).forEach(p => this.delete('pods', p));
    for (let i = pods.length; i < replicas && newest; i++) {
      this.put('pods', {
        metadata: {
          name: `${newest.metadata!.name}-up${i}`,
          namespace,
          uid: `uid-pod-${newest.metadata!.name}-up${i}`,
          labels: newest.spec?.template?.metadata?.labels,
          ownerReferences: [
            {
              kind: 'ReplicaSet',
              name: newest.metadata!.name!,
              uid: newest.metadata!.uid!,
              controller: true,
            },
          ],
        },
        spec: { containers: [{ name: 'api' }] },
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'True' }],
        },
      });
    }
    this.put('deployments', {
      ...d,
      status: {
        ...d.status,
        observedGeneration: d.metadata?.generation,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
      },
    });
    for (const svc of this.list('services')) {
      if (svc.metadata?.namespace === namespace) {
        this.reconcileEndpoints(namespace, svc.metadata.name!);
      }
    }
  }

  /** The default service proxy: what the template's /health answers. */
  private answerThroughProxy(namespace: string, service: string) {
    const svc = this.get('services', namespace, service);
    const slice = this.get('endpointslices', namespace, `${service}-abcde`);
    const readyPod = slice?.endpoints?.find(e => e.conditions?.ready !== false)
      ?.targetRef?.name;
    const pod = readyPod && this.get('pods', namespace, readyPod);
    if (!svc || !pod) {
      return {
        status: 503,
        body: JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          message: `no endpoints available for service "${service}"`,
          reason: 'ServiceUnavailable',
          code: 503,
        }),
      };
    }
    const deployment = this.list('deployments').find(
      d =>
        d.metadata?.namespace === namespace &&
        matchesEqualitySelector(
          d.spec?.template?.metadata?.labels,
          pod.metadata?.labels,
        ),
    );
    return {
      status: 200,
      body: JSON.stringify({
        status: 'ok',
        version: deployment ? slotVersion(deployment) : undefined,
      }),
    };
  }

  writeAccess(): ClusterWriteAccess {
    return this.access;
  }

  /** The user tokens writers were made with (undefined: the plugin's identity). */
  readonly writerTokens: (string | undefined)[] = [];

  writer(userToken?: string): ClusterWriter {
    if (this.access.mode === 'disabled') {
      throw new NotAllowedError(this.access.reason);
    }
    if (this.access.mode === 'user' && !userToken) {
      throw new AuthenticationError(
        `Writes in cluster '${this.name}' use your own Kubernetes credentials (auth provider ${this.access.authProvider}), and the request carried none.`,
      );
    }
    this.writerTokens.push(userToken);
    return {
      getService: async (namespace, name) =>
        this.read('getService', 'services', 'Service', namespace, name),
      getDeployment: async (namespace, name) =>
        this.read(
          'getDeployment',
          'deployments',
          'Deployment',
          namespace,
          name,
        ),
      listReplicaSets: async namespace => {
        this.apiCalls.push({ method: 'listReplicaSets', args: [namespace] });
        return clone(
          this.list('replicasets').filter(
            rs => rs.metadata?.namespace === namespace,
          ),
        );
      },
      patchService: async (namespace, name, patch) => {
        this.apiCalls.push({
          method: 'patchService',
          args: [namespace, name, patch],
        });
        const updated = this.patch('services', namespace, name, patch);
        if (this.endpointControllerDelayMs !== undefined) {
          setTimeout(
            () => this.reconcileEndpoints(namespace, name),
            this.endpointControllerDelayMs,
          );
        }
        return updated;
      },
      patchDeployment: async (namespace, name, patch) => {
        this.apiCalls.push({
          method: 'patchDeployment',
          args: [namespace, name, patch],
        });
        const before = this.get('deployments', namespace, name)?.spec?.replicas;
        const updated = this.patch('deployments', namespace, name, patch);
        if (
          this.deploymentControllerDelayMs !== undefined &&
          updated.spec?.replicas !== before
        ) {
          setTimeout(
            () => this.reconcileDeployment(namespace, name),
            this.deploymentControllerDelayMs,
          );
        }
        return updated;
      },
      getThroughServiceProxy: async (namespace, service, port, path) => {
        this.apiCalls.push({
          method: 'getThroughServiceProxy',
          args: [namespace, service, port, path],
        });
        return (
          this.serviceProxy?.({ namespace, service, port, path }) ??
          this.answerThroughProxy(namespace, service)
        );
      },
    };
  }

  /** A fresh read, as the API server answers it (with `kind`). */
  private read<K extends 'services' | 'deployments'>(
    method: string,
    kind: K,
    apiKind: string,
    namespace: string,
    name: string,
  ): ResourceTypes[K] {
    this.apiCalls.push({ method, args: [namespace, name] });
    const found = this.get(kind, namespace, name);
    if (!found) throw notFound();
    return { kind: apiKind, ...clone(found) };
  }

  private patch<K extends 'services' | 'deployments'>(
    kind: K,
    namespace: string,
    name: string,
    patch: JsonPatchOperation[],
  ): ResourceTypes[K] {
    this.onBeforePatch?.();
    const current = this.get(kind, namespace, name);
    if (!current) throw notFound();
    return this.put(kind, applyJsonPatch(current, patch));
  }
}

/** @public */
export class FakeRegistry implements RolloutsClusterRegistry {
  constructor(
    private readonly clusters: RolloutsCluster[],
    private readonly skippedClusters: { name: string; reason: string }[] = [],
  ) {}
  skipped() {
    return this.skippedClusters;
  }
  list() {
    return this.clusters;
  }
  get(name: string) {
    return this.clusters.find(c => c.name === name);
  }
}
