import { execFileSync } from 'node:child_process';
import { AuditorEvent, parseAuditorEvents } from './auditorEvents';
import {
  CGROUP_MEMORY_COMMAND,
  parseCgroupMemory,
  PodJson,
  servingPods,
} from './podFacts';
import type { MemoryTable, Replica, ReplicaPool } from './replicaPool';
import { memoryRow, TASKS_QUERY } from './replicaPool';
import { ReplicasCluster } from './replicasCluster';

/** deploy/portal's rollouts identity and the ClusterRole a namespace binds it to. */
const ROLLOUTS_SERVICE_ACCOUNT = 'portal-rollouts';
const ROLLOUTS_WRITE_ROLE = 'golden-path-portal-rollouts-write';
const PORTAL_PODS = 'app.kubernetes.io/name=portal';
const BACKEND_PORT = 7007;

/** One pod of the portal's Deployment, reached by its IP. */
class PortalPod implements Replica {
  readonly url: string;

  constructor(
    readonly name: string,
    readonly pod: string,
    ip: string,
    private readonly kubectl: (...args: string[]) => string,
  ) {
    this.url = `http://${ip}:${BACKEND_PORT}`;
  }

  log(): string {
    return this.kubectl('logs', this.pod, '-c', 'backend');
  }

  auditorEvents(): AuditorEvent[] {
    return parseAuditorEvents(this.log());
  }
}

/**
 * Replicas as the pods of deploy/portal, deployed by
 * scripts/test-portal-on-cluster.sh: the test takes two of the running pods
 * and talks to each by its pod IP (the overlay's NetworkPolicy
 * portal-from-test-host admits the host, whose route to the pod network goes
 * through the nodes). The pods' rollouts config comes from the overlay
 * (portal-local-overlay.sh), the pair's entity from its catalog file.
 */
export class PortalPodPool implements ReplicaPool {
  readonly description = 'pods of deploy/portal on the real nodes';
  readonly clusterName = 'in-cluster';
  readonly startsReplicas = false;
  private readonly handedOut: PortalPod[] = [];

  private constructor(
    private readonly portalNamespace: string,
    readonly username: string,
  ) {}

  /** Creates the pair's namespace and lets the deployed portal write there. */
  static async create(
    cluster: ReplicasCluster,
    portalNamespace: string,
  ): Promise<PortalPodPool> {
    const username = await cluster.createForDeployedPortal({
      serviceAccount: ROLLOUTS_SERVICE_ACCOUNT,
      namespace: portalNamespace,
      writeRole: ROLLOUTS_WRITE_ROLE,
    });
    return new PortalPodPool(portalNamespace, username);
  }

  private readonly kubectl = (...args: string[]) =>
    execFileSync('kubectl', ['-n', this.portalNamespace, ...args], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });

  private pods(): PodJson[] {
    return JSON.parse(
      this.kubectl('get', 'pods', '-l', PORTAL_PODS, '-o', 'json'),
    ).items;
  }

  async replica(name: string, namespaces?: string[]): Promise<Replica> {
    if (namespaces) {
      throw new Error(
        'the pods of deploy/portal share one config: rollouts.namespaces cannot differ per replica',
      );
    }
    const taken = new Set(this.handedOut.map(p => p.pod));
    const next = servingPods(this.pods()).find(p => !taken.has(p.name));
    if (!next) {
      throw new Error(
        `no serving portal pod in ${this.portalNamespace} besides ${[
          ...taken,
        ].join(', ')}`,
      );
    }
    const pod = new PortalPod(name, next.name, next.ip, this.kubectl);
    this.handedOut.push(pod);
    return pod;
  }

  bystanders(): Replica[] {
    const taken = new Set(this.handedOut.map(p => p.pod));
    return servingPods(this.pods())
      .filter(p => !taken.has(p.name))
      .map(p => new PortalPod(p.name, p.name, p.ip, this.kubectl));
  }

  /** Every portal pod that runs watches, Ready or not, until it is deleted. */
  async watchingReplicas() {
    return this.pods().filter(
      p => !p.metadata.deletionTimestamp && p.status?.phase === 'Running',
    ).length;
  }

  rolloutsTasks(): string {
    // Inside the database's pod: the password is in its environment.
    return this.kubectl(
      'exec',
      'portal-postgres-0',
      '-c',
      'postgres',
      '--',
      'sh',
      '-c',
      'PGPASSWORD="$POSTGRES_PASSWORD" psql -h 127.0.0.1 -U "$POSTGRES_USER" -d backstage_plugin_rollouts -Atc "$0"',
      TASKS_QUERY,
    ).trim();
  }

  /** Every serving pod's cgroup memory; the test's replicas are named. */
  async memory(): Promise<MemoryTable> {
    const names = new Map(this.handedOut.map(p => [p.pod, p.name]));
    const rows = servingPods(this.pods()).map(({ name: pod }) => {
      const m = parseCgroupMemory(
        this.kubectl(
          'exec',
          pod,
          '-c',
          'backend',
          '--',
          ...CGROUP_MEMORY_COMMAND,
        ),
      );
      const replica = names.get(pod);
      return memoryRow(
        replica ? `${pod} (replica ${replica.toUpperCase()})` : pod,
        undefined,
        [m.currentBytes, m.anonBytes],
      );
    });
    return {
      columns: ['pod', 'caches', 'cgroup total MiB', 'anonymous MiB'],
      rows,
      note: "Memory per pod (the container's cgroup: the total includes page cache; anonymous is the process's own: heap, stacks)",
    };
  }

  /** The pods belong to the deployment: nothing to stop. */
  async stop() {}
}
