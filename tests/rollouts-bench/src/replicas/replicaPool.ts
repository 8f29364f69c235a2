import { AuditorEvent } from './auditorEvents';

/** One portal backend the test talks to directly, not through a Service. */
export interface Replica {
  /** "a", "b": how the report names it. */
  readonly name: string;
  /** Where its HTTP API answers, e.g. http://198.19.3.4:7007. */
  readonly url: string;
  /** Everything it has logged so far. */
  log(): string;
  /** The auditor records in its log. */
  auditorEvents(): AuditorEvent[];
}

const MiB = 1024 * 1024;
const mib = (bytes: number) => Math.round((bytes / MiB) * 10) / 10;

/**
 * One replica's row of a MemoryTable: who, what its rollouts caches hold
 * (`namespaces`, or the whole cluster), then sizes in MiB.
 */
export function memoryRow(
  who: string,
  namespaces: string[] | undefined,
  bytes: number[],
): (string | number)[] {
  const caches = namespaces
    ? `rollouts.namespaces: [${namespaces.join(', ')}]`
    : 'all namespaces';
  return [who, caches, ...bytes.map(mib)];
}

/** One line per scheduled task in a plugin's database: "<id> next run <time>". */
export const TASKS_QUERY =
  "select id || ' next run ' || next_run_start_at from backstage_backend_tasks__tasks";

/** A table for the report: column titles and rows. */
export interface MemoryTable {
  columns: string[];
  rows: (string | number)[][];
  /** What the numbers are, for the report. */
  note: string;
}

/**
 * Where the two-replica test's replicas come from, so that one set of
 * assertions (twoReplicas.replicas.ts) runs against both: backend processes
 * the test starts on the host (hostReplicas.ts, CI's `replicas` stage) and the
 * pods of deploy/portal on the local cluster's real nodes (portalPods.ts,
 * scripts/test-portal-on-cluster.sh).
 */
export interface ReplicaPool {
  /** For the report, e.g. "backend processes on the host". */
  readonly description: string;
  /** The cluster's name in the replicas' rollouts config. */
  readonly clusterName: string;
  /** The replicas' rollouts identity as the API server's audit log names it. */
  readonly username: string;
  /**
   * True when `replica()` starts the backend, so that the API requests of its
   * start can be counted; false when it was running before the test.
   */
  readonly startsReplicas: boolean;
  /**
   * Replica `name` ("a", then "b"): started now, or one more running one.
   * `namespaces` limits the rollouts caches (rollouts.namespaces); only a
   * pool that starts replicas can honour it.
   */
  replica(name: string, namespaces?: string[]): Promise<Replica>;
  /**
   * Backends that run with the same identity and database but that the test
   * did not take (a Deployment's third pod): a scheduled task may run on them.
   */
  bystanders(): Replica[];
  /**
   * How many backends watch the cluster with the identity now: the budget of
   * the informers' upkeep grows with them.
   */
  watchingReplicas(): Promise<number>;
  /** The rows of the scheduled tasks table of backstage_plugin_rollouts. */
  rolloutsTasks(): string;
  /** The memory of the replicas handed out so far. */
  memory(): Promise<MemoryTable>;
  /**
   * Stops what the pool started; rejects when a replica it started still ran
   * 30 s after SIGTERM.
   */
  stop(): Promise<void>;
}
