/*
 * In-memory RolloutsCluster for unit tests. It behaves like the API server
 * where the tests need it to: JSON Patch with `test` (a failed test is a 422
 * without causes, nothing is written), resourceVersion bumps, and an optional
 * EndpointSlice "controller" that re-points a Service's slice after its
 * selector changes.
 */
import {
  JsonPatchOperation,
  KubeDeployment,
  KubeEndpointSlice,
  KubeObject,
  KubePod,
  KubeReplicaSet,
  KubeService,
  matchesEqualitySelector,
  SERVICE_NAME_LABEL,
} from '@internal/plugin-rollouts-common';
import { KubeApiError } from '../services/clusters/kubeHttp';
import {
  ClusterChange,
  ClusterHealth,
  PatchType,
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

function mergePatch(target: any, patch: any): any {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    return clone(patch);
  }
  const out =
    target && typeof target === 'object' && !Array.isArray(target)
      ? { ...target }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export class FakeCluster implements RolloutsCluster {
  /** Every call that would reach the Kubernetes API. */
  readonly apiCalls: { method: string; args: unknown[] }[] = [];
  currentHealth: ClusterHealth = { state: 'ok' };
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

  async patchService(
    namespace: string,
    name: string,
    patch: JsonPatchOperation[],
  ): Promise<KubeService> {
    this.apiCalls.push({
      method: 'patchService',
      args: [namespace, name, patch],
    });
    const current = this.get('services', namespace, name);
    if (!current)
      throw new KubeApiError(404, { reason: 'NotFound' }, 'not found');
    const updated = this.put('services', applyJsonPatch(current, patch));
    if (this.endpointControllerDelayMs !== undefined) {
      setTimeout(
        () => this.reconcileEndpoints(namespace, name),
        this.endpointControllerDelayMs,
      );
    }
    return updated;
  }

  async patchDeployment(
    namespace: string,
    name: string,
    patch: JsonPatchOperation[] | object,
    type: PatchType,
  ): Promise<KubeDeployment> {
    this.apiCalls.push({
      method: 'patchDeployment',
      args: [namespace, name, patch, type],
    });
    const current = this.get('deployments', namespace, name);
    if (!current)
      throw new KubeApiError(404, { reason: 'NotFound' }, 'not found');
    const next =
      type === 'json'
        ? applyJsonPatch(current, patch as JsonPatchOperation[])
        : mergePatch(current, patch);
    return this.put('deployments', next);
  }

  async getDeployment(
    namespace: string,
    name: string,
  ): Promise<KubeDeployment> {
    this.apiCalls.push({ method: 'getDeployment', args: [namespace, name] });
    const d = this.get('deployments', namespace, name);
    if (!d) throw new KubeApiError(404, { reason: 'NotFound' }, 'not found');
    return clone(d);
  }

  async listReplicaSets(namespace: string): Promise<KubeReplicaSet[]> {
    this.apiCalls.push({ method: 'listReplicaSets', args: [namespace] });
    return clone(
      this.list('replicasets').filter(
        rs => rs.metadata?.namespace === namespace,
      ),
    );
  }
}

export class FakeRegistry implements RolloutsClusterRegistry {
  constructor(private readonly clusters: RolloutsCluster[]) {}
  list() {
    return this.clusters;
  }
  get(name: string) {
    return this.clusters.find(c => c.name === name);
  }
}
