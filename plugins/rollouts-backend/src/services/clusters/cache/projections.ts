/*
 * What the cache keeps of each object: the fields the rollouts views and
 * guards read, nothing else. The API server's objects carry far more
 * (managedFields, env, volumes, security contexts, tolerations, status.hostIP,
 * timestamps...); at 20,000 pods and 44,000 ReplicaSets that is most of the
 * cache's memory.
 *
 * Per kind, besides apiVersion and kind (not for pods and ReplicaSets: list
 * items have none, only watched objects do, and nothing reads them):
 * - Deployment: metadata (with generation and annotations), spec (replicas,
 *   selector, template, paused, progress deadline, minReadySeconds,
 *   revisionHistoryLimit, strategy) and status (replica counts, conditions
 *   without their timestamps). Pod templates keep labels,
 *   annotations and per container name, image, ports, resources, the three
 *   probes and restartPolicy.
 * - ReplicaSet (the most numerous kind: ten old ones per Deployment): name,
 *   namespace, uid, resourceVersion, the revision annotation, the controller
 *   reference and the template's container names and images (the revision
 *   history), those in one object that reads as the API's spec
 *   (ReplicaSetImages). No labels, replica counts or status: ReplicaSets are
 *   found through their Deployment, and the views show only their history.
 * - Pod: name, namespace, uid, resourceVersion, labels, the controller
 *   reference; spec.nodeName; status phase, the Ready condition and per
 *   container name, ready, started, restartCount, imageID (the digest it
 *   runs, which the GitOps view compares with Git's), the state (waiting
 *   reason and message, terminated reason and exit code) and the last
 *   termination.
 * - Service: metadata with annotations (preview, entity ref, previous slot);
 *   type, selector, clusterIP, ports. EndpointSlice: addressType, endpoints
 *   (addresses, conditions, targetRef, nodeName), ports.
 * - ResourceQuota, LimitRange, HorizontalPodAutoscaler, Event: their spec and
 *   status (events: reason, message, counts, times, involved object).
 * - Flux Kustomization: metadata with generation and only the entity-ref
 *   annotation; spec path, suspend, targetNamespace; status observedGeneration,
 *   the Ready, Reconciling and Stalled conditions, the last applied and
 *   attempted revisions, and the inventory's Deployment entries only (the
 *   inventory lists every applied object; the view reads Deployments).
 * Metadata of every kind: name, namespace, uid, resourceVersion, labels and
 * the controller owner reference (kind, uid; other references are never
 * read). Annotations only where a view reads them (Deployments, Services, the
 * ReplicaSet revision), without kubectl's last-applied-configuration (a full
 * copy of the object); an empty annotations object stays an object, because a
 * JSON Patch planned from the cache adds to `/metadata/annotations` only when
 * it exists. Repeated values (namespace and node names, a ReplicaSet's pod
 * labels, owner references, pods' Ready condition and statuses, container
 * states, Deployments' strategies and their containers' ports, resources and
 * probes) are shared between objects and frozen (SharedValues.ts): treat
 * cached objects as read-only.
 *
 * Memory (issue 17: at most 2 MiB per 1,000 pods at 20,000 pods with ten
 * old ReplicaSets per Deployment): see the comment above `metadata` on the
 * objects' layout; ReplicaSets, 2.2 per pod, are about half of the cache.
 * tests/rollouts-bench/src/scaleOfflineKinds.bench.ts measures each kind.
 *
 * A view that starts reading another field must add it here (the test
 * "status from projected objects equals status from full objects" catches
 * most omissions).
 */
import {
  ENTITY_REF_ANNOTATION,
  KubeContainer,
  KubeContainerState,
  KubeContainerStatus,
  KubeDeployment,
  KubeEndpointSlice,
  KubeEvent,
  KubeHorizontalPodAutoscaler,
  KubeKustomization,
  KubeLimitRange,
  KubeObject,
  KubeObjectMeta,
  KubeOwnerReference,
  KubePod,
  KubePodTemplateSpec,
  KubeReplicaSet,
  KubeResourceQuota,
  KubeService,
} from '@golden-path/plugin-rollouts-common';
import { ResourceKind, ResourceTypes } from '../types';
import { SharedValues } from './SharedValues';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const REVISION = 'deployment.kubernetes.io/revision';

/** A copy of `source` with only `keys` that are set (absent keys cost memory too). */
function pick<T extends object, K extends keyof T>(
  source: T | undefined,
  keys: readonly K[],
): Pick<T, K> | undefined {
  if (source === undefined || source === null) return undefined;
  const result = {} as Pick<T, K>;
  for (const k of keys) {
    if (source[k] !== undefined) result[k] = source[k];
  }
  return result;
}

/*
 * Values many cached objects repeat, shared (see SharedValues): namespace and
 * node names, the labels of one ReplicaSet's pods, owner references, the
 * revision annotation, pod conditions and container states.
 */
const sharedStrings = new SharedValues<string>();
const sharedLabels = new SharedValues<Record<string, string>>();
const sharedOwners = new SharedValues<KubeOwnerReference[]>();
const sharedParts = new SharedValues<object>();

function shareLabels(labels: Record<string, string>) {
  let key = '';
  for (const k of Object.keys(labels)) key += `${k}=${labels[k]}\u0000`;
  return sharedLabels.share(key, labels);
}

/** A small JSON-like value, shared with every equal one. */
function sharePart<T extends object>(value: T): T {
  return sharedParts.share(JSON.stringify(value), value) as T;
}

type AnnotationsKept = 'all' | 'revision' | 'entity-ref' | 'none';

const ONLY_ANNOTATION = {
  revision: REVISION,
  'entity-ref': ENTITY_REF_ANNOTATION,
} as const;

function annotationsOf(
  annotations: Record<string, string> | undefined,
  kept: AnnotationsKept,
): Record<string, string> | undefined {
  if (!annotations || kept === 'none') return undefined;
  if (kept !== 'all') {
    const key = ONLY_ANNOTATION[kept];
    return annotations[key] === undefined
      ? undefined
      : sharePart({ [key]: annotations[key] });
  }
  if (!(LAST_APPLIED in annotations)) return annotations;
  const { [LAST_APPLIED]: _dropped, ...rest } = annotations;
  return rest;
}

const shareString = (value: string) => sharedStrings.share(value, value);

const namespaceOf = (m: KubeObjectMeta) =>
  m.namespace === undefined ? undefined : shareString(m.namespace);

/** The controller owner reference, the only one read. */
function controllerOf(m: KubeObjectMeta) {
  const controller = m.ownerReferences?.find(r => r.controller);
  if (!controller) return undefined;
  const reference = [
    { kind: controller.kind, uid: controller.uid, controller: true },
  ];
  // Keyed by the uid alone (unique in the cluster): a key of its own, kind
  // and uid, would cost a string per owner.
  return controller.uid === undefined
    ? reference
    : sharedOwners.share(controller.uid, reference);
}

/*
 * Objects the cache holds tens of thousands of are built as object literals
 * with every field at once: V8 then keeps all fields inside the object. A
 * copy built field by field (`pick`, spreads) keeps those past the fourth in
 * a separate, partly empty array, ~40 bytes more per object. Absent fields
 * stay `undefined` (8 bytes each, less than that array); pods and
 * ReplicaSets, the most numerous, get metadata of their own shape without
 * the fields they never have.
 */
function metadata(
  m: KubeObjectMeta,
  options: {
    labels: boolean;
    annotations: AnnotationsKept;
    generation?: boolean;
  },
): KubeObjectMeta {
  return {
    name: m.name,
    namespace: namespaceOf(m),
    uid: m.uid,
    resourceVersion: m.resourceVersion,
    generation: options.generation ? m.generation : undefined,
    // Not shared: labels of other kinds than pods are mostly their own, and a
    // shared value costs its key in the table.
    labels: options.labels ? m.labels : undefined,
    annotations: annotationsOf(m.annotations, options.annotations),
    ownerReferences: controllerOf(m),
  };
}

/**
 * A template's container. Ports, resources and probes are shared: teams
 * copy them between Deployments, and each is several objects.
 */
function container(c: KubeContainer): KubeContainer {
  const shared = <T extends object>(part: T | undefined) =>
    part && sharePart(part);
  return {
    name: c.name,
    image: c.image,
    ports: shared(c.ports),
    resources: shared(c.resources),
    livenessProbe: shared(c.livenessProbe),
    readinessProbe: shared(c.readinessProbe),
    startupProbe: shared(c.startupProbe),
    restartPolicy: c.restartPolicy,
  };
}

/** Object literals, not spreads or `pick` (see the comment above `metadata`). */
function podTemplate(
  t: KubePodTemplateSpec | undefined,
): KubePodTemplateSpec | undefined {
  if (!t) return undefined;
  return {
    metadata: t.metadata && {
      labels: t.metadata.labels,
      annotations: t.metadata.annotations,
    },
    spec: t.spec && {
      containers: (t.spec.containers ?? []).map(container),
      initContainers: t.spec.initContainers?.map(container),
    },
  };
}

function object<T extends KubeObject>(
  o: T,
  options: Parameters<typeof metadata>[1],
): KubeObject {
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: o.metadata && metadata(o.metadata, options),
  };
}

const ALL = { labels: true, annotations: 'all' } as const;
const LABELS = { labels: true, annotations: 'none' } as const;
function containerState(
  state: KubeContainerState | undefined,
): KubeContainerState | undefined {
  if (!state) return undefined;
  // The views only ask whether a container runs, not since when.
  if (state.running) return sharePart({ running: {} });
  if (state.waiting) {
    return sharePart({ waiting: pick(state.waiting, ['reason', 'message']) });
  }
  if (state.terminated) {
    return sharePart({
      terminated: pick(state.terminated, ['reason', 'exitCode'])!,
    });
  }
  return sharePart({});
}

function containerStatus(s: KubeContainerStatus): KubeContainerStatus {
  return {
    name: s.name,
    ready: s.ready,
    started: s.started,
    restartCount: s.restartCount,
    imageID: s.imageID,
    state: containerState(s.state),
    lastState:
      s.lastState?.terminated &&
      sharePart({
        terminated: pick(s.lastState.terminated, ['reason', 'exitCode'])!,
      }),
  };
}

/** The replica counts and conditions, without the conditions' timestamps (never read). */
function deploymentStatus(
  status: NonNullable<KubeDeployment['status']>,
): KubeDeployment['status'] {
  return {
    observedGeneration: status.observedGeneration,
    replicas: status.replicas,
    updatedReplicas: status.updatedReplicas,
    readyReplicas: status.readyReplicas,
    availableReplicas: status.availableReplicas,
    unavailableReplicas: status.unavailableReplicas,
    // Types and reasons are a few words every Deployment repeats; messages
    // mostly name the Deployment's own ReplicaSet.
    conditions: status.conditions?.map(c => ({
      type: shareString(c.type),
      status: c.status,
      reason: c.reason === undefined ? undefined : shareString(c.reason),
      message: c.message,
    })),
  };
}

/**
 * Healthy pods of one node, or with one set of containers, look alike: spec
 * and status are shared whole (a Running pod's status is the same for all of
 * them once the start times are dropped).
 */
function podStatus(status: NonNullable<KubePod['status']>): KubePod['status'] {
  const ready = status.conditions?.find(c => c.type === 'Ready');
  return sharePart({
    phase: status.phase,
    // Shared on its own too: a status of its own (a pod's own imageID)
    // still has the Ready condition of many others.
    conditions:
      ready &&
      sharePart([pick(ready, ['type', 'status', 'reason', 'message'])!]),
    containerStatuses: status.containerStatuses?.map(containerStatus),
  });
}

/**
 * A ReplicaSet's spec as the cache keeps it: its containers' names and images
 * in one object, `template.spec.containers` built when read. The API's shape
 * (spec, template, spec, containers array, one object per container) is five
 * objects, ~190 bytes per ReplicaSet, this is one of ~50: 6.5 MB at 44,000
 * ReplicaSets. Reads see the API's shape, `JSON.stringify` too (`toJSON`);
 * only code that copies own properties (a spread, `structuredClone`) would
 * not, and nothing copies cached objects.
 */
class ReplicaSetImages {
  /** One container, nearly every ReplicaSet's: its name and image. */
  private readonly name?: string;
  private readonly image?: string;
  /** Any other number of containers. */
  private readonly containers?: readonly KubeContainer[];

  constructor(containers: readonly KubeContainer[]) {
    if (containers.length === 1) {
      this.name = containers[0].name;
      this.image = containers[0].image;
    } else {
      this.containers = containers.map(c => ({ name: c.name, image: c.image }));
    }
  }

  get template(): KubePodTemplateSpec {
    return {
      spec: {
        containers: this.containers
          ? this.containers.map(c => ({ ...c }))
          : [{ name: this.name!, image: this.image }],
      },
    };
  }

  toJSON() {
    return { template: this.template };
  }
}

const FLUX_CONDITIONS = new Set(['Ready', 'Reconciling', 'Stalled']);

function kustomizationStatus(
  status: NonNullable<KubeKustomization['status']>,
): KubeKustomization['status'] {
  const entries = status.inventory?.entries;
  return {
    ...pick(status, [
      'observedGeneration',
      'lastAppliedRevision',
      'lastAttemptedRevision',
    ]),
    ...(status.conditions && {
      conditions: status.conditions
        .filter(c => FLUX_CONDITIONS.has(c.type))
        .map(c => pick(c, ['type', 'status', 'reason', 'message'])!),
    }),
    // An empty inventory (Flux applied nothing) is kept: it differs from none.
    ...(entries && {
      inventory: {
        entries: entries
          .filter(e => e.id.endsWith('_apps_Deployment'))
          .map(e => ({ id: e.id })),
      },
    }),
  };
}

const PROJECTIONS: { [K in ResourceKind]: (o: any) => ResourceTypes[K] } = {
  deployments: (d: KubeDeployment): KubeDeployment => ({
    apiVersion: d.apiVersion,
    kind: d.kind,
    metadata: d.metadata && metadata(d.metadata, { ...ALL, generation: true }),
    spec: d.spec && {
      replicas: d.spec.replicas,
      selector: d.spec.selector,
      paused: d.spec.paused,
      progressDeadlineSeconds: d.spec.progressDeadlineSeconds,
      minReadySeconds: d.spec.minReadySeconds,
      revisionHistoryLimit: d.spec.revisionHistoryLimit,
      // The same for most Deployments (the default rolling update of 25%).
      strategy: d.spec.strategy && sharePart(d.spec.strategy),
      template: podTemplate(d.spec.template),
    },
    status: d.status && deploymentStatus(d.status),
  }),
  // No apiVersion and kind: list items have none (only watched objects do),
  // and nothing reads them.
  replicasets: (rs: KubeReplicaSet): KubeReplicaSet => ({
    metadata: rs.metadata && {
      name: rs.metadata.name,
      namespace: namespaceOf(rs.metadata),
      uid: rs.metadata.uid,
      resourceVersion: rs.metadata.resourceVersion,
      annotations: annotationsOf(rs.metadata.annotations, 'revision'),
      ownerReferences: controllerOf(rs.metadata),
    },
    // Not shared: nearly every revision has images of its own, and a shared
    // value costs its key in the table.
    spec:
      rs.spec?.template?.spec &&
      new ReplicaSetImages(rs.spec.template.spec.containers ?? []),
  }),
  pods: (p: KubePod): KubePod => ({
    metadata: p.metadata && {
      name: p.metadata.name,
      namespace: namespaceOf(p.metadata),
      uid: p.metadata.uid,
      resourceVersion: p.metadata.resourceVersion,
      labels: p.metadata.labels && shareLabels(p.metadata.labels),
      ownerReferences: controllerOf(p.metadata),
    },
    spec:
      p.spec?.nodeName === undefined
        ? undefined
        : sharePart({ nodeName: p.spec.nodeName } as KubePod['spec'] & {}),
    status: p.status && podStatus(p.status),
  }),
  services: (s: KubeService): KubeService => ({
    ...object(s, ALL),
    ...(s.spec && {
      spec: pick(s.spec, ['type', 'selector', 'clusterIP', 'ports']),
    }),
  }),
  endpointslices: (es: KubeEndpointSlice): KubeEndpointSlice => ({
    ...object(es, LABELS),
    ...pick(es, ['addressType', 'ports']),
    ...(es.endpoints && {
      endpoints: es.endpoints.map(e => ({
        ...pick(e, ['addresses', 'conditions', 'nodeName']),
        ...(e.targetRef && {
          targetRef: pick(e.targetRef, ['kind', 'name', 'namespace', 'uid']),
        }),
      })) as KubeEndpointSlice['endpoints'],
    }),
  }),
  resourcequotas: (q: KubeResourceQuota): KubeResourceQuota => ({
    ...object(q, LABELS),
    ...pick(q, ['spec', 'status']),
  }),
  limitranges: (lr: KubeLimitRange): KubeLimitRange => ({
    ...object(lr, LABELS),
    ...pick(lr, ['spec']),
  }),
  horizontalpodautoscalers: (
    h: KubeHorizontalPodAutoscaler,
  ): KubeHorizontalPodAutoscaler => ({
    ...object(h, LABELS),
    ...pick(h, ['spec', 'status']),
  }),
  events: (e: KubeEvent): KubeEvent => ({
    ...object(e, LABELS),
    ...pick(e, [
      'type',
      'reason',
      'message',
      'count',
      'firstTimestamp',
      'lastTimestamp',
      'eventTime',
      'series',
    ]),
    ...(e.involvedObject && {
      involvedObject: pick(e.involvedObject, [
        'kind',
        'name',
        'namespace',
        'uid',
      ]),
    }),
  }),
  kustomizations: (k: KubeKustomization): KubeKustomization => ({
    ...object(k, { labels: true, annotations: 'entity-ref', generation: true }),
    ...(k.spec && {
      spec: pick(k.spec, ['path', 'suspend', 'targetNamespace']),
    }),
    ...(k.status && { status: kustomizationStatus(k.status) }),
  }),
};

/**
 * The slim copy of an API object the cache keeps (see the top of this file
 * for what each kind keeps and why).
 */
export function projectObject<K extends ResourceKind>(
  kind: K,
  obj: unknown,
): ResourceTypes[K] {
  return PROJECTIONS[kind](obj);
}
