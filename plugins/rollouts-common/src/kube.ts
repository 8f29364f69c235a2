/**
 * The subset of Kubernetes object shapes the rollouts plugin reads.
 *
 * @remarks
 * These are structural types, compatible with both raw API JSON and the models
 * of `@kubernetes/client-node` (which turn timestamps into `Date`), so this
 * package stays free of a Kubernetes client dependency and works in the browser.
 *
 * @packageDocumentation
 */

/** @public */
export type KubeTime = string | Date;

/** @public */
export interface KubeOwnerReference {
  apiVersion?: string;
  kind?: string;
  name?: string;
  uid?: string;
  controller?: boolean;
}

/** @public */
export interface KubeObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: KubeTime;
  deletionTimestamp?: KubeTime;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: KubeOwnerReference[];
}

/** @public */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: KubeObjectMeta;
}

/** @public */
export interface KubeLabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

/** @public */
export interface KubeLabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: KubeLabelSelectorRequirement[];
}

/** @public */
export type IntOrString = number | string;

/** @public */
export interface KubeProbe {
  httpGet?: {
    path?: string;
    port: IntOrString;
    host?: string;
    scheme?: string;
    httpHeaders?: { name: string; value: string }[];
  };
  tcpSocket?: { port: IntOrString; host?: string };
  exec?: { command?: string[] };
  grpc?: { port: number; service?: string };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
  terminationGracePeriodSeconds?: number;
}

/** @public */
export interface KubeResourceRequirements {
  requests?: Record<string, IntOrString>;
  limits?: Record<string, IntOrString>;
}

/** @public */
export interface KubeContainer {
  name: string;
  image?: string;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  resources?: KubeResourceRequirements;
  livenessProbe?: KubeProbe;
  readinessProbe?: KubeProbe;
  startupProbe?: KubeProbe;
  /** Set to `Always` on an init container makes it a native sidecar. */
  restartPolicy?: string;
}

/** @public */
export interface KubePodSpec {
  containers: KubeContainer[];
  initContainers?: KubeContainer[];
  nodeName?: string;
}

/** @public */
export interface KubePodTemplateSpec {
  metadata?: KubeObjectMeta;
  spec?: KubePodSpec;
}

/** @public */
export interface KubeCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: KubeTime;
  lastUpdateTime?: KubeTime;
}

/** @public */
export interface KubeDeployment extends KubeObject {
  spec?: {
    replicas?: number;
    selector?: KubeLabelSelector;
    template?: KubePodTemplateSpec;
    paused?: boolean;
    progressDeadlineSeconds?: number;
    minReadySeconds?: number;
    revisionHistoryLimit?: number;
    strategy?: {
      type?: string;
      rollingUpdate?: { maxSurge?: IntOrString; maxUnavailable?: IntOrString };
    };
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
    conditions?: KubeCondition[];
  };
}

/** @public */
export interface KubeReplicaSet extends KubeObject {
  spec?: {
    replicas?: number;
    selector?: KubeLabelSelector;
    template?: KubePodTemplateSpec;
  };
  status?: {
    replicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
  };
}

/** @public */
export interface KubeContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: KubeTime };
  terminated?: {
    reason?: string;
    message?: string;
    exitCode: number;
    signal?: number;
    startedAt?: KubeTime;
    finishedAt?: KubeTime;
  };
}

/** @public */
export interface KubeContainerStatus {
  name: string;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  image?: string;
  imageID?: string;
  state?: KubeContainerState;
  lastState?: KubeContainerState;
}

/** @public */
export interface KubePod extends KubeObject {
  spec?: KubePodSpec;
  status?: {
    phase?: string;
    reason?: string;
    podIP?: string;
    conditions?: KubeCondition[];
    containerStatuses?: KubeContainerStatus[];
    initContainerStatuses?: KubeContainerStatus[];
    startTime?: KubeTime;
  };
}

/** @public */
export interface KubeService extends KubeObject {
  spec?: {
    type?: string;
    selector?: Record<string, string>;
    clusterIP?: string;
    ports?: {
      name?: string;
      port: number;
      targetPort?: IntOrString;
      protocol?: string;
    }[];
  };
}

/** @public */
export interface KubeEndpoint {
  addresses: string[];
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
  targetRef?: {
    kind?: string;
    name?: string;
    namespace?: string;
    uid?: string;
  };
  nodeName?: string;
}

/** @public */
export interface KubeEndpointSlice extends KubeObject {
  addressType?: string;
  endpoints?: KubeEndpoint[];
  ports?: { name?: string; port?: number; protocol?: string }[];
}

/** @public */
export interface KubeResourceQuota extends KubeObject {
  spec?: { hard?: Record<string, IntOrString>; scopes?: string[] };
  status?: {
    hard?: Record<string, IntOrString>;
    used?: Record<string, IntOrString>;
  };
}

/** @public */
export interface KubeLimitRangeItem {
  type: string;
  default?: Record<string, IntOrString>;
  defaultRequest?: Record<string, IntOrString>;
  max?: Record<string, IntOrString>;
  min?: Record<string, IntOrString>;
  maxLimitRequestRatio?: Record<string, IntOrString>;
}

/** @public */
export interface KubeLimitRange extends KubeObject {
  spec?: { limits?: KubeLimitRangeItem[] };
}

/** @public */
export interface KubeMetricTarget {
  type: string;
  averageUtilization?: number;
  averageValue?: IntOrString;
  value?: IntOrString;
}

/** @public */
export interface KubeMetricValueStatus {
  averageUtilization?: number;
  averageValue?: IntOrString;
  value?: IntOrString;
}

/** @public */
export interface KubeMetricIdentifier {
  name: string;
  selector?: KubeLabelSelector;
}

/** @public */
export interface KubeCrossVersionObjectReference {
  apiVersion?: string;
  kind: string;
  name: string;
}

/** @public */
export interface KubeMetricSpec {
  type: string;
  resource?: { name: string; target: KubeMetricTarget };
  containerResource?: {
    name: string;
    container: string;
    target: KubeMetricTarget;
  };
  pods?: { metric: KubeMetricIdentifier; target: KubeMetricTarget };
  object?: {
    describedObject: KubeCrossVersionObjectReference;
    metric: KubeMetricIdentifier;
    target: KubeMetricTarget;
  };
  external?: { metric: KubeMetricIdentifier; target: KubeMetricTarget };
}

/** @public */
export interface KubeMetricStatus {
  type: string;
  resource?: { name: string; current: KubeMetricValueStatus };
  containerResource?: {
    name: string;
    container: string;
    current: KubeMetricValueStatus;
  };
  pods?: { metric: KubeMetricIdentifier; current: KubeMetricValueStatus };
  object?: {
    describedObject: KubeCrossVersionObjectReference;
    metric: KubeMetricIdentifier;
    current: KubeMetricValueStatus;
  };
  external?: { metric: KubeMetricIdentifier; current: KubeMetricValueStatus };
}

/** An `autoscaling/v2` HorizontalPodAutoscaler. @public */
export interface KubeHorizontalPodAutoscaler extends KubeObject {
  spec?: {
    scaleTargetRef: KubeCrossVersionObjectReference;
    minReplicas?: number;
    maxReplicas: number;
    metrics?: KubeMetricSpec[];
  };
  status?: {
    currentReplicas?: number;
    desiredReplicas?: number;
    lastScaleTime?: KubeTime;
    currentMetrics?: KubeMetricStatus[];
    conditions?: KubeCondition[];
  };
}

/** A core/v1 Event. @public */
export interface KubeEvent extends KubeObject {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: KubeTime;
  lastTimestamp?: KubeTime;
  eventTime?: KubeTime;
  involvedObject?: {
    kind?: string;
    name?: string;
    namespace?: string;
    uid?: string;
  };
  series?: { count?: number; lastObservedTime?: KubeTime };
}

/** Turns a Kubernetes timestamp (string or Date) into an ISO string. @public */
export function toIsoTime(time: KubeTime | undefined): string | undefined {
  if (time === undefined || time === null) {
    return undefined;
  }
  if (time instanceof Date) {
    return time.toISOString();
  }
  return String(time);
}

/** One entry of a Flux object's inventory: `<namespace>_<name>_<group>_<Kind>`. @public */
export interface KubeInventoryEntry {
  id: string;
  v?: string;
}

/**
 * A Flux Kustomization (`kustomize.toolkit.fluxcd.io/v1`): what the portal
 * reads of it to show a GitOps environment.
 *
 * @public
 */
export interface KubeKustomization extends KubeObject {
  spec?: {
    /** The folder of the source Flux builds, e.g. `./overlays/dev`. */
    path?: string;
    suspend?: boolean;
    targetNamespace?: string;
  };
  status?: {
    observedGeneration?: number;
    conditions?: KubeCondition[];
    /** The last revision applied and found healthy, e.g. `main@sha1:<sha>`. */
    lastAppliedRevision?: string;
    /** The last revision Flux tried to apply, healthy or not. */
    lastAttemptedRevision?: string;
    /** The objects the last apply created or updated. */
    inventory?: { entries?: KubeInventoryEntry[] | null };
  };
}
