/*
 * The scale workload's objects as a real API server lists them once the
 * controllers and KWOK have acted on them, for the offline stand-in
 * (scaleOffline.bench.ts): what scaleWorkload.ts creates, plus
 * - what the API server adds to every object: uid, resourceVersion,
 *   generation, creationTimestamp, managedFields (one entry per writer, with
 *   the fields it owns), and the defaults of each kind (pod spec: dnsPolicy,
 *   restartPolicy, schedulerName, the not-ready/unreachable tolerations...;
 *   containers: imagePullPolicy, termination message, probe timings, port
 *   protocols; Deployments: strategy, revisionHistoryLimit,
 *   progressDeadlineSeconds);
 * - what the Deployment controller writes: the Deployment's status with its
 *   Available and Progressing conditions (with timestamps), the ReplicaSets'
 *   desired-replicas/max-replicas annotations and their status;
 * - what KWOK's pod-ready stage writes (platform/kubernetes builds its
 *   kwok-stages.yaml): phase Running, Initialized/Ready/ContainersReady
 *   conditions with a lastTransitionTime (the API server adds
 *   lastProbeTime: null), hostIP(s), podIP(s), startTime, and per container
 *   image, name, ready, restartCount 0 and state.running.startedAt. KWOK
 *   writes no imageID, containerID or started; the API server serializes
 *   imageID as "" and lastState as {} (neither is omitempty).
 * List items carry no apiVersion and kind.
 */
import type {
  V1Container,
  V1Deployment,
  V1ManagedFieldsEntry,
  V1Pod,
  V1PodSpec,
  V1PodTemplateSpec,
  V1ReplicaSet,
} from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import {
  ScaleApp,
  scaleDeployment,
  scalePods,
  scaleReplicaSets,
  ScaleSize,
} from './scaleWorkload';

const CREATED = '2026-11-29T12:00:00Z';
const STARTED = '2026-11-29T12:00:03Z';
/** The client-node user agent's field manager (the benchmark creates the objects). */
const CREATOR = 'node-fetch';

/** A random-looking but reproducible v4 uid, as the API server's. */
export function uidOf(id: string): string {
  const h = createHash('sha1').update(id).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(
    17,
    20,
  )}-${h.slice(20, 32)}`;
}

/** Hands out resourceVersions as etcd does: one increasing number per write. */
export class ResourceVersions {
  // A cluster that has created some 70,000 objects and their status updates.
  constructor(private last = 480_000) {}
  next(): string {
    this.last += 1;
    return String(this.last);
  }
  get latest(): string {
    return String(this.last);
  }
}

/** managedFields' `f:` tree of an object's set fields (keyed lists by name, as the API server does). */
function fieldsOf(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object') return {};
  if (Array.isArray(value)) {
    return Object.fromEntries(
      value.map((item, i) => [
        item && typeof item === 'object' && 'name' in item
          ? `k:{"name":${JSON.stringify(item.name)}}`
          : `i:${i}`,
        { '.': {}, ...fieldsOf(item) },
      ]),
    );
  }
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      `f:${k}`,
      v !== null && typeof v === 'object'
        ? { ...(Array.isArray(v) ? {} : { '.': {} }), ...fieldsOf(v) }
        : {},
    ]),
  );
}

function managed(
  manager: string,
  apiVersion: string,
  fields: object,
  subresource?: string,
): V1ManagedFieldsEntry {
  return {
    manager,
    operation: 'Update',
    apiVersion,
    time: CREATED as any,
    fieldsType: 'FieldsV1',
    fieldsV1: fieldsOf(fields),
    ...(subresource && { subresource }),
  };
}

/** The benchmark's own write: labels, owner and spec of an owned object. */
function createdFields(
  apiVersion: string,
  o: {
    metadata?: { labels?: object; ownerReferences?: object[] };
    spec?: object;
  },
) {
  return managed(CREATOR, apiVersion, {
    metadata: {
      labels: o.metadata!.labels,
      ownerReferences: o.metadata!.ownerReferences,
    },
    spec: o.spec,
  });
}

/** The Deployment controller's writes: the revision annotations, then the status. */
function deploymentControllerFields(o: {
  metadata?: { annotations?: object };
  status?: object;
}) {
  return [
    managed('kube-controller-manager', 'apps/v1', {
      metadata: { annotations: o.metadata!.annotations },
    }),
    managed(
      'kube-controller-manager',
      'apps/v1',
      { status: o.status },
      'status',
    ),
  ];
}

function stored<T extends { metadata?: any }>(
  o: T,
  id: string,
  versions: ResourceVersions,
  generation: number,
  writers: V1ManagedFieldsEntry[],
): T {
  Object.assign(o.metadata, {
    uid: uidOf(id),
    resourceVersion: versions.next(),
    generation,
    creationTimestamp: CREATED,
    managedFields: writers,
  });
  return o;
}

const probeDefaults = { timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 }; // prettier-ignore

function defaultedContainer(c: V1Container): V1Container {
  const probe = (p: V1Container['livenessProbe']) =>
    p && {
      ...p,
      ...(p.httpGet && { httpGet: { ...p.httpGet, scheme: 'HTTP' } }),
      ...probeDefaults,
    };
  return {
    ...c,
    ports: c.ports?.map(p => ({ ...p, protocol: 'TCP' })),
    livenessProbe: probe(c.livenessProbe),
    readinessProbe: probe(c.readinessProbe),
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: 'IfNotPresent',
  };
}

function defaultedPodSpec(spec: V1PodSpec, withServiceAccount: boolean) {
  return {
    ...spec,
    containers: spec.containers.map(defaultedContainer),
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    ...(withServiceAccount && {
      serviceAccountName: 'default',
      serviceAccount: 'default',
    }),
    schedulerName: 'default-scheduler',
    ...(withServiceAccount && {
      // DefaultTolerationSeconds admission: only pods, not templates.
      tolerations: [
        ...(spec.tolerations ?? []),
        ...['not-ready', 'unreachable'].map(taint => ({
          key: `node.kubernetes.io/${taint}`,
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        })),
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    }),
  } as V1PodSpec;
}

function defaultedTemplate(t: V1PodTemplateSpec): V1PodTemplateSpec {
  return {
    metadata: { ...t.metadata, creationTimestamp: null as any },
    spec: defaultedPodSpec(t.spec!, false),
  };
}

/** A Deployment after the Deployment controller has rolled it out. */
export function listedDeployment(
  app: ScaleApp,
  size: ScaleSize,
  versions: ResourceVersions,
): V1Deployment {
  const created = scaleDeployment(app, size);
  const d: V1Deployment = {
    metadata: created.metadata,
    spec: {
      ...created.spec!,
      // Resumed by the benchmark once its ReplicaSets exist.
      paused: undefined,
      template: defaultedTemplate(created.spec!.template),
      strategy: {
        type: 'RollingUpdate',
        rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' },
      },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
  };
  const current = scaleReplicaSets(app, size, '')[size.history].metadata!.name;
  const condition = (type: string, reason: string, message: string) => ({
    type,
    status: 'True',
    lastUpdateTime: STARTED as any,
    lastTransitionTime: STARTED as any,
    reason,
    message,
  });
  d.status = {
    observedGeneration: 2,
    replicas: size.podsPerDeployment,
    updatedReplicas: size.podsPerDeployment,
    readyReplicas: size.podsPerDeployment,
    availableReplicas: size.podsPerDeployment,
    conditions: [
      condition(
        'Available',
        'MinimumReplicasAvailable',
        'Deployment has minimum availability.',
      ),
      condition(
        'Progressing',
        'NewReplicaSetAvailable',
        `ReplicaSet "${current}" has successfully progressed.`,
      ),
    ],
  };
  return stored(d, `d/${app.namespace}/${app.name}`, versions, 2, [
    managed(CREATOR, 'apps/v1', {
      metadata: { labels: d.metadata!.labels },
      spec: { ...d.spec, paused: undefined },
    }),
    ...deploymentControllerFields(d),
  ]);
}

/** The Deployment's ReplicaSets, oldest first, after the controllers synced them. */
export function listedReplicaSets(
  app: ScaleApp,
  size: ScaleSize,
  deploymentUid: string,
  versions: ResourceVersions,
): V1ReplicaSet[] {
  return scaleReplicaSets(app, size, deploymentUid).map(rs => {
    const replicas = rs.spec!.replicas!;
    rs.metadata!.annotations = {
      // Each old ReplicaSet was once the new one: the Deployment controller
      // wrote these when it scaled it.
      'deployment.kubernetes.io/desired-replicas': String(
        size.podsPerDeployment,
      ),
      'deployment.kubernetes.io/max-replicas': String(
        size.podsPerDeployment + Math.ceil(size.podsPerDeployment / 4),
      ),
      ...rs.metadata!.annotations,
    };
    rs.spec!.template = defaultedTemplate(rs.spec!.template!);
    rs.status = {
      replicas,
      ...(replicas > 0 && {
        fullyLabeledReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
      }),
      observedGeneration: 1,
    };
    return stored(rs, `rs/${app.namespace}/${rs.metadata!.name}`, versions, 1, [
      createdFields('apps/v1', rs),
      ...deploymentControllerFields(rs),
    ]);
  });
}

/** The current ReplicaSet's pods, Running and Ready as KWOK reports them. */
export function listedPods(
  app: ScaleApp,
  size: ScaleSize,
  replicaSet: { name: string; uid: string },
  nodeName: string,
  versions: ResourceVersions,
): V1Pod[] {
  return scalePods(app, size, replicaSet, nodeName).map((p, i) => {
    const spec = defaultedPodSpec(p.spec!, true);
    const podIP = `10.${(app.index >> 8) & 255}.${app.index & 255}.${i + 2}`;
    const hostIP = '127.0.0.1';
    const status = {
      phase: 'Running',
      conditions: ['Initialized', 'Ready', 'ContainersReady'].map(type => ({
        type,
        status: 'True',
        lastProbeTime: null,
        lastTransitionTime: STARTED,
      })),
      hostIP,
      hostIPs: [{ ip: hostIP }],
      podIP,
      podIPs: [{ ip: podIP }],
      startTime: STARTED,
      containerStatuses: spec.containers.map(c => ({
        name: c.name,
        state: { running: { startedAt: STARTED } },
        lastState: {},
        ready: true,
        restartCount: 0,
        image: c.image,
        imageID: '',
      })),
      qosClass: 'Burstable',
    };
    // lastProbeTime: null is what the API server serializes, not in V1Pod.
    const pod = { metadata: p.metadata, spec, status } as unknown as V1Pod;
    return stored(pod, `p/${app.namespace}/${p.metadata!.name}`, versions, 1, [
      createdFields('v1', p),
      managed('kwok', 'v1', { status }, 'status'),
    ]);
  });
}
