import { Client } from 'pg';

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

/**
 * A PostgreSQL session advisory lock on its own connection: PostgreSQL frees
 * it if the process dies while holding it. The connection comes from the
 * variables the production config reads (app-config.production.yaml,
 * deploy/portal/configmap.yaml); without POSTGRES_HOST (SQLite, `make start`)
 * there is nothing to share and no lock.
 */
export function postgresStartLock(
  env: NodeJS.ProcessEnv = process.env,
  log: (message: string) => void = message => console.log(message),
): StartLock | undefined {
  if (!env.POSTGRES_HOST) return undefined;
  const client = new Client({
    host: env.POSTGRES_HOST,
    port: Number(env.POSTGRES_PORT || 5432),
    user: env.POSTGRES_USER,
    password: env.POSTGRES_PASSWORD,
    // The database named after the user, which the PostgreSQL image creates.
    database: env.POSTGRES_USER,
  });
  return {
    async acquire() {
      const waitingSince = Date.now();
      await client.connect();
      await client.query('select pg_advisory_lock($1)', [START_LOCK_KEY]);
      log(
        `start lock acquired after ${Date.now() - waitingSince} ms (one replica starts at a time)`,
      );
    },
    async release() {
      await client
        .query('select pg_advisory_unlock($1)', [START_LOCK_KEY])
        .finally(() => client.end());
    },
  };
}
