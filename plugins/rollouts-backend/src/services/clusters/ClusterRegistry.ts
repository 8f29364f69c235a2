import { LoggerService } from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { NotAllowedError } from '@backstage/errors';
import { ClusterWriteAccess } from '@golden-path/plugin-rollouts-common';
import { KubeConfig } from '@kubernetes/client-node';
import {
  IN_CLUSTER_TOKEN_FILE,
  kubeConfigFor,
  resolveClusterIdentities,
} from './clusterIdentity';
import {
  ClusterWriteConfig,
  InformerCluster,
  InformerClusterOptions,
} from './InformerCluster';
import { CACHE_INDEXES, CachedObjects, ObjectIndex } from './cache/ObjectIndex';
import { readClusterSources } from './readClusterConfigs';
import {
  ClusterHealth,
  ClusterWriter,
  ResourceKind,
  ResourceTypes,
  RolloutsCluster,
  RolloutsClusterRegistry,
} from './types';

/** A configured cluster that cannot be read; reported, never touched. */
class BrokenCluster implements RolloutsCluster {
  constructor(readonly name: string, private readonly reason: string) {}
  health(): ClusterHealth {
    return { state: 'error', error: this.reason, unavailable: [] };
  }
  list<K extends ResourceKind>(_kind: K): ReadonlyArray<ResourceTypes[K]> {
    return [];
  }
  objects<K extends ResourceKind>(kind: K): CachedObjects<ResourceTypes[K]> {
    return new ObjectIndex<ResourceTypes[K]>(kind, CACHE_INDEXES[kind]);
  }
  subscribe() {
    return () => {};
  }
  writeAccess(): ClusterWriteAccess {
    return { mode: 'disabled', reason: this.reason };
  }
  writer(): ClusterWriter {
    throw new NotAllowedError(this.reason);
  }
}

/** @public */
export type ClusterTuning = Omit<
  InformerClusterOptions,
  'name' | 'kubeConfig' | 'write' | 'logger'
>;

/**
 * The clusters of the rollouts plugin, each with its own informers.
 *
 * @public
 */
export class InformerClusterRegistry implements RolloutsClusterRegistry {
  private constructor(
    private readonly clusters: Map<string, RolloutsCluster>,
    private readonly skippedClusters: { name: string; reason: string }[] = [],
  ) {}

  /**
   * Clusters from `kubernetes.clusterLocatorMethods`, with the rollouts
   * plugin's identities from `rollouts.clusters`.
   */
  static fromConfig(
    config: Config,
    logger: LoggerService,
    tuning: ClusterTuning = {},
    inClusterTokenFile: string = IN_CLUSTER_TOKEN_FILE,
  ): InformerClusterRegistry {
    const sources = readClusterSources(config);
    sources.warnings.forEach(w => logger.warn(w));
    const clusters = new Map<string, RolloutsCluster>();
    for (const c of sources.clusters) {
      const identities = resolveClusterIdentities(
        c,
        sources.identities.get(c.name),
        inClusterTokenFile,
      );
      if (identities.warning) {
        logger.warn(identities.warning, { cluster: c.name });
      }
      if ('error' in identities.read) {
        logger.warn('cluster skipped', {
          cluster: c.name,
          reason: identities.read.error,
        });
        clusters.set(c.name, new BrokenCluster(c.name, identities.read.error));
        continue;
      }
      const w = identities.write;
      let write: ClusterWriteConfig;
      if (w.mode === 'plugin') {
        write = { mode: 'plugin', kubeConfig: kubeConfigFor(c, w.source) };
      } else if (w.mode === 'user') {
        write = { ...w, connection: c };
      } else {
        write = w;
      }
      clusters.set(
        c.name,
        new InformerCluster({
          ...tuning,
          name: c.name,
          kubeConfig: kubeConfigFor(c, identities.read.source),
          write,
          logger: logger.child({ cluster: c.name }),
        }),
      );
    }
    return new InformerClusterRegistry(clusters, sources.skipped);
  }

  /**
   * Clusters from ready-made KubeConfigs (used by the integration tests). The
   * cache reads with `kubeConfig`; writes use `write` (default: disabled).
   */
  static fromKubeConfigs(
    entries: {
      name: string;
      kubeConfig: KubeConfig;
      write?: ClusterWriteConfig;
    }[],
    logger: LoggerService,
    tuning: ClusterTuning = {},
  ): InformerClusterRegistry {
    return new InformerClusterRegistry(
      new Map(
        entries.map(e => [
          e.name,
          new InformerCluster({
            ...tuning,
            write: { mode: 'disabled', reason: 'no write identity' },
            ...e,
            logger,
          }),
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

  skipped(): { name: string; reason: string }[] {
    return this.skippedClusters;
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
