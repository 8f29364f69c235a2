import http from 'node:http';
import https from 'node:https';
import { gunzipSync } from 'node:zlib';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import type {
  EntityRolloutsResponse,
  RolloutsSignal,
  SwitchTrafficRequest,
  SwitchTrafficResponse,
} from '@golden-path/plugin-rollouts-common';
import { rolloutsSignalChannel } from '@golden-path/plugin-rollouts-common';

/**
 * The calls the portal's entity page makes, from Node: sign in as guest, load
 * the rollouts status, subscribe to its signals, and the Kubernetes tab's
 * `POST /api/kubernetes/services/<name>`.
 */
export class PortalClient {
  private constructor(
    readonly baseUrl: string,
    private readonly token: string,
    readonly entity: Entity,
  ) {}

  static async signIn(
    baseUrl: string,
    ref: { kind: string; namespace: string; name: string },
  ): Promise<PortalClient> {
    const res = await fetch(
      `${baseUrl}/api/auth/guest/refresh?env=development`,
      { headers: { 'x-requested-with': 'XMLHttpRequest' } },
    );
    if (!res.ok) {
      throw new Error(
        `guest sign-in at ${baseUrl} failed with HTTP ${
          res.status
        }: ${await res.text()}`,
      );
    }
    const token = (await res.json()).backstageIdentity?.token;
    if (!token) throw new Error('guest sign-in returned no Backstage token');
    const entityRes = await fetch(
      `${baseUrl}/api/catalog/entities/by-name/${ref.kind}/${ref.namespace}/${ref.name}`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    if (!entityRes.ok) {
      throw new Error(
        `entity ${ref.kind}:${ref.namespace}/${ref.name} not in the catalog (HTTP ${entityRes.status})`,
      );
    }
    return new PortalClient(baseUrl, token, await entityRes.json());
  }

  /** The signed-in user's Authorization header, for requests of a test's own. */
  get authorization(): string {
    return `Bearer ${this.token}`;
  }

  get entityRef(): string {
    return stringifyEntityRef(this.entity);
  }

  private get rolloutsEntityUrl(): string {
    const { namespace = 'default', name } = this.entity.metadata;
    return `${
      this.baseUrl
    }/api/rollouts/entity/${this.entity.kind.toLowerCase()}/${namespace}/${name}`;
  }

  /**
   * What the rollouts tab loads. `fresh` sends `Cache-Control: no-cache`: the
   * backend then reads the entity from the catalog with the user's
   * credentials instead of its shared entity cache.
   */
  async rolloutsStatus(
    options: { fresh?: boolean } = {},
  ): Promise<EntityRolloutsResponse> {
    const res = await fetch(`${this.rolloutsEntityUrl}/status`, {
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(options.fresh && { 'cache-control': 'no-cache' }),
      },
    });
    if (!res.ok) {
      throw new Error(
        `rollouts status: HTTP ${res.status} ${await res.text()}`,
      );
    }
    return res.json();
  }

  /**
   * `rolloutsStatus` for load generators: the same request as a browser sends
   * it (gzip accepted, a kept-alive connection), answered when the last byte
   * arrives, without decompressing or parsing the answer. The benchmark's
   * client shares the machine with the backend: fetch and JSON.parse of each
   * answer took about 40% of a core at 50 concurrent, CPU a browser
   * spends on its own machine. Callers check the answer with `rolloutsStatus`.
   */
  async rolloutsStatusBytes(
    options: { fresh?: boolean } = {},
  ): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = this.transport.get(
        `${this.rolloutsEntityUrl}/status`,
        {
          agent: this.loadAgent,
          headers: {
            authorization: `Bearer ${this.token}`,
            'accept-encoding': 'gzip',
            ...(options.fresh && { 'cache-control': 'no-cache' }),
          },
        },
        res => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const body = Buffer.concat(chunks);
            if (res.statusCode === 200 && body.length > 0) {
              resolve(body.length);
              return;
            }
            const text =
              res.headers['content-encoding'] === 'gzip'
                ? gunzipSync(body).toString('utf8')
                : body.toString('utf8');
            reject(
              new Error(
                `rollouts status: HTTP ${res.statusCode} ${text.slice(0, 300)}`,
              ),
            );
          });
        },
      );
      req.on('error', reject);
    });
  }

  /** node:http or node:https, as the portal's URL says. */
  private get transport(): typeof http | typeof https {
    return this.baseUrl.startsWith('https:') ? https : http;
  }

  /** Kept-alive connections for `rolloutsStatusBytes`, made on first use. */
  private get loadAgent(): http.Agent {
    this.agent ??= new this.transport.Agent({ keepAlive: true });
    return this.agent;
  }
  private agent?: http.Agent;

  /** Closes the kept-alive connections of `rolloutsStatusBytes`. */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }

  /** The tab's blue-green switch button. */
  async switchTraffic(
    body: SwitchTrafficRequest,
  ): Promise<SwitchTrafficResponse> {
    const res = await fetch(`${this.rolloutsEntityUrl}/traffic/switch`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${this.token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
    if (!res.ok) {
      throw new Error(
        `rollouts switch: HTTP ${res.status} ${await res.text()}`,
      );
    }
    return res.json();
  }

  /** What Backstage's Kubernetes tab polls every 10 s. */
  async kubernetesObjects(): Promise<KubernetesObjectsResponse> {
    const res = await fetch(
      `${this.baseUrl}/api/kubernetes/services/${this.entity.metadata.name}`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.token}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ entity: this.entity, auth: {} }),
      },
    );
    if (!res.ok) {
      throw new Error(
        `kubernetes services: HTTP ${res.status} ${await res.text()}`,
      );
    }
    return res.json();
  }

  /**
   * Subscribes to the entity's rollouts signals over the signals WebSocket, as
   * the frontend's SignalClient does (the token travels as the subprotocol).
   */
  async subscribeRollouts(
    onSignal: (signal: RolloutsSignal) => void,
  ): Promise<() => void> {
    const url = new URL(`${this.baseUrl}/api/signals`);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url.toString(), this.token);
    const channel = rolloutsSignalChannel(this.entityRef);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.close();
        reject(new Error(`${url} did not open within 10 s`));
      }, 10_000);
      ws.onopen = () => {
        clearTimeout(timer);
        resolve();
      };
      ws.onerror = () => {
        clearTimeout(timer);
        reject(new Error(`cannot open ${url}`));
      };
    });
    ws.onmessage = event => {
      let data: { channel?: string; message?: RolloutsSignal };
      try {
        data = JSON.parse(String(event.data));
      } catch {
        return; // not a signal
      }
      if (data.channel === channel && data.message) onSignal(data.message);
    };
    ws.send(JSON.stringify({ action: 'subscribe', channel }));
    return () => ws.close(1000);
  }
}

/** The part of the Kubernetes backend's answer the benchmark reads. */
export interface KubernetesObjectsResponse {
  items: {
    errors: unknown[];
    resources: { type: string; resources: any[] }[];
  }[];
}
