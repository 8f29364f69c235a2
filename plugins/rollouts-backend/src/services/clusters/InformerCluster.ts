import { LoggerService } from '@backstage/backend-plugin-api';
import { AuthenticationError, NotAllowedError } from '@backstage/errors';
import {
  ClusterWriteAccess,
  KubeObject,
  UnavailableKind,
} from '@golden-path/plugin-rollouts-common';
import {
  KubeConfig,
  KubernetesListObject,
  KubernetesObject,
  Watch,
} from '@kubernetes/client-node';
import { CacheVerb, KindInformer } from './cache/KindInformer';
import { listPages } from './cache/listPages';
import { CACHE_INDEXES, CachedObjects, ObjectIndex } from './cache/ObjectIndex';
import { projectObject } from './cache/projections';
import { kubeConfigFor } from './clusterIdentity';
import { kubeRequest } from './kubeHttp';
import { KubeWriter } from './KubeWriter';
import { ClusterConnectionConfig } from './readClusterConfigs';
import {
  ClusterChange,
  ClusterHealth,
  ClusterWriter,
  REQUIRED_KINDS,
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
  kustomizations: '/apis/kustomize.toolkit.fluxcd.io/v1',
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

/**
 * How one cluster's writes authenticate: the rollouts plugin's own identity,
 * the signed-in user's own token, or not at all.
 *
 * @public
 */
export type ClusterWriteConfig =
  | { mode: 'plugin'; kubeConfig: KubeConfig }
  | {
      mode: 'user';
      authProvider: string;
      oidcTokenProvider?: string;
      /** Connection (URL, CA) the user's token is used with. */
      connection: Pick<
        ClusterConnectionConfig,
        'name' | 'url' | 'caData' | 'caFile' | 'skipTLSVerify'
      >;
    }
  | { mode: 'disabled'; reason: string };

/** @public @public */
export interface InformerClusterOptions {
  name: string;
  /** The identity of the cache (list + watch). */
  kubeConfig: KubeConfig;
  /** The identity of writes. */
  write: ClusterWriteConfig;
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
  /**
   * How often a kind the API server does not serve (404: Flux's
   * Kustomizations where Flux is not installed) is listed again, so that it
   * shows up once installed, without a restart. Default 300000: no more
   * often than a watch is re-opened.
   */
  notServedRetryMs?: number;
  /** Timeout of list and write requests. Default 30000. */
  requestTimeoutMs?: number;
  /** Objects per page of a list (`limit`). Default 500, as kubectl. */
  listPageSize?: number;
}

/** Watch events that carry an object of the watched kind (not ERROR, BOOKMARK). */
const OBJECT_EVENTS = new Set(['ADDED', 'MODIFIED', 'DELETED']);

/**
 * A Watch that asks for bookmarks and a server-side timeout, reports when the
 * connection is up, and aborts a watch the server should have closed long ago
 * (a dead TCP connection without FIN would otherwise hang forever). Objects
 * of ADDED/MODIFIED/DELETED events are passed on as `project` makes them, so
 * the informer never holds a full object.
 */
class ResilientWatch extends Watch {
  constructor(
    kc: KubeConfig,
    private readonly timeoutSeconds: number,
    private readonly onConnected: () => void,
    private readonly project: (obj: unknown) => KubernetesObject,
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
      (phase, apiObj, watchObj) =>
        callback(
          phase,
          OBJECT_EVENTS.has(phase) ? this.project(apiObj) : apiObj,
          watchObj,
        ),
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
  informer: KindInformer;
  synced: boolean;
  /** The last error, for the log; never shown to users as is. */
  error?: string;
  /** HTTP status of the last error, if the API server answered. */
  errorCode?: number;
  errorSince?: number;
  backoffMs: number;
  restartTimer?: NodeJS.Timeout;
}

/** An error category that is safe to show to every signed-in user. */
function describeFailure(code: number | undefined, kinds: string): string {
  if (code === undefined) {
    return `The cluster's API server cannot be reached (listing ${kinds}).`;
  }
  if (code === 401) {
    return `The API server rejects the rollouts plugin's credentials (HTTP 401 listing ${kinds}).`;
  }
  if (code === 403) {
    return `The rollouts plugin's identity may not list/watch ${kinds} (RBAC).`;
  }
  return `The API server answered HTTP ${code} listing ${kinds}.`;
}

function unavailableState(code: number | undefined): UnavailableKind['state'] {
  if (code === 401 || code === 403) return 'forbidden';
  return code === 404 ? 'not-installed' : 'unavailable';
}

/**
 * One cluster: list + watch informers (cache/KindInformer.ts, over
 * `@kubernetes/client-node`'s Watch) for every kind the plugin shows, so page
 * views are answered from memory.
 * Failed watches restart with backoff and resume from their resourceVersion;
 * a 410 Gone makes the informer list again. Lists are paginated
 * (`listPageSize`; an expired continue token restarts the list). Objects are
 * kept as slim projections (cache/projections.ts) in one index per kind
 * (cache/ObjectIndex.ts), so a page view costs work proportional to its
 * entity's objects; the index is the only place that holds them.
 *
 * @public
 */
export class InformerCluster implements RolloutsCluster {
  readonly name: string;
  private readonly kc: KubeConfig;
  private readonly writeConfig: ClusterWriteConfig;
  private readonly logger: LoggerService;
  private readonly entries: InformerEntry[] = [];
  /** One index per kind, shared by that kind's informers (one per namespace). */
  private readonly indexes = new Map<ResourceKind, ObjectIndex<KubeObject>>();
  private readonly listeners = new Set<(change: ClusterChange) => void>();
  private readonly errorGraceMs: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly notServedRetryMs: number;
  private readonly requestTimeoutMs: number;
  private readonly listPageSize: number;
  private stopped = true;

  constructor(options: InformerClusterOptions) {
    this.name = options.name;
    this.kc = options.kubeConfig;
    this.writeConfig = options.write;
    this.logger = options.logger;
    this.errorGraceMs = options.errorGraceMs ?? 5000;
    this.minBackoffMs = options.minBackoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 30000;
    this.notServedRetryMs = options.notServedRetryMs ?? 300000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30000;
    this.listPageSize = options.listPageSize ?? 500;
    for (const kind of RESOURCE_KINDS)
      this.indexes.set(kind, new ObjectIndex(kind, CACHE_INDEXES[kind]));
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
      entry.errorCode = undefined;
      entry.errorSince = undefined;
      entry.backoffMs = this.minBackoffMs;
    };
    const project = (obj: unknown) =>
      projectObject(kind, obj) as KubernetesObject;
    const list = async () => {
      const listed = await listPages({
        fetchPage: continueToken =>
          kubeRequest<KubernetesListObject<KubernetesObject>>(this.kc, path, {
            query: {
              fieldSelector,
              limit: String(this.listPageSize),
              continue: continueToken,
            },
            timeoutMs: this.requestTimeoutMs,
          }),
        transform: project,
      });
      entry.synced = true;
      markHealthy();
      return {
        resourceVersion: listed.resourceVersion,
        items: listed.items as KubeObject[],
      };
    };
    const watch = new ResilientWatch(
      this.kc,
      watchTimeoutSeconds,
      markHealthy,
      project,
    );
    const notify = (verb: CacheVerb, obj: KubeObject) => {
      const change: ClusterChange = {
        cluster: this.name,
        kind,
        verb,
        object: obj,
      };
      for (const listener of this.listeners) {
        try {
          listener(change);
        } catch (e) {
          this.logger.warn('rollouts change listener failed', {
            cluster: this.name,
            error: String(e),
          });
        }
      }
    };
    entry.informer = new KindInformer({
      path,
      fieldSelector,
      namespace,
      watch,
      list,
      // The index first (the informer updates it before `onChange`):
      // listeners read the cache as of this change.
      store: this.indexes.get(kind)!,
      onChange: notify,
      onError: err => this.onInformerError(entry, err),
    });
    return entry;
  }

  private onInformerError(entry: InformerEntry, err: unknown) {
    // Stopping aborts every watch; those errors are expected, not worth a warning.
    if (this.stopped) return;
    const message =
      (err as { message?: string })?.message ||
      String((err as { code?: unknown })?.code ?? err);
    const code =
      (err as { code?: unknown })?.code ??
      (err as { statusCode?: unknown })?.statusCode;
    const notServed = code === 404;
    if (entry.error === undefined) {
      entry.errorSince = Date.now();
      // Not a warning: many clusters lack Flux.
      const log = notServed ? this.logger.info : this.logger.warn;
      // The full error (it may name internal addresses) goes to the log only.
      log.call(this.logger, 'list/watch failed; retrying with backoff', {
        cluster: this.name,
        kind: entry.kind,
        namespace: entry.namespace ?? '*',
        status: typeof code === 'number' ? code : 'no answer',
        error: message,
      });
    }
    entry.error = message;
    entry.errorCode = typeof code === 'number' ? code : undefined;
    // A kind that is not served will not be soon: asked again rarely, so a
    // cluster without Flux costs no more requests than the watches' upkeep.
    const delay = notServed ? this.notServedRetryMs : entry.backoffMs;
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
    const failing = (e: InformerEntry) =>
      e.error !== undefined &&
      (!e.synced || now - (e.errorSince ?? now) >= this.errorGraceMs);
    const required = this.entries.filter(e => REQUIRED_KINDS.includes(e.kind));
    const optional = this.entries.filter(e => !REQUIRED_KINDS.includes(e.kind));

    const unavailable: UnavailableKind[] = [];
    for (const e of optional.filter(failing)) {
      if (!unavailable.some(u => u.kind === e.kind)) {
        unavailable.push({
          kind: e.kind,
          state: unavailableState(e.errorCode),
        });
      }
    }

    const down = required.filter(failing);
    if (down.length > 0) {
      const kinds = [...new Set(down.map(e => e.kind))].join(', ');
      // The cache keeps what it had; once every required kind was listed at
      // least once, that is shown as the last known state.
      const everSynced = required.every(e => e.synced);
      return {
        state: 'error',
        error: describeFailure(down[0].errorCode, kinds),
        ...(everSynced && {
          staleSince: Math.min(...down.map(e => e.errorSince ?? now)),
        }),
        unavailable,
      };
    }
    const loading = this.entries.some(e => !e.synced && !failing(e));
    return { state: loading ? 'syncing' : 'ok', unavailable };
  }

  writeAccess(): ClusterWriteAccess {
    const w = this.writeConfig;
    if (w.mode === 'user') {
      // Never the connection: this goes to every signed-in user.
      return {
        mode: 'user',
        authProvider: w.authProvider,
        ...(w.oidcTokenProvider && { oidcTokenProvider: w.oidcTokenProvider }),
      };
    }
    return w.mode === 'plugin' ? { mode: 'plugin' } : w;
  }

  writer(userToken?: string): ClusterWriter {
    const w = this.writeConfig;
    if (w.mode === 'disabled') {
      throw new NotAllowedError(w.reason);
    }
    if (w.mode === 'plugin') {
      return new KubeWriter(w.kubeConfig, this.requestTimeoutMs);
    }
    if (!userToken) {
      throw new AuthenticationError(
        `Writes in cluster '${this.name}' use your own Kubernetes credentials (auth provider ${w.authProvider}), and the request carried none. Sign in to ${w.authProvider} in the portal and try again.`,
      );
    }
    return new KubeWriter(
      kubeConfigFor(w.connection, { token: userToken }),
      this.requestTimeoutMs,
    );
  }

  list<K extends ResourceKind>(kind: K): ReadonlyArray<ResourceTypes[K]> {
    return this.objects(kind).all();
  }

  objects<K extends ResourceKind>(kind: K): CachedObjects<ResourceTypes[K]> {
    return this.indexes.get(kind) as unknown as CachedObjects<ResourceTypes[K]>;
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
}
