import { mockServices } from '@backstage/backend-test-utils';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import {
  cutLingeringConnections,
  LINGERING_REQUEST_GRACE_MS,
} from './cutLingeringConnections';

/**
 * A server with a long poll open on it, stopped the way Backstage stops its
 * HTTP server outside development: idle connections closed, then `close`,
 * which waits for the rest.
 */
async function serverWithLongPoll() {
  const server = http.createServer((req, res) => {
    if (req.url === '/quick') res.end('ok');
    // Anything else is a long poll: no answer until the client gives up.
  });
  await new Promise<void>(resolve =>
    server.listen(0, '127.0.0.1', () => resolve()),
  );
  const { port } = server.address() as AddressInfo;
  const agent = new http.Agent({ keepAlive: true });
  const get = (path: string) =>
    new Promise<string>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path, agent }, res => {
          let body = '';
          res.on('data', chunk => (body += chunk));
          res.on('end', () => resolve(body));
        })
        .on('error', reject);
    });
  // An idle kept-alive connection, and a request that stays open.
  expect(await get('/quick')).toBe('ok');
  const received = new Promise(resolve => server.once('request', resolve));
  const longPoll = get('/events').then(
    () => 'answered',
    (error: NodeJS.ErrnoException) => error.code ?? error.message,
  );
  await received;

  let closed = false;
  const stop = () => {
    server.closeIdleConnections();
    return new Promise<void>(resolve =>
      server.close(() => {
        closed = true;
        resolve();
      }),
    );
  };
  const cleanUp = () => {
    server.closeAllConnections();
    agent.destroy();
  };
  return { server, longPoll, stop, isClosed: () => closed, cleanUp };
}

/** Lets pending I/O callbacks run. */
const settle = () => new Promise(resolve => setTimeout(resolve, 50));

describe('cutLingeringConnections', () => {
  it('is needed: without it the server waits for an open long poll', async () => {
    const s = await serverWithLongPoll();
    try {
      s.stop();
      await settle();
      expect(s.isClosed()).toBe(false);
    } finally {
      s.cleanUp();
    }
  });

  it('ends the connections still open once the grace period is over', async () => {
    const s = await serverWithLongPoll();
    const logger = mockServices.logger.mock();
    let cut: (() => void) | undefined;
    const schedule = jest.fn((fn: () => void) => {
      cut = fn;
      return { unref: jest.fn() };
    });
    try {
      const stopped = s.stop();
      cutLingeringConnections(s.server, { logger, graceMs: 1234, schedule })();
      expect(schedule).toHaveBeenCalledWith(expect.any(Function), 1234);

      // Within the grace period the long poll is left alone.
      await settle();
      expect(s.isClosed()).toBe(false);

      cut!();
      await stopped;
      expect(s.isClosed()).toBe(true);
      // The client sees its connection end and would reconnect elsewhere.
      expect(await s.longPoll).toBe('ECONNRESET');
      expect(logger.info).toHaveBeenCalledWith(
        expect.stringMatching(/^Closing 1 connection\(s\) still open 1234 ms/),
      );
    } finally {
      s.cleanUp();
    }
  });

  it('waits the default grace period and never holds the process', () => {
    const unref = jest.fn();
    const schedule = jest.fn(() => ({ unref }));
    cutLingeringConnections(
      { closeAllConnections: jest.fn(), getConnections: jest.fn() },
      { logger: mockServices.logger.mock(), schedule },
    )();
    expect(schedule).toHaveBeenCalledWith(
      expect.any(Function),
      LINGERING_REQUEST_GRACE_MS,
    );
    expect(unref).toHaveBeenCalled();
  });
});
