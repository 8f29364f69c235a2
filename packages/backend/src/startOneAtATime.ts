import { Client, ClientConfig } from 'pg';

/** A lock that every replica of the portal shares (held by one at a time). */
export interface StartLock {
  acquire(): Promise<void>;
  release(): Promise<void>;
}

/**
 * Starts the backend while holding a lock that all replicas share, so that
 * only one replica runs the plugins' database migrations at a time. Knex's
 * own migration lock is not safe when several processes create its lock
 * table at once (knex/knex#3538): on deploy/portal's first start, 3 replicas
 * on an empty PostgreSQL left two rows in a plugin's lock table, and from then
 * on every start of every replica failed with "Migration table is already
 * locked" (scripts/test-portal-on-cluster.sh). The lock is released when the
 * start ends, successful or not; a failed start still fails.
 */
export async function startOneAtATime<T>(
  start: () => Promise<T>,
  lock: StartLock | undefined,
): Promise<T> {
  if (!lock) return start();
  await lock.acquire();
  try {
    return await start();
  } finally {
    await lock.release();
  }
}

/** Any fixed 64-bit key: "gp-start" in ASCII. */
const START_LOCK_KEY = '7453416434455716468';

/** The part of a node-postgres client the lock uses. */
export interface LockClient {
  connect(): Promise<unknown>;
  query(text: string, values?: unknown[]): Promise<unknown>;
  end(): Promise<unknown>;
}

export interface StartLockOptions {
  log?: (message: string) => void;
  /** How long to wait for PostgreSQL to accept connections (it may start after us). */
  connectTimeoutMs?: number;
  retryDelayMs?: number;
  newClient?: (config: ClientConfig) => LockClient;
}

/**
 * Whether a failed connect may succeed later: a network error (no SQLSTATE),
 * or the server still starting (57P03, cannot_connect_now). A server that
 * answers with another error (a wrong password, a missing database) will not
 * change its mind: waiting would only delay the failure.
 */
export function isNotUpYet(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  // SQLSTATEs are 5 characters; no class starts with E, which Node's own
  // error codes (EPIPE, ECONNREFUSED) all do.
  const sqlState =
    typeof code === 'string' && /^[0-9A-DF-Z][0-9A-Z]{4}$/.test(code);
  return !sqlState || code === '57P03';
}

/**
 * A PostgreSQL session advisory lock on its own connection: PostgreSQL frees
 * it if the process dies while holding it. The connection comes from the
 * variables the production config reads (app-config.production.yaml,
 * deploy/portal/configmap.yaml); without POSTGRES_HOST (SQLite, `make start`)
 * there is nothing to share and no lock. PostgreSQL may not be up yet (a first
 * deploy starts it next to the portal): connecting is retried for a while,
 * instead of failing the start and restarting the container (three restarts
 * per replica on the first deploy, which the Rollouts tab rightly showed as
 * "At risk").
 */
export function postgresStartLock(
  env: NodeJS.ProcessEnv = process.env,
  options: StartLockOptions = {},
): StartLock | undefined {
  if (!env.POSTGRES_HOST) return undefined;
  const {
    log = message => console.log(message),
    connectTimeoutMs = 120_000,
    retryDelayMs = 2000,
    newClient = config => new Client(config),
  } = options;
  const config: ClientConfig = {
    host: env.POSTGRES_HOST,
    port: Number(env.POSTGRES_PORT || 5432),
    user: env.POSTGRES_USER,
    password: env.POSTGRES_PASSWORD,
    // The maintenance database, which every server has and which Backstage
    // itself connects to when it creates the plugins' databases
    // (pluginDivisionMode: database). A database named after the user exists
    // only where the server's image made one (backend-postgres's server has
    // none: "database does not exist" failed every start).
    database: 'postgres',
  };
  let client: LockClient | undefined;
  return {
    async acquire() {
      const waitingSince = Date.now();
      for (let attempt = 1; ; attempt++) {
        // A client connects once: a new one for each attempt.
        const candidate = newClient(config);
        try {
          await candidate.connect();
          client = candidate;
          break;
        } catch (error) {
          await candidate.end().catch(() => undefined);
          if (
            !isNotUpYet(error) ||
            Date.now() - waitingSince + retryDelayMs > connectTimeoutMs
          ) {
            throw error;
          }
          if (attempt === 1) {
            log(`waiting for PostgreSQL at ${config.host}: ${error}`);
          }
          await new Promise(resolve => setTimeout(resolve, retryDelayMs));
        }
      }
      await client.query('select pg_advisory_lock($1)', [START_LOCK_KEY]);
      log(
        `start lock acquired after ${
          Date.now() - waitingSince
        } ms (one replica starts at a time)`,
      );
    },
    async release() {
      const held = client;
      client = undefined;
      if (!held) return;
      await held
        .query('select pg_advisory_unlock($1)', [START_LOCK_KEY])
        .finally(() => held.end());
    },
  };
}
