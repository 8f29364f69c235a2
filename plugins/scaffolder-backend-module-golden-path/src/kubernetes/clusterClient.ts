import fs from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import type {
  KubeDeployment,
  KubeObject,
  KubePod,
} from '@golden-path/plugin-rollouts-common';
import type { KubeReplicaSetWithConditions } from './rolloutProgress';
import {
  ClusterConnection,
  CONFIG_KEY,
  KubernetesActionSettings,
} from './settings';

/** Which resource serves a kind, and whether its objects live in a namespace. @public */
export interface KindInfo {
  resource: string;
  namespaced: boolean;
}

/** The answer to a server-side apply: the object, and the API server's warnings. @public */
export interface ApplyResult {
  object: KubeObject;
  warnings: string[];
}

/** A `metav1.Status` the API server sends with an error. */
export interface KubeStatus {
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    causes?: { reason?: string; message?: string; field?: string }[];
  };
}

/** A non-2xx answer of the API server, with its own message. */
export class KubeApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly status: KubeStatus | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

/**
 * What the Kubernetes actions ask of a cluster. Raw API JSON throughout: objects are
 * applied exactly as rendered (a typed client would drop misspelt fields before the API
 * server could reject them).
 *
 * @public
 */
export interface KubeCluster {
  /** API discovery; fails with the API server's words when the kind is not served. */
  kindInfo(apiVersion: string, kind: string): Promise<KindInfo>;
  /**
   * Server-side apply (`application/apply-patch+yaml`, `fieldValidation=Strict`, no
   * force): with `dryRun` every admission stage runs and nothing is stored.
   */
  apply(
    object: KubeObject,
    options: { fieldManager: string; dryRun: boolean; signal?: AbortSignal },
  ): Promise<ApplyResult>;
  getNamespace(
    name: string,
    signal?: AbortSignal,
  ): Promise<KubeObject | undefined>;
  /** One object of any served kind (found by discovery), or undefined when absent. */
  getObject(
    ref: { apiVersion: string; kind: string; namespace?: string; name: string },
    signal?: AbortSignal,
  ): Promise<KubeObject | undefined>;
  listDeployments(
    namespace: string,
    signal?: AbortSignal,
  ): Promise<KubeDeployment[]>;
  listReplicaSets(
    namespace: string,
    signal?: AbortSignal,
  ): Promise<KubeReplicaSetWithConditions[]>;
  listPods(namespace: string, signal?: AbortSignal): Promise<KubePod[]>;
}

/** Opens the configured cluster; `missing` configuration fails here, naming the keys. @public */
export type ConnectCluster = () => Promise<KubeCluster>;

const REQUEST_TIMEOUT_MS = 30_000;

function apiPrefix(apiVersion: string): string {
  return apiVersion.includes('/')
    ? `/apis/${apiVersion}`
    : `/api/${apiVersion}`;
}

/** The cluster client of the Kubernetes actions, over the connection of app-config. */
class HttpKubeCluster implements KubeCluster {
  private readonly discovery = new Map<
    string,
    Promise<Map<string, KindInfo>>
  >();

  constructor(private readonly kc: KubeConfig) {}

  async kindInfo(apiVersion: string, kind: string): Promise<KindInfo> {
    let resources = this.discovery.get(apiVersion);
    if (!resources) {
      resources = this.request<{
        resources?: { name: string; kind: string; namespaced: boolean }[];
      }>('GET', apiPrefix(apiVersion)).then(
        list =>
          new Map(
            (list.body.resources ?? [])
              .filter(r => !r.name.includes('/'))
              .map(r => [
                r.kind,
                { resource: r.name, namespaced: r.namespaced },
              ]),
          ),
      );
      this.discovery.set(apiVersion, resources);
      // A failed lookup is not remembered: the next task asks again.
      resources.catch(() => this.discovery.delete(apiVersion));
    }
    let known: Map<string, KindInfo>;
    try {
      known = await resources;
    } catch (e) {
      if (e instanceof KubeApiError && e.statusCode === 404) {
        throw new KubeApiError(
          404,
          e.status,
          `the cluster does not serve apiVersion ${apiVersion} (a custom resource whose CRD is not installed, or a removed API version)`,
        );
      }
      throw e;
    }
    const info = known.get(kind);
    if (!info) {
      throw new KubeApiError(
        404,
        undefined,
        `the cluster serves ${apiVersion} but no kind ${kind} in it (known: ${
          [...known.keys()].sort().join(', ') || 'none'
        })`,
      );
    }
    return info;
  }

  async apply(
    object: KubeObject,
    options: { fieldManager: string; dryRun: boolean; signal?: AbortSignal },
  ): Promise<ApplyResult> {
    const { apiVersion = '', kind = '', metadata = {} } = object;
    const info = await this.kindInfo(apiVersion, kind);
    const where = info.namespaced
      ? `/namespaces/${encodeURIComponent(metadata.namespace ?? '')}`
      : '';
    const res = await this.request<KubeObject>(
      'PATCH',
      `${apiPrefix(apiVersion)}${where}/${info.resource}/${encodeURIComponent(
        metadata.name ?? '',
      )}`,
      {
        query: {
          fieldManager: options.fieldManager,
          fieldValidation: 'Strict',
          force: 'false',
          ...(options.dryRun && { dryRun: 'All' }),
        },
        body: object,
        contentType: 'application/apply-patch+yaml',
        signal: options.signal,
      },
    );
    return { object: res.body, warnings: res.warnings };
  }

  getNamespace(name: string, signal?: AbortSignal) {
    return this.getIfExists(
      `/api/v1/namespaces/${encodeURIComponent(name)}`,
      signal,
    );
  }

  async getObject(
    ref: { apiVersion: string; kind: string; namespace?: string; name: string },
    signal?: AbortSignal,
  ) {
    const info = await this.kindInfo(ref.apiVersion, ref.kind);
    const where = info.namespaced
      ? `/namespaces/${encodeURIComponent(ref.namespace ?? '')}`
      : '';
    return this.getIfExists(
      `${apiPrefix(ref.apiVersion)}${where}/${
        info.resource
      }/${encodeURIComponent(ref.name)}`,
      signal,
    );
  }

  private async getIfExists(
    path: string,
    signal?: AbortSignal,
  ): Promise<KubeObject | undefined> {
    try {
      const res = await this.request<KubeObject>('GET', path, { signal });
      return res.body;
    } catch (e) {
      if (e instanceof KubeApiError && e.statusCode === 404) return undefined;
      throw e;
    }
  }

  listDeployments(namespace: string, signal?: AbortSignal) {
    return this.list<KubeDeployment>(
      '/apis/apps/v1',
      'deployments',
      namespace,
      signal,
    );
  }

  listReplicaSets(namespace: string, signal?: AbortSignal) {
    return this.list<KubeReplicaSetWithConditions>(
      '/apis/apps/v1',
      'replicasets',
      namespace,
      signal,
    );
  }

  listPods(namespace: string, signal?: AbortSignal) {
    return this.list<KubePod>('/api/v1', 'pods', namespace, signal);
  }

  private async list<T>(
    prefix: string,
    resource: string,
    namespace: string,
    signal?: AbortSignal,
  ): Promise<T[]> {
    const res = await this.request<{ items?: T[] }>(
      'GET',
      `${prefix}/namespaces/${encodeURIComponent(namespace)}/${resource}`,
      { signal },
    );
    return res.body.items ?? [];
  }

  private async request<T>(
    method: 'GET' | 'PATCH',
    path: string,
    options: {
      query?: Record<string, string>;
      body?: unknown;
      contentType?: string;
      signal?: AbortSignal;
    } = {},
  ): Promise<{ body: T; warnings: string[] }> {
    const cluster = this.kc.getCurrentCluster()!;
    const url = new URL(cluster.server.replace(/\/+$/, '') + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      url.searchParams.set(key, value);
    }
    const payload =
      options.body === undefined ? undefined : JSON.stringify(options.body);
    const requestOptions: https.RequestOptions = {
      method,
      signal: options.signal,
      headers: {
        Accept: 'application/json',
        ...(payload !== undefined && {
          'Content-Type': options.contentType ?? 'application/json',
          'Content-Length': Buffer.byteLength(payload),
        }),
      },
    };
    await this.kc.applyToHTTPSOptions(requestOptions);
    const transport = url.protocol === 'http:' ? http : https;
    return new Promise((resolve, reject) => {
      const req = transport.request(url, requestOptions, res => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = undefined;
          }
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 300) {
            resolve({
              body: body as T,
              warnings: parseWarnings(res.headers.warning),
            });
            return;
          }
          const status = body as KubeStatus | undefined;
          reject(
            new KubeApiError(
              code,
              status,
              status?.message ??
                (text.trim() || `HTTP ${code} from ${method} ${url.pathname}`),
            ),
          );
        });
      });
      req.setTimeout(REQUEST_TIMEOUT_MS, () =>
        req.destroy(
          new Error(
            `The API server at ${url.origin} did not answer ${method} ${
              url.pathname
            } within ${REQUEST_TIMEOUT_MS / 1000} s`,
          ),
        ),
      );
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }
}

/** `Warning: 299 - "text"` headers (admission warnings, deprecated APIs) as their texts. */
export function parseWarnings(header: string | string[] | undefined): string[] {
  const values = header === undefined ? [] : [header].flat();
  return values.flatMap(value =>
    [...value.matchAll(/\d{3} \S+ "((?:[^"\\]|\\.)*)"/g)].map(m =>
      m[1].replace(/\\(.)/g, '$1'),
    ),
  );
}

async function kubeConfigFor(
  connection: ClusterConnection,
): Promise<KubeConfig> {
  let token = connection.serviceAccountToken;
  if (token === undefined) {
    const file = connection.serviceAccountTokenFile!;
    try {
      token = (await fs.readFile(file, 'utf8')).trim();
    } catch (e) {
      throw new Error(
        `${CONFIG_KEY}.serviceAccountTokenFile (${file}) cannot be read: ${
          (e as Error).message
        }`,
      );
    }
  }
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'golden-path',
        server: connection.url,
        caData: connection.caData,
        caFile: connection.caFile,
        skipTLSVerify: connection.skipTLSVerify,
      },
    ],
    users: [{ name: 'golden-path-scaffolder', token }],
    contexts: [
      {
        name: 'golden-path',
        cluster: 'golden-path',
        user: 'golden-path-scaffolder',
      },
    ],
    currentContext: 'golden-path',
  });
  return kc;
}

/**
 * Connects the Kubernetes actions to the cluster of `goldenPath.kubernetes`. Each task
 * connects anew, so a token file that rotates is re-read; missing configuration fails
 * the task with the keys to set.
 */
export function clusterConnector(
  settings: Pick<KubernetesActionSettings, 'connection'>,
): ConnectCluster {
  return async () => {
    const { connection } = settings;
    if ('missing' in connection) {
      throw new Error(connection.missing);
    }
    return new HttpKubeCluster(await kubeConfigFor(connection));
  };
}

/**
 * The API server's own words for a refused request, with its HTTP status and reason
 * (`422 Invalid`, `403 Forbidden`, `409 Conflict`).
 */
export function apiServerMessage(error: KubeApiError): string {
  const reason = error.status?.reason;
  const causes = (error.status?.details?.causes ?? [])
    .map(c => [c.field, c.message].filter(Boolean).join(': '))
    .filter(text => text && !error.message.includes(text));
  return `${error.message}${causes.length ? `; ${causes.join('; ')}` : ''} [${
    error.statusCode
  }${reason ? ` ${reason}` : ''}]`;
}
