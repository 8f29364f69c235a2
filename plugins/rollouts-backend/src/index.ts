/**
 * Backend of the rollouts plugin.
 *
 * @packageDocumentation
 */
export { rolloutsPlugin as default } from './plugin';
export { rolloutsPolicyDecision } from './permissionPolicy';
export { rolloutsClusterRegistryServiceRef } from './services/clusters/serviceRef';
export { InformerClusterRegistry } from './services/clusters/ClusterRegistry';
export type { ClusterTuning } from './services/clusters/ClusterRegistry';
export type {
  ClusterWriteConfig,
  InformerClusterOptions,
} from './services/clusters/InformerCluster';
export type { ClusterConnectionConfig } from './services/clusters/readClusterConfigs';
export type {
  ClusterChange,
  ClusterHealth,
  ClusterWriter,
  ResourceKind,
  ResourceTypes,
  RolloutsCluster,
  RolloutsClusterRegistry,
} from './services/clusters/types';
export type { CachedObjects } from './services/clusters/cache/ObjectIndex';
