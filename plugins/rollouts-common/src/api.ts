import { BlueGreenService } from './blueGreen';
import { ClusterEnvironments } from './environments';
import { ContainerProbeAnalysis, Finding, PodHealth } from './probes';
import {
  ContainerResources,
  HpaSummary,
  LimitRangeSummary,
  QuotaSummary,
} from './resources';
import { RolloutStatus } from './rolloutStatus';
import { SwitchCheck } from './switchChecks';

/** Entity annotation naming the objects' `backstage.io/kubernetes-id` label. @public */
export const KUBERNETES_ID_ANNOTATION = 'backstage.io/kubernetes-id';
/** Entity annotation with a full label selector. @public */
export const KUBERNETES_LABEL_SELECTOR_ANNOTATION =
  'backstage.io/kubernetes-label-selector';
/** Entity annotation restricting the namespace. @public */
export const KUBERNETES_NAMESPACE_ANNOTATION =
  'backstage.io/kubernetes-namespace';
/** Entity annotation restricting the cluster (by name). @public */
export const KUBERNETES_CLUSTER_ANNOTATION = 'backstage.io/kubernetes-cluster';

/** Signal channel on which the backend announces changes for one entity. @public */
export function rolloutsSignalChannel(entityRef: string): string {
  return `rollouts:${entityRef}`;
}

/**
 * Message sent on {@link rolloutsSignalChannel}: `changed` when one of the
 * entity's objects changed (the page reloads), `keepalive` at a fixed interval
 * while the page is open, so the page can tell a live connection from a
 * dropped one.
 *
 * A `changed` signal names the newest change it covers by the changed
 * object's `resourceVersion` (for logs and tests). With several portal
 * replicas each one watching the entity sends the change once its own cache
 * has it, so the page reloads for every copy: a later copy can come from the
 * replica whose cache got the change after the page's last read.
 *
 * @public
 */
export type RolloutsSignal =
  | { type: 'changed'; cluster: string; resourceVersion?: string }
  | { type: 'keepalive' };

/** One Deployment of an entity as the page shows it. @public */
export interface DeploymentView {
  cluster: string;
  namespace: string;
  name: string;
  status: RolloutStatus;
  probes: ContainerProbeAnalysis[];
  resources: ContainerResources[];
  pods: PodHealth[];
  /** HPA scaling this Deployment, by name. */
  hpa?: string;
  /** Revisions kept in ReplicaSets (newest first), for undo. */
  history: { revision: string; replicaSet: string; images: string[] }[];
  findings: Finding[];
}

/** A Warning event about one of the entity's objects. @public */
export interface WarningEvent {
  namespace: string;
  object: string;
  reason?: string;
  message?: string;
  count: number;
  lastSeen?: string;
}

/** State of the cache of one cluster. @public */
export type ClusterState = 'ok' | 'syncing' | 'error';

/**
 * How writes (switch, rollback, restart, undo) authenticate to one cluster.
 *
 * - `plugin`: the rollouts plugin's own identity (`rollouts.clusters[]`), never
 *   the Kubernetes plugin's, which stays read-only.
 * - `user`: the signed-in user's own Kubernetes credentials, sent by the page
 *   as the Kubernetes plugin does (`Backstage-Kubernetes-Authorization-<provider>`
 *   headers), so the API server records and authorizes the real user.
 * - `disabled`: no write identity is configured; `reason` says what to set.
 *
 * @public
 */
export type ClusterWriteAccess =
  | { mode: 'plugin' }
  | { mode: 'user'; authProvider: string; oidcTokenProvider?: string }
  | { mode: 'disabled'; reason: string };

/**
 * The header in which a page sends the user's own Kubernetes token for a
 * cluster that signs users in, named as the Kubernetes plugin names it
 * (`Backstage-Kubernetes-Authorization-<provider>[-<oidc provider>]`).
 *
 * @public
 */
export function kubernetesAuthHeader(access: {
  authProvider: string;
  oidcTokenProvider?: string;
}): string {
  return [
    'Backstage-Kubernetes-Authorization',
    access.authProvider,
    ...(access.oidcTokenProvider ? [access.oidcTokenProvider] : []),
  ].join('-');
}

/** A kind the plugin could not read in a cluster; the rest is still shown. @public */
export interface UnavailableKind {
  /** Plural resource name, e.g. `events`. */
  kind: string;
  /**
   * `forbidden`: the plugin's identity may not list/watch it (RBAC);
   * `not-installed`: the API server does not serve it (a CRD, e.g. Flux's).
   */
  state: 'forbidden' | 'not-installed' | 'unavailable';
}

/** A configured cluster the plugin does not read, and why. @public */
export interface SkippedCluster {
  name: string;
  reason: string;
}

/** @public */
export interface ClusterRollouts {
  cluster: string;
  state: ClusterState;
  /** Why the cluster cannot be read (when state is `error`), without internals. */
  error?: string;
  /**
   * Set when the data is the last known state, kept from before the cluster
   * became unreachable.
   */
  stale?: { since: string };
  /** Optional kinds (events, quotas, LimitRanges, HPAs) that cannot be read. */
  unavailable?: UnavailableKind[];
  /** How writes to this cluster authenticate, or why they are disabled. */
  writes: ClusterWriteAccess;
  deployments: DeploymentView[];
  blueGreen: BlueGreenService[];
  quotas: QuotaSummary[];
  limitRanges: LimitRangeSummary[];
  hpas: HpaSummary[];
  warningEvents: WarningEvent[];
  /**
   * The entity's GitOps environments (Flux Kustomizations) in this cluster.
   * Absent from backends that predate them.
   */
  gitops?: ClusterEnvironments;
}

/** Response of `GET /entity/:kind/:namespace/:name/status`. @public */
export interface EntityRolloutsResponse {
  entityRef: string;
  slotLabel: string;
  generatedAt: string;
  clusters: ClusterRollouts[];
  /** Configured clusters the plugin cannot read (for example other locator types). */
  skippedClusters: SkippedCluster[];
  /** While the page is open, a `keepalive` signal arrives at this interval. */
  liveUpdates: { keepaliveIntervalMs: number };
}

/** Body of `POST .../traffic/switch`. @public */
export interface SwitchTrafficRequest {
  cluster: string;
  namespace: string;
  service: string;
  targetSlot: string;
  /** Slot the user saw live; the switch fails with 409 if it changed. */
  expectedCurrentSlot?: string;
  /**
   * Keep the slot switched away from running this many seconds (an instant
   * rollback until then), then scale it to 0 (Argo Rollouts'
   * `scaleDownDelaySeconds`). Without it the slot keeps running.
   */
  scaleDownDelaySeconds?: number;
}

/** Body of `POST .../traffic/rollback`. @public */
export type RollbackTrafficRequest = Omit<SwitchTrafficRequest, 'targetSlot'>;

/**
 * Body of `POST .../traffic/preflight`: the checks a switch (to `targetSlot`)
 * or a rollback would run, without changing anything.
 *
 * @public
 */
export type TrafficPreflightRequest = Omit<
  SwitchTrafficRequest,
  'targetSlot' | 'scaleDownDelaySeconds'
> &
  ({ action: 'switch'; targetSlot: string } | { action: 'rollback' });

/**
 * A slot scaled to 0 by a scheduled scale-down, which a rollback scales back
 * up (and waits for) before it moves traffic.
 *
 * @public
 */
export interface ScaleUpStep {
  slot: string;
  deployment: string;
  replicas: number;
}

/** Result of `POST .../traffic/preflight`. @public */
export interface TrafficPreflightResponse {
  cluster: string;
  namespace: string;
  service: string;
  from: string;
  to: string;
  /** No check failed: the switch would go ahead now. */
  ok: boolean;
  checks: SwitchCheck[];
  /** A rollback to a scaled-down slot scales it back up first. */
  scaleUpFirst?: ScaleUpStep;
}

/** What a switch did to the preview Service. @public */
export interface PreviewRepoint {
  service: string;
  /** It now selects the slot switched away from. */
  repointed: boolean;
  from?: string;
  to?: string;
  /**
   * Whether its EndpointSlices routed only to ready pods of the slot left
   * before the timeout (false also when that slot runs no pods).
   */
  endpointsConverged?: boolean;
  /** Why it was not repointed (traffic moved all the same). */
  reason?: string;
}

/** A scale-down scheduled by a switch. @public */
export interface ScheduledScaleDown {
  slot: string;
  deployment: string;
  /** RFC 3339. */
  at: string;
  /** Replica count a rollback restores. */
  replicas: number;
}

/** Result of a switch or rollback. @public */
export interface SwitchTrafficResponse {
  cluster: string;
  namespace: string;
  service: string;
  from: string;
  to: string;
  /** Whether the EndpointSlices pointed only at the target pods before the timeout. */
  endpointsConverged: boolean;
  /** Milliseconds from the patch until the EndpointSlices converged (or the timeout). */
  elapsedMs: number;
  /** The checks that passed (or were skipped) before the switch. */
  checks: SwitchCheck[];
  /** Set when the pair has a preview Service. */
  preview?: PreviewRepoint;
  /** Set when the request asked for a delayed scale-down of the slot left. */
  scaleDown?: ScheduledScaleDown;
  /** Why the requested scale-down was not scheduled (traffic moved all the same). */
  scaleDownNotScheduled?: string;
  /** A pending scale-down of the target, removed before traffic moved. */
  cancelledScaleDown?: { slot: string; deployment: string; at: string };
  /** The target was scaled back up (a rollback after its scale-down). */
  scaledUp?: ScaleUpStep;
}

/** Body of `POST .../deployments/restart`. @public */
export interface DeploymentActionRequest {
  cluster: string;
  namespace: string;
  deployment: string;
}

/** Body of `POST .../deployments/undo`. @public */
export interface UndoDeploymentRequest extends DeploymentActionRequest {
  /** Revision to go back to; defaults to the one before the current. */
  toRevision?: string;
}

/** @public */
export interface RestartDeploymentResponse {
  cluster: string;
  namespace: string;
  deployment: string;
  restartedAt: string;
}

/** @public */
export interface UndoDeploymentResponse {
  cluster: string;
  namespace: string;
  deployment: string;
  fromRevision?: string;
  toRevision: string;
  /** True when the template already equalled the target revision. */
  skipped: boolean;
}
