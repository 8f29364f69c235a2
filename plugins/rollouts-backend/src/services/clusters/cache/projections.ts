/*
 * What the cache keeps of each object: the fields the rollouts views and
 * guards read (the shapes in rollouts-common's kube.ts), nothing else. The
 * API server's objects carry far more (managedFields, env, volumes, security
 * contexts, tolerations, node affinity, status.hostIP...); at 20,000 pods
 * that is most of the cache's memory.
 *
 * Per kind, besides apiVersion, kind and the metadata below:
 * - Deployment: spec (replicas, selector, template, paused, progress
 *   deadline, minReadySeconds, revisionHistoryLimit, strategy) and status.
 * - ReplicaSet: spec.replicas, spec.selector, and of the template only the
 *   containers' name and image (the revision history shows images); status
 *   replica counts. ReplicaSets outnumber pods (revision history), so their
 *   pod template is the largest thing dropped.
 * - Pod: spec containers, init containers and nodeName; status phase,
 *   reason, podIP, conditions, container statuses, startTime.
 * - Pod templates (of Deployments) and containers: name, image, ports,
 *   resources, the three probes, restartPolicy; template labels and
 *   annotations.
 * - Service: type, selector, clusterIP, ports. EndpointSlice: addressType,
 *   endpoints (addresses, conditions, targetRef, nodeName), ports.
 * - ResourceQuota, LimitRange, HorizontalPodAutoscaler, Event: as kube.ts
 *   declares them.
 * Metadata: name, namespace, uid, resourceVersion, generation, creation and
 * deletion timestamps, labels, owner references, and annotations except
 * kubectl's last-applied-configuration (a full copy of the object). An empty
 * annotations object stays an object: a JSON Patch planned from the cache
 * adds to `/metadata/annotations` only when it exists.
 *
 * A view that starts reading another field must add it here (the test
 * "status from projected objects equals status from full objects" catches
 * most omissions).
 */
import {
  KubeContainer,
  KubeContainerStatus,
  KubeDeployment,
  KubeEndpointSlice,
  KubeEvent,
  KubeHorizontalPodAutoscaler,
  KubeLimitRange,
  KubeObject,
  KubeObjectMeta,
  KubePod,
  KubePodTemplateSpec,
  KubeReplicaSet,
  KubeResourceQuota,
  KubeService,
} from '@internal/plugin-rollouts-common';
import { ResourceKind, ResourceTypes } from '../types';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

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

function annotationsOf(annotations: Record<string, string> | undefined) {
  if (!annotations || !(LAST_APPLIED in annotations)) return annotations;
  const { [LAST_APPLIED]: _dropped, ...rest } = annotations;
  return rest;
}

function metadata(m: KubeObjectMeta | undefined): KubeObjectMeta | undefined {
  const slim: KubeObjectMeta | undefined = pick(m, [
    'name',
    'namespace',
    'uid',
    'resourceVersion',
    'generation',
    'creationTimestamp',
    'deletionTimestamp',
    'labels',
  ]);
  if (!slim || !m) return slim;
  if (m.annotations) slim.annotations = annotationsOf(m.annotations);
  if (m.ownerReferences) {
    slim.ownerReferences = m.ownerReferences.map(
      r => pick(r, ['apiVersion', 'kind', 'name', 'uid', 'controller'])!,
    );
  }
  return slim;
}

function container(c: KubeContainer): KubeContainer {
  return pick(c, [
    'name',
    'image',
    'ports',
    'resources',
    'livenessProbe',
    'readinessProbe',
    'startupProbe',
    'restartPolicy',
  ])!;
}

function podTemplate(
  t: KubePodTemplateSpec | undefined,
): KubePodTemplateSpec | undefined {
  if (!t) return undefined;
  return {
    ...(t.metadata && {
      metadata: pick(t.metadata, ['labels', 'annotations']),
    }),
    ...(t.spec && {
      spec: {
        containers: (t.spec.containers ?? []).map(container),
        ...(t.spec.initContainers && {
          initContainers: t.spec.initContainers.map(container),
        }),
      },
    }),
  };
}

function object<T extends KubeObject>(o: T): KubeObject {
  return {
    ...pick(o, ['apiVersion', 'kind']),
    ...(o.metadata && { metadata: metadata(o.metadata) }),
  };
}

function containerStatus(s: KubeContainerStatus): KubeContainerStatus {
  return pick(s, [
    'name',
    'ready',
    'started',
    'restartCount',
    'image',
    'imageID',
    'state',
    'lastState',
  ])!;
}

const PROJECTIONS: { [K in ResourceKind]: (o: any) => ResourceTypes[K] } = {
  deployments: (d: KubeDeployment): KubeDeployment => ({
    ...object(d),
    ...(d.spec && {
      spec: {
        ...pick(d.spec, [
          'replicas',
          'selector',
          'paused',
          'progressDeadlineSeconds',
          'minReadySeconds',
          'revisionHistoryLimit',
          'strategy',
        ]),
        ...(d.spec.template && { template: podTemplate(d.spec.template) }),
      },
    }),
    ...(d.status && { status: d.status }),
  }),
  replicasets: (rs: KubeReplicaSet): KubeReplicaSet => ({
    ...object(rs),
    ...(rs.spec && {
      spec: {
        ...pick(rs.spec, ['replicas', 'selector']),
        ...(rs.spec.template?.spec && {
          template: {
            spec: {
              containers: (rs.spec.template.spec.containers ?? []).map(
                c => pick(c, ['name', 'image'])!,
              ),
            },
          },
        }),
      },
    }),
    ...(rs.status && {
      status: pick(rs.status, [
        'replicas',
        'readyReplicas',
        'availableReplicas',
      ]),
    }),
  }),
  pods: (p: KubePod): KubePod => ({
    ...object(p),
    ...(p.spec && {
      spec: {
        containers: (p.spec.containers ?? []).map(container),
        ...(p.spec.initContainers && {
          initContainers: p.spec.initContainers.map(container),
        }),
        ...(p.spec.nodeName !== undefined && { nodeName: p.spec.nodeName }),
      },
    }),
    ...(p.status && {
      status: {
        ...pick(p.status, [
          'phase',
          'reason',
          'podIP',
          'conditions',
          'startTime',
        ]),
        ...(p.status.containerStatuses && {
          containerStatuses: p.status.containerStatuses.map(containerStatus),
        }),
        ...(p.status.initContainerStatuses && {
          initContainerStatuses:
            p.status.initContainerStatuses.map(containerStatus),
        }),
      },
    }),
  }),
  services: (s: KubeService): KubeService => ({
    ...object(s),
    ...(s.spec && {
      spec: pick(s.spec, ['type', 'selector', 'clusterIP', 'ports']),
    }),
  }),
  endpointslices: (es: KubeEndpointSlice): KubeEndpointSlice => ({
    ...object(es),
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
    ...object(q),
    ...pick(q, ['spec', 'status']),
  }),
  limitranges: (lr: KubeLimitRange): KubeLimitRange => ({
    ...object(lr),
    ...pick(lr, ['spec']),
  }),
  horizontalpodautoscalers: (
    h: KubeHorizontalPodAutoscaler,
  ): KubeHorizontalPodAutoscaler => ({
    ...object(h),
    ...pick(h, ['spec', 'status']),
  }),
  events: (e: KubeEvent): KubeEvent => ({
    ...object(e),
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
