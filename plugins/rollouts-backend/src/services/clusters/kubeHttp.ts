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

/** The status and text of one answer, whatever its status. */
export interface KubeRawResponse {
  status: number;
  body: string;
}

/**
 * One request to the API server with the authentication and TLS settings of a
 * KubeConfig, answered as status and text, also for non-2xx answers (the
 * service proxy relays the application's own status).
 */
export async function kubeRawRequest(
  kc: KubeConfig,
  path: string,
  options: KubeRequestOptions = {},
): Promise<KubeRawResponse> {
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
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise<KubeRawResponse>((resolve, reject) => {
    const req = transport.request(url, requestOptions, res => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.setTimeout(timeoutMs, () => {
      req.destroy(
        new Error(
          `Timed out after ${timeoutMs} ms: ${requestOptions.method} ${url.pathname}`,
        ),
      );
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/**
 * One request to the API server with the authentication and TLS settings
 * of a KubeConfig. Returns the parsed JSON body, untouched, so cached objects,
 * watch events and reads all have the same (API) shape.
 */
export async function kubeRequest<T>(
  kc: KubeConfig,
  path: string,
  options: KubeRequestOptions = {},
): Promise<T> {
  const { status, body: text } = await kubeRawRequest(kc, path, options);
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // keep the text
  }
  if (status >= 200 && status < 300) {
    return body as T;
  }
  const message =
    (body as { message?: string })?.message ??
    `HTTP ${status} from ${options.method ?? 'GET'} ${path.split('?')[0]}`;
  throw new KubeApiError(status, body, message);
}
