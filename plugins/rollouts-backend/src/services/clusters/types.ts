import {
  ClusterState,
  ClusterWriteAccess,
  JsonPatchOperation,
  KubeDeployment,
  KubeEndpointSlice,
  KubeEvent,
  KubeHorizontalPodAutoscaler,
  KubeKustomization,
  KubeLimitRange,
  KubeObject,
  KubePod,
  KubeReplicaSet,
  KubeResourceQuota,
  KubeService,
  UnavailableKind,
} from '@golden-path/plugin-rollouts-common';
import type { CachedObjects } from './cache/ObjectIndex';

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
  /** Flux's: absent where Flux is not installed. */
  kustomizations: KubeKustomization;
}

/** @public */
export type ResourceKind = keyof ResourceTypes;

/**
 * Kinds without which the plugin cannot show a rollout or guard a switch. If
 * one of them cannot be read the cluster is in `error`.
 *
 * @public
 */
export const REQUIRED_KINDS: ResourceKind[] = [
  'deployments',
  'replicasets',
  'pods',
  'services',
  'endpointslices',
];

/**
 * Kinds the page shows when it can: a cluster whose identity may not read
 * them, or that does not serve them (Flux's Kustomizations without Flux),
 * still works, and the page says which are missing.
 *
 * @public
 */
export const OPTIONAL_KINDS: ResourceKind[] = [
  'resourcequotas',
  'limitranges',
  'horizontalpodautoscalers',
  'events',
  'kustomizations',
];

/** @public */
export const RESOURCE_KINDS: ResourceKind[] = [
  ...REQUIRED_KINDS,
  ...OPTIONAL_KINDS,
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
  /** Why a required kind cannot be read; safe to show to any user. */
  error?: string;
  /**
   * When the cache stopped being current (ms since epoch): the cache still
   * holds what it had before, which is shown marked as stale.
   */
  staleSince?: number;
  /** Optional kinds that cannot be read. */
  unavailable: UnavailableKind[];
}

/**
 * Access to the API server for one write, with one identity (the plugin's or
 * the signed-in user's). Every read here goes to the API server, never to the
 * cache: a write is planned from the object as it is now.
 *
 * @public
 */
export interface ClusterWriter {
  getService(namespace: string, name: string): Promise<KubeService>;
  getDeployment(namespace: string, name: string): Promise<KubeDeployment>;
  listReplicaSets(namespace: string): Promise<KubeReplicaSet[]>;
  patchService(
    namespace: string,
    name: string,
    patch: JsonPatchOperation[],
  ): Promise<KubeService>;
  patchDeployment(
    namespace: string,
    name: string,
    patch: JsonPatchOperation[],
  ): Promise<KubeDeployment>;
  /**
   * A GET to a Service through the API server's service proxy
   * (`services/proxy`, verb `get`), answered with the status and text the
   * application (or the API server, when it cannot reach one) sent.
   */
  getThroughServiceProxy(
    namespace: string,
    name: string,
    port: string,
    path: string,
    timeoutMs: number,
  ): Promise<{ status: number; body: string }>;
}

/**
 * One cluster as the rollouts backend sees it: reads come from a cache kept up
 * to date by list + watch with the plugin's read identity; writes go to the
 * API server with the cluster's write identity.
 *
 * @public
 */
export interface RolloutsCluster {
  readonly name: string;
  health(): ClusterHealth;
  /**
   * Every cached object of a kind, built on each call: for periodic sweeps,
   * not per request (use {@link RolloutsCluster.objects}).
   */
  list<K extends ResourceKind>(kind: K): ReadonlyArray<ResourceTypes[K]>;
  /** The cached objects of a kind, indexed by namespace, label and owner. */
  objects<K extends ResourceKind>(kind: K): CachedObjects<ResourceTypes[K]>;
  /** Calls the listener for every cached change; returns an unsubscribe function. */
  subscribe(listener: (change: ClusterChange) => void): () => void;
  /** How writes authenticate here (or why they are disabled). */
  writeAccess(): ClusterWriteAccess;
  /**
   * The API for one write. `userToken` is the signed-in user's own Kubernetes
   * token, required (and only used) when {@link RolloutsCluster.writeAccess}
   * is `user`.
   */
  writer(userToken?: string): ClusterWriter;
}

/** All clusters the plugin knows, and the configured ones it cannot read. @public */
export interface RolloutsClusterRegistry {
  list(): RolloutsCluster[];
  get(name: string): RolloutsCluster | undefined;
  skipped(): { name: string; reason: string }[];
}
