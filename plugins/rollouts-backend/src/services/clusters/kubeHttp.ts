import type { KubeConfig } from '@kubernetes/client-node';
import http from 'node:http';
import https from 'node:https';

/** Error for a non-2xx answer of the API server, shaped like client-node's ApiException. */
export class KubeApiError extends Error {
  constructor(readonly code: number, readonly body: unknown, message: string) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export interface KubeRequestOptions {
  method?: 'GET' | 'PATCH';
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
  timeoutMs?: number;
}

/**
 * One raw request to the API server with the authentication and TLS settings
 * of a KubeConfig. Returns the parsed JSON body, untouched, so cached objects,
 * watch events and reads all have the same (API) shape.
 */
export async function kubeRequest<T>(
  kc: KubeConfig,
  path: string,
  options: KubeRequestOptions = {},
): Promise<T> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new Error('No current cluster in the KubeConfig');
  }
  const url = new URL(cluster.server.replace(/\/+$/, '') + path);
  for (const [k, v] of Object.entries(options.query ?? {})) {
    if (v !== undefined) url.searchParams.set(k, v);
  }
  const payload =
    options.body === undefined ? undefined : JSON.stringify(options.body);
  const requestOptions: https.RequestOptions = {
    method: options.method ?? 'GET',
    headers: {
      Accept: 'application/json',
      ...(payload !== undefined && {
        'Content-Type': options.contentType ?? 'application/json',
        'Content-Length': Buffer.byteLength(payload),
      }),
    },
  };
  await kc.applyToHTTPSOptions(requestOptions);
  const transport = url.protocol === 'http:' ? http : https;
  return new Promise<T>((resolve, reject) => {
    const req = transport.request(url, requestOptions, res => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // keep the text
        }
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          resolve(body as T);
        } else {
          const message =
            (body as { message?: string })?.message ??
            `HTTP ${status} from ${requestOptions.method} ${url.pathname}`;
          reject(new KubeApiError(status, body, message));
        }
      });
    });
    req.setTimeout(options.timeoutMs ?? 30_000, () => {
      req.destroy(
        new Error(
          `Timed out after ${options.timeoutMs ?? 30_000} ms: ${
            requestOptions.method
          } ${url.pathname}`,
        ),
      );
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}
