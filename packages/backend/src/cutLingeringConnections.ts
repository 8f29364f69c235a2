import type { LoggerService } from '@backstage/backend-plugin-api';
import type { Server } from 'node:http';

/**
 * How long a request may still run once the plugins have stopped. A request
 * whose plugin has stopped ends in milliseconds; one that is still open after
 * this waits by design (a long poll, a stream).
 */
export const LINGERING_REQUEST_GRACE_MS = 5_000;

export interface CutLingeringConnectionsOptions {
  logger: LoggerService;
  /** Default {@link LINGERING_REQUEST_GRACE_MS}. */
  graceMs?: number;
  /** Default `setTimeout`; tests pass their own clock. */
  schedule?: (cut: () => void, ms: number) => { unref?: () => unknown };
}

/**
 * The root lifecycle's shutdown hook that ends the connections still open a
 * short while after the plugins have stopped.
 *
 * Outside development, Backstage's HTTP server stops by closing its idle
 * connections and waiting for the others to end. The events bus holds a
 * subscriber's request open for up to 55 s (a long poll, also from the
 * backend to itself), so the production backend took 51 s to exit after
 * SIGTERM: past Kubernetes' grace period (30 s in deploy/portal), which ends
 * every replica with SIGKILL. Cutting such requests is safe: their clients
 * (another replica's events client, a browser's signals) reconnect to a
 * replica that is up, as they do when a replica dies.
 */
export function cutLingeringConnections(
  server: Pick<Server, 'closeAllConnections' | 'getConnections'>,
  options: CutLingeringConnectionsOptions,
): () => void {
  const graceMs = options.graceMs ?? LINGERING_REQUEST_GRACE_MS;
  const schedule = options.schedule ?? setTimeout;
  return () => {
    const timer = schedule(() => {
      server.getConnections((_error, count) => {
        if (count > 0) {
          options.logger.info(
            `Closing ${count} connection(s) still open ${graceMs} ms after the plugins stopped (long polls and streams; their clients reconnect to another replica)`,
          );
        }
        server.closeAllConnections();
      });
    }, graceMs);
    // The process exits as soon as the server has closed; the timer must not
    // hold it.
    timer.unref?.();
  };
}
