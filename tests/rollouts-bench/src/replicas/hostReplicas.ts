import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BackendReplica } from './backendReplica';
import type { MemoryTable, Replica, ReplicaPool } from './replicaPool';
import { memoryRow, TASKS_QUERY } from './replicaPool';
import { ClusterConnection, ReplicasCluster } from './replicasCluster';

/** The test's rollouts settings: short periods, so that a run takes minutes. */
export interface RolloutsTestSettings {
  switchTimeoutSeconds: number;
  scaleDownCheckSeconds: number;
  keepaliveSeconds: number;
}

/**
 * Replicas as portal backend processes on the host (packages/backend with
 * app-config.production.yaml), on the PostgreSQL scripts/test-replicas.sh
 * started, with an identity of the test's own in the pair's namespace.
 */
export class HostReplicaPool implements ReplicaPool {
  readonly description = 'backend processes on the host, one PostgreSQL';
  readonly clusterName = 'local';
  readonly startsReplicas = true;
  private readonly started: {
    replica: BackendReplica;
    namespaces?: string[];
  }[] = [];

  private constructor(
    private readonly repoRoot: string,
    private readonly workDir: string,
    private readonly connection: ClusterConnection,
    private readonly configFiles: string[],
  ) {}

  get username() {
    return this.connection.username;
  }

  /** Creates the pair's namespace with the identity, and the replicas' config. */
  static async create(
    cluster: ReplicasCluster,
    options: {
      repoRoot: string;
      workDir: string;
      rollouts: RolloutsTestSettings;
    },
  ): Promise<HostReplicaPool> {
    const { repoRoot, workDir } = options;
    const connection = await cluster.create();
    fs.writeFileSync(
      path.join(workDir, 'catalog.yaml'),
      JSON.stringify(cluster.catalogEntity()),
    );
    const testConfig = path.join(workDir, 'app-config.replicas.yaml');
    fs.writeFileSync(
      testConfig,
      JSON.stringify({
        // Pages sign in as guest: the production config allows only GitHub.
        auth: {
          providers: {
            guest: {
              userEntityRef: 'user:default/guest',
              dangerouslyAllowOutsideDevelopment: true,
            },
          },
        },
        rollouts: options.rollouts,
      }),
    );
    return new HostReplicaPool(repoRoot, workDir, connection, [
      path.join(repoRoot, 'app-config.yaml'),
      path.join(repoRoot, 'app-config.production.yaml'),
      path.join(repoRoot, 'app-config.cluster.yaml'),
      testConfig,
    ]);
  }

  async replica(name: string, namespaces?: string[]): Promise<Replica> {
    const files = [...this.configFiles];
    if (namespaces) {
      const file = path.join(this.workDir, `extra-${name}.yaml`);
      fs.writeFileSync(file, JSON.stringify({ rollouts: { namespaces } }));
      files.push(file);
    }
    const { connection } = this;
    const replica = await BackendReplica.start({
      name,
      repoRoot: this.repoRoot,
      workDir: this.workDir,
      configFiles: files,
      env: {
        NODE_ENV: 'production',
        K8S_CLUSTER_NAME: this.clusterName,
        K8S_CLUSTER_URL: connection.url,
        K8S_CLUSTER_CA_DATA: connection.caData,
        K8S_CLUSTER_TOKEN: connection.token,
        ROLLOUTS_CLUSTER_TOKEN: connection.token,
        PORTAL_CATALOG_FILE: path.join(this.workDir, 'catalog.yaml'),
      },
    });
    this.started.push({ replica, namespaces });
    return replica;
  }

  /** Only the replicas the test started run. */
  bystanders(): Replica[] {
    return [];
  }

  async watchingReplicas() {
    return this.started.length;
  }

  rolloutsTasks(): string {
    // scripts/lib/postgres.sh exports the PG* variables of the test database.
    return execFileSync(
      'psql',
      ['-d', 'backstage_plugin_rollouts', '-Atc', TASKS_QUERY],
      { encoding: 'utf8' },
    ).trim();
  }

  async memory(): Promise<MemoryTable> {
    const rows: (string | number)[][] = [];
    for (const { replica, namespaces } of this.started) {
      const m = await replica.memory();
      rows.push(
        memoryRow(`replica ${replica.name.toUpperCase()}`, namespaces, [
          m.rssBytes,
          m.heapUsedBytes,
        ]),
      );
    }
    return {
      columns: ['replica', 'caches', 'RSS MiB', 'heap used MiB'],
      rows,
      note: 'Memory per replica (after a full garbage collection)',
    };
  }

  /** Fails when a replica still ran 30 s after SIGTERM (Kubernetes would kill it). */
  async stop() {
    const killed: string[] = [];
    for (const { replica } of this.started) {
      if ((await replica.stop()).killed) killed.push(replica.name);
    }
    if (killed.length > 0) {
      throw new Error(
        `replica(s) ${killed.join(
          ', ',
        )} still ran 30 s after SIGTERM and were killed (packages/backend/src/cutLingeringConnections.ts; logs in artifacts/replicas/)`,
      );
    }
  }
}
