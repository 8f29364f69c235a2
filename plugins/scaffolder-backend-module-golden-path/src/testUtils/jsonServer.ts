import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a fake API answers to one request. */
export interface JsonAnswer {
  status: number;
  json?: unknown;
  headers?: Record<string, string>;
}

/**
 * A loopback HTTP server for the fake GitHub and Gitea APIs: parses a JSON request body
 * (undefined when there is none or it is not JSON) and sends the handler's answer as
 * JSON. Close it with `close()`, which also ends open keep-alive connections.
 */
export async function startJsonServer(
  handle: (req: http.IncomingMessage, body: any) => JsonAnswer,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', chunk => chunks.push(chunk));
    req.on('end', () => {
      let body: unknown;
      try {
        body = chunks.length
          ? JSON.parse(Buffer.concat(chunks).toString())
          : undefined;
      } catch {
        body = undefined;
      }
      const { status, json, headers } = handle(req, body);
      res.writeHead(status, {
        ...headers,
        ...(json !== undefined && {
          'content-type': 'application/json; charset=utf-8',
        }),
      });
      res.end(json === undefined ? undefined : JSON.stringify(json));
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
