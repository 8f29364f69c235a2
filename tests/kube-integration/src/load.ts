/*
 * Steady HTTP load from the host through a Service, the way users reach it: clients that
 * open a new connection per request (each one is routed anew by kube-proxy) and clients
 * that keep one connection alive (kube-proxy routed it once, when it was opened). Every
 * request is recorded with when it was sent and answered, the connection it used and
 * the version that answered, so a test can tell when traffic moved and whether any
 * request was lost.
 */
import * as http from 'node:http';
import type { Socket } from 'node:net';

export type ConnectionMode = 'new connection' | 'keep-alive';

/** One request the load sent. */
export interface Sample {
  mode: ConnectionMode;
  /** Which client sent it (one loop per client, one request at a time). */
  client: number;
  /** The TCP connection it went over (numbered in the order they were opened). */
  connection: number;
  /** Date.now() when it was sent and when it was answered (or failed). */
  sentAt: number;
  answeredAt: number;
  /** HTTP status; 0 for a connection error or a timeout. */
  status: number;
  /** The version the service reported (see `versionOf`), for a 2xx answer. */
  version?: string;
  error?: string;
}

export interface LoadResult {
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  /** Answers per reported version. */
  versions: Map<string, number>;
  /** The first few lost requests, described. */
  failures: string[];
  samples: Sample[];
}

export interface LoadOptions {
  /** Clients that open a new connection for every request. */
  newConnectionClients: number;
  /** Clients that keep one connection open and reuse it (HTTP keep-alive). */
  keepAliveClients?: number;
  /** The version an answer reports; default: the `version` field of its JSON body. */
  versionOf?: (body: string) => string | undefined;
  timeoutMs?: number;
}

const MAX_FAILURES_KEPT = 20;

export interface Answer {
  status: number;
  body: string;
}

/**
 * One GET. `agent: false` opens a new connection (closed after the answer); a keep-alive
 * agent reuses its open one. `onSocket` sees the socket the request went over.
 */
export function get(
  url: string,
  agent: http.Agent | false = false,
  timeoutMs = 5000,
  onSocket?: (socket: Socket) => void,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, timeout: timeoutMs }, res => {
      const chunks: Buffer[] = [];
      res.on('data', d => chunks.push(d));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    if (onSocket) req.on('socket', onSocket);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** One GET with a fresh connection (no keep-alive: every request is routed anew). */
export function getOnce(url: string): Promise<Answer> {
  return get(url);
}

function jsonVersion(body: string): string | undefined {
  const version = JSON.parse(body)?.version;
  return typeof version === 'string' ? version : undefined;
}

/**
 * Starts the clients; they send requests back to back until `stop()`, which waits for
 * the requests in flight and returns everything they saw.
 */
export function steadyLoad(url: string, options: LoadOptions) {
  const versionOf = options.versionOf ?? jsonVersion;
  const timeoutMs = options.timeoutMs ?? 5000;
  const result: LoadResult = {
    requests: 0,
    ok: 0,
    non2xx: 0,
    errors: 0,
    versions: new Map(),
    failures: [],
    samples: [],
  };
  const connectionIds = new WeakMap<Socket, number>();
  let connections = 0;
  const connectionOf = (socket: Socket): number => {
    if (!connectionIds.has(socket)) connectionIds.set(socket, ++connections);
    return connectionIds.get(socket)!;
  };
  let running = true;

  const record = (sample: Sample) => {
    result.requests++;
    result.samples.push(sample);
    if (sample.status >= 200 && sample.status < 300) {
      result.ok++;
      if (sample.version !== undefined) {
        result.versions.set(
          sample.version,
          (result.versions.get(sample.version) ?? 0) + 1,
        );
      }
      return;
    }
    if (sample.status === 0) result.errors++;
    else result.non2xx++;
    if (result.failures.length < MAX_FAILURES_KEPT) {
      result.failures.push(
        `${sample.mode} (client ${sample.client}, connection ${
          sample.connection
        }): ${sample.error ?? `HTTP ${sample.status}`}`,
      );
    }
  };

  const client = async (mode: ConnectionMode, index: number) => {
    // One socket per keep-alive client: its requests all go over one connection until
    // the server closes it.
    const agent =
      mode === 'keep-alive'
        ? new http.Agent({ keepAlive: true, maxSockets: 1 })
        : false;
    while (running) {
      let connection = 0;
      const onSocket = (socket: Socket) => {
        connection = connectionOf(socket);
      };
      const sentAt = Date.now();
      const base = { mode, client: index, sentAt };
      try {
        const res = await get(url, agent, timeoutMs, onSocket);
        const ok = res.status >= 200 && res.status < 300;
        record({
          ...base,
          connection,
          answeredAt: Date.now(),
          status: res.status,
          version: ok ? versionOf(res.body) : undefined,
        });
      } catch (e) {
        record({
          ...base,
          connection,
          answeredAt: Date.now(),
          status: 0,
          error: String((e as Error).message ?? e),
        });
      }
    }
    if (agent) agent.destroy();
  };

  const keepAlive = options.keepAliveClients ?? 0;
  const loops = [
    ...Array.from({ length: options.newConnectionClients }, (_, i) =>
      client('new connection', i),
    ),
    ...Array.from({ length: keepAlive }, (_, i) =>
      client('keep-alive', options.newConnectionClients + i),
    ),
  ];
  return {
    result,
    async stop(): Promise<LoadResult> {
      running = false;
      await Promise.all(loops);
      return result;
    },
  };
}
