import {
  ClusterState,
  JsonPatchOperation,
  KubeDeployment,
  KubeEndpointSlice,
  KubeEvent,
  KubeHorizontalPodAutoscaler,
  KubeLimitRange,
  KubeObject,
  KubePod,
  KubeReplicaSet,
  KubeResourceQuota,
  KubeService,
} from '@internal/plugin-rollouts-common';

/** The kinds each cluster cache keeps. @public */
export interface ResourceTypes {
  deployments: KubeDeployment;
  replicasets: KubeReplicaSet;
  pods: KubePod;
  services: KubeService;
  endpointslices: KubeEndpointSlice;
  resourcequotas: KubeResourceQuota;
  limitranges: KubeLimitRange;
  horizontalpodautoscalers: KubeHorizontalPodAutoscaler;
  events: KubeEvent;
}

/** @public */
export type ResourceKind = keyof ResourceTypes;

/** @public */
export const RESOURCE_KINDS: ResourceKind[] = [
  'deployments',
  'replicasets',
  'pods',
  'services',
  'endpointslices',
  'resourcequotas',
  'limitranges',
  'horizontalpodautoscalers',
  'events',
];

/** One change seen by a cluster cache. @public */
export interface ClusterChange {
  cluster: string;
  kind: ResourceKind;
  verb: 'add' | 'update' | 'delete';
  object: KubeObject;
}

/** Health of one cluster cache. @public */
export interface ClusterHealth {
  state: ClusterState;
  error?: string;
}

/** @public */
export type PatchType = 'json' | 'merge';

/**
 * One cluster as the rollouts backend sees it: reads come from a cache kept up
 * to date by list + watch; writes go to the API server.
 *
 * @public
 */
export interface RolloutsCluster {
  readonly name: string;
  health(): ClusterHealth;
  list<K extends ResourceKind>(kind: K): ReadonlyArray<ResourceTypes[K]>;
  /** Calls the listener for every cached change; returns an unsubscribe function. */
  subscribe(listener: (change: ClusterChange) => void): () => void;
  patchService(
    namespace: string,
    name: string,
    patch: JsonPatchOperation[],
  ): Promise<KubeService>;
  patchDeployment(
    namespace: string,
    name: string,
    patch: JsonPatchOperation[] | object,
    type: PatchType,
  ): Promise<KubeDeployment>;
  /** Reads a Deployment from the API server (not the cache). */
  getDeployment(namespace: string, name: string): Promise<KubeDeployment>;
  /** Lists ReplicaSets from the API server (not the cache). */
  listReplicaSets(namespace: string): Promise<KubeReplicaSet[]>;
}

/** All clusters the plugin knows. @public */
export interface RolloutsClusterRegistry {
  list(): RolloutsCluster[];
  get(name: string): RolloutsCluster | undefined;
}
