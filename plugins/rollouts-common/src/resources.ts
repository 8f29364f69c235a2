import {
  IntOrString,
  KubeContainer,
  KubeHorizontalPodAutoscaler,
  KubeLimitRange,
  KubeMetricSpec,
  KubeMetricStatus,
  KubeMetricTarget,
  KubeMetricValueStatus,
  KubePodTemplateSpec,
  KubeResourceQuota,
} from './kube';
import {
  formatQuantity,
  parseQuantity,
  QuantityKind,
  quantityKind,
} from './quantity';
import { Finding } from './probes';

/** Use of one resource of a ResourceQuota. @public */
export interface QuotaUsage {
  resource: string;
  kind: QuantityKind;
  used: string;
  hard: string;
  usedValue: number;
  hardValue: number;
  /** used / hard × 100, rounded to one decimal; undefined when hard is 0. */
  percent?: number;
}

/** @public */
export interface QuotaSummary {
  name: string;
  namespace: string;
  scopes?: string[];
  usages: QuotaUsage[];
}

function str(value: IntOrString | undefined): string {
  return value === undefined ? '' : String(value);
}

/**
 * Used versus hard per resource of a ResourceQuota, with percentages.
 *
 * @public
 */
export function summarizeQuota(quota: KubeResourceQuota): QuotaSummary {
  const hard = quota.status?.hard ?? quota.spec?.hard ?? {};
  const used = quota.status?.used ?? {};
  const usages: QuotaUsage[] = Object.keys(hard)
    .sort()
    .map(resource => {
      const kind = quantityKind(resource);
      const hardValue = parseQuantity(hard[resource]) ?? 0;
      const usedValue = parseQuantity(used[resource] ?? 0) ?? 0;
      return {
        resource,
        kind,
        hard: str(hard[resource]),
        used: str(used[resource] ?? '0'),
        hardValue,
        usedValue,
        percent:
          hardValue > 0
            ? Math.round((usedValue / hardValue) * 1000) / 10
            : undefined,
      };
    });
  return {
    name: quota.metadata?.name ?? '',
    namespace: quota.metadata?.namespace ?? '',
    ...(quota.spec?.scopes && { scopes: quota.spec.scopes }),
    usages,
  };
}

/** @public */
export interface LimitRangeEntry {
  type: string;
  resource: string;
  defaultLimit?: string;
  defaultRequest?: string;
  min?: string;
  max?: string;
  maxLimitRequestRatio?: string;
}

/** @public */
export interface LimitRangeSummary {
  name: string;
  namespace: string;
  entries: LimitRangeEntry[];
}

/**
 * Flattens a LimitRange into one row per type and resource: defaults (applied
 * to containers that set no requests/limits), min, max and ratio.
 *
 * @public
 */
export function summarizeLimitRange(range: KubeLimitRange): LimitRangeSummary {
  const entries: LimitRangeEntry[] = [];
  for (const item of range.spec?.limits ?? []) {
    const resources = new Set<string>([
      ...Object.keys(item.default ?? {}),
      ...Object.keys(item.defaultRequest ?? {}),
      ...Object.keys(item.min ?? {}),
      ...Object.keys(item.max ?? {}),
      ...Object.keys(item.maxLimitRequestRatio ?? {}),
    ]);
    for (const resource of [...resources].sort()) {
      const pick = (m?: Record<string, IntOrString>) =>
        m?.[resource] !== undefined ? String(m[resource]) : undefined;
      entries.push({
        type: item.type,
        resource,
        defaultLimit: pick(item.default),
        defaultRequest: pick(item.defaultRequest),
        min: pick(item.min),
        max: pick(item.max),
        maxLimitRequestRatio: pick(item.maxLimitRequestRatio),
      });
    }
  }
  return {
    name: range.metadata?.name ?? '',
    namespace: range.metadata?.namespace ?? '',
    entries,
  };
}

/** Requests and limits of one container. @public */
export interface ContainerResources {
  container: string;
  requests: Record<string, string>;
  limits: Record<string, string>;
  /** Values that come from LimitRange defaults because the manifest left them out. */
  fromLimitRangeDefaults: { requests: string[]; limits: string[] };
  /** Requests the API server copied from the container's own limits. */
  requestsFromLimits: string[];
  findings: Finding[];
}

function stringMap(m?: Record<string, IntOrString>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m ?? {})) out[k] = String(v);
  return out;
}

/**
 * Requests and limits per container of a pod template, as the pods will get
 * them: a limit without a request sets the request (pod defaulting), then
 * Container LimitRange defaults fill what is still missing (LimitRanger).
 *
 * @public
 */
export function containerResources(
  template: KubePodTemplateSpec | undefined,
  limitRanges: KubeLimitRange[] = [],
): ContainerResources[] {
  const defaults = { requests: {}, limits: {} } as {
    requests: Record<string, string>;
    limits: Record<string, string>;
  };
  for (const lr of limitRanges) {
    for (const item of lr.spec?.limits ?? []) {
      if (item.type !== 'Container') continue;
      Object.assign(defaults.limits, stringMap(item.default));
      // A LimitRange without defaultRequest uses its default limit as request.
      Object.assign(
        defaults.requests,
        stringMap({ ...item.default, ...item.defaultRequest }),
      );
    }
  }
  return (template?.spec?.containers ?? []).map((c: KubeContainer) => {
    const requests = stringMap(c.resources?.requests);
    const limits = stringMap(c.resources?.limits);
    const fromDefaults = { requests: [] as string[], limits: [] as string[] };
    const requestsFromLimits: string[] = [];
    // Pod defaulting runs first: a limit without a request sets the request.
    for (const [k, v] of Object.entries(limits)) {
      if (requests[k] === undefined) {
        requests[k] = v;
        requestsFromLimits.push(k);
      }
    }
    // Then the LimitRanger admission plugin fills what is still missing.
    for (const [k, v] of Object.entries(defaults.limits)) {
      if (limits[k] === undefined) {
        limits[k] = v;
        fromDefaults.limits.push(k);
      }
    }
    for (const [k, v] of Object.entries(defaults.requests)) {
      if (requests[k] === undefined) {
        requests[k] = v;
        fromDefaults.requests.push(k);
      }
    }
    const findings: Finding[] = [];
    if (limits.memory === undefined) {
      findings.push({
        code: 'no-memory-limit',
        severity: 'warning',
        container: c.name,
        message:
          'No memory limit: the container can use memory until the node runs short, and then any pod on the node may be evicted or OOM-killed.',
      });
    }
    if (requests.cpu === undefined || requests.memory === undefined) {
      findings.push({
        code: 'no-requests',
        severity: 'warning',
        container: c.name,
        message:
          'No CPU or memory request: the scheduler places the pod as if it needed nothing, and it is among the first evicted under pressure (BestEffort/Burstable QoS).',
      });
    }
    const memReq = parseQuantity(requests.memory);
    const memLim = parseQuantity(limits.memory);
    if (memReq !== undefined && memLim !== undefined && memReq > memLim) {
      findings.push({
        code: 'request-above-limit',
        severity: 'error',
        container: c.name,
        message: `Memory request ${requests.memory} is above the limit ${limits.memory}; the API server rejects such pods.`,
      });
    }
    return {
      container: c.name,
      requests,
      limits,
      fromLimitRangeDefaults: fromDefaults,
      requestsFromLimits,
      findings,
    };
  });
}

/** One HPA metric with its target and current value. @public */
export interface HpaMetric {
  type: string;
  /** Metric or resource name, e.g. `cpu` or `requests_per_second`. */
  name: string;
  container?: string;
  describedObject?: string;
  target: string;
  current?: string;
}

/** @public */
export interface HpaSummary {
  name: string;
  namespace: string;
  target: { kind: string; name: string };
  minReplicas: number;
  maxReplicas: number;
  currentReplicas?: number;
  desiredReplicas?: number;
  atMax: boolean;
  metrics: HpaMetric[];
  conditions: {
    type: string;
    status: string;
    reason?: string;
    message?: string;
  }[];
}

function formatTarget(target: KubeMetricTarget, kind: QuantityKind): string {
  if (target.type === 'Utilization') {
    return `${target.averageUtilization ?? '?'}%`;
  }
  const raw =
    target.type === 'AverageValue' ? target.averageValue : target.value;
  const parsed = parseQuantity(raw);
  const text =
    parsed === undefined ? String(raw ?? '?') : formatQuantity(parsed, kind);
  return target.type === 'AverageValue' ? `${text} (average)` : text;
}

function formatCurrent(
  current: KubeMetricValueStatus | undefined,
  target: KubeMetricTarget,
  kind: QuantityKind,
): string | undefined {
  if (!current) return undefined;
  if (
    target.type === 'Utilization' &&
    current.averageUtilization !== undefined
  ) {
    return `${current.averageUtilization}%`;
  }
  const raw =
    target.type === 'Value'
      ? current.value
      : current.averageValue ?? current.value;
  if (raw === undefined) {
    return current.averageUtilization !== undefined
      ? `${current.averageUtilization}%`
      : undefined;
  }
  const parsed = parseQuantity(raw);
  return parsed === undefined ? String(raw) : formatQuantity(parsed, kind);
}

function metricIdentity(m: KubeMetricSpec | KubeMetricStatus): string {
  switch (m.type) {
    case 'Resource':
      return `Resource|${m.resource?.name}`;
    case 'ContainerResource':
      return `ContainerResource|${m.containerResource?.name}|${m.containerResource?.container}`;
    case 'Pods':
      return `Pods|${m.pods?.metric.name}`;
    case 'Object':
      return `Object|${m.object?.metric.name}|${m.object?.describedObject.kind}/${m.object?.describedObject.name}`;
    case 'External':
      return `External|${m.external?.metric.name}`;
    default:
      return m.type;
  }
}

/**
 * Summarises an `autoscaling/v2` HPA: replica bounds, current/desired replicas
 * and, per metric (Resource, ContainerResource, Pods, Object, External), the
 * target against the current value.
 *
 * @public
 */
export function summarizeHpa(hpa: KubeHorizontalPodAutoscaler): HpaSummary {
  const spec = hpa.spec;
  const status = hpa.status ?? {};
  const currentByIdentity = new Map<string, KubeMetricStatus>();
  for (const cm of status.currentMetrics ?? []) {
    currentByIdentity.set(metricIdentity(cm), cm);
  }
  const metrics: HpaMetric[] = (spec?.metrics ?? []).map(m => {
    const current = currentByIdentity.get(metricIdentity(m));
    switch (m.type) {
      case 'Resource': {
        const kind = quantityKind(m.resource!.name);
        return {
          type: m.type,
          name: m.resource!.name,
          target: formatTarget(m.resource!.target, kind),
          current: formatCurrent(
            current?.resource?.current,
            m.resource!.target,
            kind,
          ),
        };
      }
      case 'ContainerResource': {
        const kind = quantityKind(m.containerResource!.name);
        return {
          type: m.type,
          name: m.containerResource!.name,
          container: m.containerResource!.container,
          target: formatTarget(m.containerResource!.target, kind),
          current: formatCurrent(
            current?.containerResource?.current,
            m.containerResource!.target,
            kind,
          ),
        };
      }
      case 'Pods':
        return {
          type: m.type,
          name: m.pods!.metric.name,
          target: formatTarget(m.pods!.target, 'count'),
          current: formatCurrent(
            current?.pods?.current,
            m.pods!.target,
            'count',
          ),
        };
      case 'Object':
        return {
          type: m.type,
          name: m.object!.metric.name,
          describedObject: `${m.object!.describedObject.kind}/${
            m.object!.describedObject.name
          }`,
          target: formatTarget(m.object!.target, 'count'),
          current: formatCurrent(
            current?.object?.current,
            m.object!.target,
            'count',
          ),
        };
      case 'External':
        return {
          type: m.type,
          name: m.external!.metric.name,
          target: formatTarget(m.external!.target, 'count'),
          current: formatCurrent(
            current?.external?.current,
            m.external!.target,
            'count',
          ),
        };
      default:
        return { type: m.type, name: m.type, target: '?' };
    }
  });
  const minReplicas = spec?.minReplicas ?? 1;
  const maxReplicas = spec?.maxReplicas ?? 0;
  return {
    name: hpa.metadata?.name ?? '',
    namespace: hpa.metadata?.namespace ?? '',
    target: {
      kind: spec?.scaleTargetRef.kind ?? '',
      name: spec?.scaleTargetRef.name ?? '',
    },
    minReplicas,
    maxReplicas,
    currentReplicas: status.currentReplicas,
    desiredReplicas: status.desiredReplicas,
    atMax:
      status.currentReplicas !== undefined &&
      maxReplicas > 0 &&
      status.currentReplicas >= maxReplicas,
    metrics,
    conditions: (status.conditions ?? []).map(c => ({
      type: c.type,
      status: c.status,
      reason: c.reason,
      message: c.message,
    })),
  };
}
