import { LoggerService } from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { KubeConfig } from '@kubernetes/client-node';
import fs from 'node:fs';
import { InformerCluster, InformerClusterOptions } from './InformerCluster';
import {
  ClusterConnectionConfig,
  readClusterConfigs,
} from './readClusterConfigs';
import {
  ClusterHealth,
  ResourceKind,
  ResourceTypes,
  RolloutsCluster,
  RolloutsClusterRegistry,
} from './types';

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * Builds the KubeConfig for one configured cluster. Only identities that do not
 * depend on the signed-in user work for shared informers: a service account
 * token (from config, or the pod's own token when running in the cluster) or
 * a local `kubectl proxy`.
 */
export function kubeConfigFor(cluster: ClusterConnectionConfig): KubeConfig {
  let token: string | undefined;
  if (cluster.authProvider === 'serviceAccount') {
    token = cluster.serviceAccountToken;
    if (!token && fs.existsSync(IN_CLUSTER_TOKEN)) {
      token = fs.readFileSync(IN_CLUSTER_TOKEN, 'utf8').trim();
    }
    if (!token) {
      throw new Error(
        `cluster '${cluster.name}' uses authProvider serviceAccount but has no serviceAccountToken`,
      );
    }
  } else if (cluster.authProvider !== 'localKubectlProxy') {
    throw new Error(
      `cluster '${cluster.name}' uses authProvider '${cluster.authProvider}', which signs in per user; the rollouts plugin keeps one shared cache per cluster and needs authProvider serviceAccount (or localKubectlProxy)`,
    );
  }
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: cluster.name,
        server: cluster.url,
        caData: cluster.caData,
        caFile: cluster.caFile,
        skipTLSVerify: cluster.skipTLSVerify,
      },
    ],
    users: [{ name: 'rollouts', ...(token && { token }) }],
    contexts: [{ name: cluster.name, cluster: cluster.name, user: 'rollouts' }],
    currentContext: cluster.name,
  });
  return kc;
}

/** A configured cluster that cannot be used; reported, never read. */
class BrokenCluster implements RolloutsCluster {
  constructor(readonly name: string, private readonly reason: string) {}
  health(): ClusterHealth {
    return { state: 'error', error: this.reason };
  }
  list<K extends ResourceKind>(_kind: K): ReadonlyArray<ResourceTypes[K]> {
    return [];
  }
  subscribe() {
    return () => {};
  }
  private fail(): never {
    throw new Error(this.reason);
  }
  patchService(): never {
    return this.fail();
  }
  patchDeployment(): never {
    return this.fail();
  }
  getDeployment(): never {
    return this.fail();
  }
  listReplicaSets(): never {
    return this.fail();
  }
}

/** @public */
export type ClusterTuning = Omit<
  InformerClusterOptions,
  'name' | 'kubeConfig' | 'logger'
>;

/**
 * The clusters of the rollouts plugin, each with its own informers.
 *
 * @public
 */
export class InformerClusterRegistry implements RolloutsClusterRegistry {
  private constructor(
    private readonly clusters: Map<string, RolloutsCluster>,
  ) {}

  /** Clusters from `kubernetes.clusterLocatorMethods` (type config). */
  static fromConfig(
    config: Config,
    logger: LoggerService,
    tuning: ClusterTuning = {},
  ): InformerClusterRegistry {
    const clusters = new Map<string, RolloutsCluster>();
    for (const c of readClusterConfigs(config)) {
      try {
        clusters.set(
          c.name,
          new InformerCluster({
            ...tuning,
            name: c.name,
            kubeConfig: kubeConfigFor(c),
            logger: logger.child({ cluster: c.name }),
          }),
        );
      } catch (e) {
        logger.warn(`rollouts: ${(e as Error).message}`);
        clusters.set(c.name, new BrokenCluster(c.name, (e as Error).message));
      }
    }
    return new InformerClusterRegistry(clusters);
  }

  /** Clusters from ready-made KubeConfigs (used by the integration tests). */
  static fromKubeConfigs(
    entries: { name: string; kubeConfig: KubeConfig }[],
    logger: LoggerService,
    tuning: ClusterTuning = {},
  ): InformerClusterRegistry {
    return new InformerClusterRegistry(
      new Map(
        entries.map(e => [
          e.name,
          new InformerCluster({ ...tuning, ...e, logger }),
        ]),
      ),
    );
  }

  list(): RolloutsCluster[] {
    return [...this.clusters.values()];
  }

  get(name: string): RolloutsCluster | undefined {
    return this.clusters.get(name);
  }

  async start(): Promise<void> {
    await Promise.all(
      this.list().map(c =>
        c instanceof InformerCluster ? c.start() : Promise.resolve(),
      ),
    );
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.list().map(c =>
        c instanceof InformerCluster ? c.stop() : Promise.resolve(),
      ),
    );
  }
}
