/*
 * In-memory RolloutsCluster for unit tests. It behaves like the API server
 * where the tests need it to: JSON Patch with `test` (a failed test is a 422
 * without causes, nothing is written), resourceVersion bumps, and an optional
 * EndpointSlice "controller" that re-points a Service's slice after its
 * selector changes.
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
} from '@internal/plugin-rollouts-common';
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

const key = (o: KubeObject) => `${o.metadata?.namespace}/${o.metadata?.name}`;
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
  private readonly store = new Map<ResourceKind, Map<string, KubeObject>>();
  private readonly listeners = new Set<(c: ClusterChange) => void>();
  private resourceVersion = 1000;

  constructor(
    readonly name: string,
    objects: Partial<{ [K in ResourceKind]: ResourceTypes[K][] }> = {},
  ) {
    for (const kind of RESOURCE_KINDS) this.store.set(kind, new Map());
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
    const existed = this.store.get(kind)!.has(key(copy));
    this.store.get(kind)!.set(key(copy), copy);
    if (emit)
      this.emit({
        cluster: this.name,
        kind,
        verb: existed ? 'update' : 'add',
        object: copy,
      });
    return copy;
  }

  get<K extends ResourceKind>(kind: K, namespace: string, name: string) {
    return this.store.get(kind)!.get(`${namespace}/${name}`) as
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
    return [...this.store.get(kind)!.values()] as ResourceTypes[K][];
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
        return this.patch('deployments', namespace, name, patch);
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
