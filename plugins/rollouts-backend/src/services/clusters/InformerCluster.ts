import { LoggerService } from '@backstage/backend-plugin-api';
import {
  JsonPatchOperation,
  KubeDeployment,
  KubeObject,
  KubeReplicaSet,
  KubeService,
} from '@internal/plugin-rollouts-common';
import {
  KubeConfig,
  KubernetesListObject,
  KubernetesObject,
  ListWatch,
  Watch,
} from '@kubernetes/client-node';
import { kubeRequest } from './kubeHttp';
import {
  ClusterChange,
  ClusterHealth,
  PatchType,
  RESOURCE_KINDS,
  ResourceKind,
  ResourceTypes,
  RolloutsCluster,
} from './types';

const API_PREFIX: Record<ResourceKind, string> = {
  deployments: '/apis/apps/v1',
  replicasets: '/apis/apps/v1',
  pods: '/api/v1',
  services: '/api/v1',
  endpointslices: '/apis/discovery.k8s.io/v1',
  resourcequotas: '/api/v1',
  limitranges: '/api/v1',
  horizontalpodautoscalers: '/apis/autoscaling/v2',
  events: '/api/v1',
};

/** Only Warning events are cached; Normal events are plentiful and not shown. */
const FIELD_SELECTORS: Partial<Record<ResourceKind, string>> = {
  events: 'type=Warning',
};

export function resourcePath(kind: ResourceKind, namespace?: string): string {
  return namespace
    ? `${API_PREFIX[kind]}/namespaces/${encodeURIComponent(namespace)}/${kind}`
    : `${API_PREFIX[kind]}/${kind}`;
}

/** @public */
export interface InformerClusterOptions {
  name: string;
  kubeConfig: KubeConfig;
  logger: LoggerService;
  /** Watch only these namespaces (one informer per kind and namespace). Default: all. */
  namespaces?: string[];
  /** Server-side watch timeout; the watch then resumes from its resourceVersion. Default 300. */
  watchTimeoutSeconds?: number;
  /** How long an error must last before the cluster is reported as down. Default 5000. */
  errorGraceMs?: number;
  /** Backoff bounds for restarting a failed list/watch. Defaults 1000 / 30000. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Timeout of list and write requests. Default 30000. */
  requestTimeoutMs?: number;
}

/**
 * A Watch that asks for bookmarks and a server-side timeout, reports when the
 * connection is up, and aborts a watch the server should have closed long ago
 * (a dead TCP connection without FIN would otherwise hang forever).
 */
class ResilientWatch extends Watch {
  constructor(
    kc: KubeConfig,
    private readonly timeoutSeconds: number,
    private readonly onConnected: () => void,
  ) {
    super(kc);
  }

  async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: any, watchObj?: any) => void,
    done: (err: any) => void,
  ): Promise<AbortController> {
    let finished = false;
    let watchdog: NodeJS.Timeout | undefined;
    // Spread watches of one cluster so they do not all restart at once.
    const timeout = Math.round(
      this.timeoutSeconds * (0.8 + Math.random() * 0.4),
    );
    const controller = await super.watch(
      path,
      { ...queryParams, allowWatchBookmarks: true, timeoutSeconds: timeout },
      callback,
      err => {
        finished = true;
        if (watchdog) clearTimeout(watchdog);
        done(err);
      },
    );
    if (!finished) {
      this.onConnected();
      watchdog = setTimeout(() => controller.abort(), (timeout + 30) * 1000);
      watchdog.unref?.();
    }
    return controller;
  }
}

interface InformerEntry {
  kind: ResourceKind;
  namespace?: string;
  informer: ListWatch<KubernetesObject>;
  synced: boolean;
  error?: string;
  errorSince?: number;
  backoffMs: number;
  restartTimer?: NodeJS.Timeout;
}

/**
 * One cluster: list + watch informers (from `@kubernetes/client-node`) for
 * every kind the plugin shows, so page views are answered from memory.
 * Failed watches restart with backoff and resume from their resourceVersion;
 * a 410 Gone makes the informer list again.
 *
 * @public
 */
export class InformerCluster implements RolloutsCluster {
  readonly name: string;
  private readonly kc: KubeConfig;
  private readonly logger: LoggerService;
  private readonly entries: InformerEntry[] = [];
  private readonly listeners = new Set<(change: ClusterChange) => void>();
  private readonly errorGraceMs: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly requestTimeoutMs: number;
  private stopped = true;

  constructor(options: InformerClusterOptions) {
    this.name = options.name;
    this.kc = options.kubeConfig;
    this.logger = options.logger;
    this.errorGraceMs = options.errorGraceMs ?? 5000;
    this.minBackoffMs = options.minBackoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 30000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30000;
    const namespaces = options.namespaces?.length
      ? options.namespaces
      : [undefined];
    for (const kind of RESOURCE_KINDS) {
      for (const namespace of namespaces) {
        this.entries.push(
          this.createEntry(kind, namespace, options.watchTimeoutSeconds ?? 300),
        );
      }
    }
  }

  private createEntry(
    kind: ResourceKind,
    namespace: string | undefined,
    watchTimeoutSeconds: number,
  ): InformerEntry {
    const path = resourcePath(kind, namespace);
    const fieldSelector = FIELD_SELECTORS[kind];
    // The informer is attached below; the closures only run after that.
    const entry = {
      kind,
      namespace,
      synced: false,
      backoffMs: this.minBackoffMs,
    } as InformerEntry;
    const markHealthy = () => {
      entry.error = undefined;
      entry.errorSince = undefined;
      entry.backoffMs = this.minBackoffMs;
    };
    const listFn = async () => {
      const list = await kubeRequest<KubernetesListObject<KubernetesObject>>(
        this.kc,
        path,
        {
          query: { fieldSelector },
          timeoutMs: this.requestTimeoutMs,
        },
      );
      entry.synced = true;
      markHealthy();
      return list;
    };
    const watch = new ResilientWatch(this.kc, watchTimeoutSeconds, markHealthy);
    const informer = new ListWatch<KubernetesObject>(
      path,
      watch,
      listFn,
      false,
      undefined,
      fieldSelector,
    );
    entry.informer = informer;
    const emit = (verb: ClusterChange['verb']) => (obj: KubernetesObject) => {
      // managedFields are large and never shown; drop them from the cache.
      if (obj.metadata) delete (obj.metadata as any).managedFields;
      const change: ClusterChange = {
        cluster: this.name,
        kind,
        verb,
        object: obj as KubeObject,
      };
      for (const listener of this.listeners) {
        try {
          listener(change);
        } catch (e) {
          this.logger.warn(`rollouts change listener failed: ${e}`);
        }
      }
    };
    informer.on('add', emit('add'));
    informer.on('update', emit('update'));
    informer.on('delete', emit('delete'));
    informer.on('error', (err: unknown) => this.onInformerError(entry, err));
    return entry;
  }

  private onInformerError(entry: InformerEntry, err: unknown) {
    // Stopping aborts every watch; those errors are expected, not worth a warning.
    if (this.stopped) return;
    const message =
      (err as { message?: string })?.message ||
      String((err as { code?: unknown })?.code ?? err);
    if (entry.error === undefined) {
      entry.errorSince = Date.now();
      this.logger.warn(
        `Cluster ${this.name}: ${entry.kind}${
          entry.namespace ? ` in ${entry.namespace}` : ''
        } list/watch failed (${message}); retrying`,
      );
    }
    entry.error = message;
    const delay = entry.backoffMs;
    entry.backoffMs = Math.min(entry.backoffMs * 2, this.maxBackoffMs);
    entry.restartTimer = setTimeout(() => {
      entry.restartTimer = undefined;
      if (!this.stopped) {
        entry.informer.start().catch(e => this.onInformerError(entry, e));
      }
    }, delay);
    entry.restartTimer.unref?.();
  }

  /** Starts every informer; resolves once each made its first attempt. */
  async start(): Promise<void> {
    this.stopped = false;
    await Promise.all(
      this.entries.map(e =>
        e.informer.start().catch(err => this.onInformerError(e, err)),
      ),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const e of this.entries) {
      if (e.restartTimer) clearTimeout(e.restartTimer);
      await e.informer.stop();
    }
  }

  health(): ClusterHealth {
    const now = Date.now();
    const failing = this.entries.filter(
      e =>
        e.error !== undefined &&
        (!e.synced || now - (e.errorSince ?? now) >= this.errorGraceMs),
    );
    if (failing.length > 0) {
      const kinds = [...new Set(failing.map(e => e.kind))].join(', ');
      return {
        state: 'error',
        error: `Cannot list/watch ${kinds}: ${failing[0].error}`,
      };
    }
    if (this.entries.some(e => !e.synced)) {
      return { state: 'syncing' };
    }
    return { state: 'ok' };
  }

  list<K extends ResourceKind>(kind: K): ReadonlyArray<ResourceTypes[K]> {
    const result: ResourceTypes[K][] = [];
    for (const e of this.entries) {
      if (e.kind === kind) {
        result.push(...(e.informer.list() as unknown as ResourceTypes[K][]));
      }
    }
    return result;
  }

  /** resourceVersion each informer last saw, for tests and diagnostics. */
  resourceVersions(): Record<string, string> {
    return Object.fromEntries(
      this.entries.map(e => [
        `${e.kind}${e.namespace ? `/${e.namespace}` : ''}`,
        e.informer.latestResourceVersion(),
      ]),
    );
  }

  subscribe(listener: (change: ClusterChange) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  patchService(
    namespace: string,
    name: string,
    patch: JsonPatchOperation[],
  ): Promise<KubeService> {
    return kubeRequest<KubeService>(
      this.kc,
      `/api/v1/namespaces/${encodeURIComponent(
        namespace,
      )}/services/${encodeURIComponent(name)}`,
      {
        method: 'PATCH',
        body: patch,
        contentType: 'application/json-patch+json',
        timeoutMs: this.requestTimeoutMs,
      },
    );
  }

  patchDeployment(
    namespace: string,
    name: string,
    patch: JsonPatchOperation[] | object,
    type: PatchType,
  ): Promise<KubeDeployment> {
    return kubeRequest<KubeDeployment>(
      this.kc,
      `/apis/apps/v1/namespaces/${encodeURIComponent(
        namespace,
      )}/deployments/${encodeURIComponent(name)}`,
      {
        method: 'PATCH',
        body: patch,
        contentType:
          type === 'json'
            ? 'application/json-patch+json'
            : 'application/merge-patch+json',
        timeoutMs: this.requestTimeoutMs,
      },
    );
  }

  getDeployment(namespace: string, name: string): Promise<KubeDeployment> {
    return kubeRequest<KubeDeployment>(
      this.kc,
      `/apis/apps/v1/namespaces/${encodeURIComponent(
        namespace,
      )}/deployments/${encodeURIComponent(name)}`,
      { timeoutMs: this.requestTimeoutMs },
    );
  }

  async listReplicaSets(namespace: string): Promise<KubeReplicaSet[]> {
    const list = await kubeRequest<{ items?: KubeReplicaSet[] }>(
      this.kc,
      resourcePath('replicasets', namespace),
      { timeoutMs: this.requestTimeoutMs },
    );
    return list.items ?? [];
  }
}
