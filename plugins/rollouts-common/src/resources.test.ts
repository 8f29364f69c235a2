import {
  KubeHorizontalPodAutoscaler,
  KubeLimitRange,
  KubeMetricTarget,
  KubeMetricValueStatus,
  KubeResourceQuota,
} from './kube';
import {
  containerResources,
  summarizeHpa,
  summarizeLimitRange,
  summarizeQuota,
} from './resources';
import { demoDeployment } from './testFixtures';

const quota: KubeResourceQuota = {
  apiVersion: 'v1',
  kind: 'ResourceQuota',
  metadata: { name: 'fastapi-demo-quota', namespace: 'fastapi-demo' },
  spec: {
    hard: {
      'requests.cpu': '2',
      'requests.memory': '2Gi',
      'limits.cpu': '4',
      'limits.memory': '4Gi',
      pods: '20',
    },
  },
  status: {
    hard: {
      'requests.cpu': '2',
      'requests.memory': '2Gi',
      'limits.cpu': '4',
      'limits.memory': '4Gi',
      pods: '20',
    },
    used: {
      'requests.cpu': '1500m',
      'requests.memory': '1536Mi',
      'limits.cpu': '3750m',
      'limits.memory': '3Gi',
      pods: '7',
    },
  },
};

const limitRange: KubeLimitRange = {
  apiVersion: 'v1',
  kind: 'LimitRange',
  metadata: { name: 'fastapi-demo-defaults', namespace: 'fastapi-demo' },
  spec: {
    limits: [
      {
        type: 'Container',
        default: { cpu: '500m', memory: '512Mi' },
        defaultRequest: { cpu: '100m', memory: '128Mi' },
        max: { cpu: '1', memory: '1Gi' },
        min: { cpu: '10m', memory: '16Mi' },
      },
      { type: 'PersistentVolumeClaim', max: { storage: '10Gi' } },
    ],
  },
};

describe('summarizeQuota', () => {
  it('computes used/hard percentages per resource with quantity parsing', () => {
    const summary = summarizeQuota(quota);
    expect(summary.name).toBe('fastapi-demo-quota');
    const byName = Object.fromEntries(summary.usages.map(u => [u.resource, u]));
    expect(byName['requests.cpu']).toMatchObject({
      used: '1500m',
      hard: '2',
      usedValue: 1.5,
      hardValue: 2,
      percent: 75,
      kind: 'cpu',
    });
    expect(byName['requests.memory'].percent).toBe(75);
    expect(byName['limits.cpu'].percent).toBe(93.8);
    expect(byName['limits.memory']).toMatchObject({
      percent: 75,
      kind: 'bytes',
    });
    expect(byName.pods).toMatchObject({ percent: 35, kind: 'count' });
  });

  it('treats missing usage as zero and a zero hard limit as no percentage', () => {
    const summary = summarizeQuota({
      metadata: { name: 'q', namespace: 'n' },
      spec: { hard: { 'count/secrets': '0', services: '5' } },
      status: { hard: { 'count/secrets': '0', services: '5' }, used: {} },
    });
    expect(summary.usages).toEqual([
      expect.objectContaining({
        resource: 'count/secrets',
        percent: undefined,
      }),
      expect.objectContaining({ resource: 'services', used: '0', percent: 0 }),
    ]);
  });
});

describe('summarizeQuota of what the quota controller has not seen yet', () => {
  it('takes the enforced hard limits from the status, sorted, and keeps the scopes', () => {
    const summary = summarizeQuota({
      spec: {
        hard: { pods: '20', 'limits.cpu': '8' },
        scopes: ['NotTerminating'],
      },
      status: { hard: { pods: '10', 'limits.cpu': '4' }, used: {} },
    });
    expect(summary).toMatchObject({
      name: '',
      namespace: '',
      scopes: ['NotTerminating'],
    });
    expect(summary.usages.map(u => [u.resource, u.hard])).toEqual([
      ['limits.cpu', '4'],
      ['pods', '10'],
    ]);
    expect(summarizeQuota(quota)).not.toHaveProperty('scopes');
  });
});

describe('summarizeLimitRange', () => {
  it('flattens a LimitRange into rows per type and resource', () => {
    expect(summarizeLimitRange(limitRange).entries).toEqual([
      {
        type: 'Container',
        resource: 'cpu',
        defaultLimit: '500m',
        defaultRequest: '100m',
        min: '10m',
        max: '1',
        maxLimitRequestRatio: undefined,
      },
      {
        type: 'Container',
        resource: 'memory',
        defaultLimit: '512Mi',
        defaultRequest: '128Mi',
        min: '16Mi',
        max: '1Gi',
        maxLimitRequestRatio: undefined,
      },
      {
        type: 'PersistentVolumeClaim',
        resource: 'storage',
        defaultLimit: undefined,
        defaultRequest: undefined,
        min: undefined,
        max: '10Gi',
        maxLimitRequestRatio: undefined,
      },
    ]);
  });

  it('sorts the resources of a type and reads an empty LimitRange', () => {
    const summary = summarizeLimitRange({
      spec: {
        limits: [
          { type: 'Container', min: { memory: '16Mi' }, max: { cpu: '1' } },
        ],
      },
    });
    expect(summary.entries.map(e => e.resource)).toEqual(['cpu', 'memory']);
    expect(summarizeLimitRange({})).toEqual({
      name: '',
      namespace: '',
      entries: [],
    });
  });
});

describe('containerResources', () => {
  it('shows what the manifest sets', () => {
    const [api] = containerResources(demoDeployment('blue').spec!.template, [
      limitRange,
    ]);
    expect(api).toMatchObject({
      container: 'api',
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '250m', memory: '256Mi' },
      fromLimitRangeDefaults: { requests: [], limits: [] },
      findings: [],
    });
  });

  it('fills in LimitRange defaults like the admission plugin and flags gaps', () => {
    const template = {
      spec: {
        containers: [
          { name: 'a', resources: { limits: { memory: '1Gi' } } },
          { name: 'b' },
        ],
      },
    };
    const [a, b] = containerResources(template, [limitRange]);
    expect(a.limits).toEqual({ memory: '1Gi', cpu: '500m' });
    // A container's own limit becomes its request before LimitRange defaults
    // apply, so memory is 1Gi, not the defaultRequest 128Mi.
    expect(a.requests).toEqual({ cpu: '100m', memory: '1Gi' });
    expect(a.requestsFromLimits).toEqual(['memory']);
    expect(a.fromLimitRangeDefaults).toEqual({
      limits: ['cpu'],
      requests: ['cpu'],
    });
    expect(b.limits).toEqual({ cpu: '500m', memory: '512Mi' });
    expect(b.requests).toEqual({ cpu: '100m', memory: '128Mi' });

    // Without defaultRequest the LimitRange's default limit is the request.
    const [, c] = containerResources(template, [
      {
        spec: { limits: [{ type: 'Container', default: { memory: '300Mi' } }] },
      },
    ]);
    expect(c.requests).toEqual({ memory: '300Mi' });

    const [bare] = containerResources(template, []);
    expect(bare.requests).toEqual({ memory: '1Gi' });
    expect(bare.findings.map(f => f.code)).toEqual(['no-requests']);
    const [, none] = containerResources(template, []);
    expect(none.findings.map(f => f.code)).toEqual([
      'no-memory-limit',
      'no-requests',
    ]);
  });

  it('applies only Container defaults, and has no container without a template', () => {
    const [c] = containerResources({ spec: { containers: [{ name: 'c' }] } }, [
      {
        spec: {
          limits: [{ type: 'Pod', default: { memory: '2Gi' } }],
        },
      },
      {},
    ]);
    expect(c.limits).toEqual({});
    expect(containerResources(undefined, [limitRange])).toEqual([]);
  });

  it('flags a memory request above the limit', () => {
    const [c] = containerResources({
      spec: {
        containers: [
          {
            name: 'c',
            resources: {
              requests: { cpu: '1', memory: '2Gi' },
              limits: { memory: '1Gi' },
            },
          },
        ],
      },
    });
    expect(c.findings).toEqual([
      {
        code: 'request-above-limit',
        severity: 'error',
        container: 'c',
        message:
          'Memory request 2Gi is above the limit 1Gi; the API server rejects such pods.',
      },
    ]);
  });

  it('says what a missing limit or request risks', () => {
    const [c] = containerResources({ spec: { containers: [{ name: 'c' }] } });
    expect(c.findings).toEqual([
      {
        code: 'no-memory-limit',
        severity: 'warning',
        container: 'c',
        message:
          'No memory limit: the container can use memory until the node runs short, and then any pod on the node may be evicted or OOM-killed.',
      },
      {
        code: 'no-requests',
        severity: 'warning',
        container: 'c',
        message:
          'No CPU or memory request: the scheduler places the pod as if it needed nothing, and it is among the first evicted under pressure (BestEffort/Burstable QoS).',
      },
    ]);
    const [cpuOnly] = containerResources({
      spec: {
        containers: [
          {
            name: 'c',
            resources: { requests: { cpu: '1' }, limits: { memory: '1Gi' } },
          },
        ],
      },
    });
    // The limit becomes the memory request (as the API server defaults it).
    expect(cpuOnly.findings).toEqual([]);
    const [noMemory] = containerResources({
      spec: {
        containers: [{ name: 'c', resources: { requests: { cpu: '1' } } }],
      },
    });
    expect(noMemory.findings.map(f => f.code)).toEqual([
      'no-memory-limit',
      'no-requests',
    ]);
  });
});

describe('summarizeHpa', () => {
  const hpa: KubeHorizontalPodAutoscaler = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'demo-web', namespace: 'fastapi-demo' },
    spec: {
      scaleTargetRef: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'demo-web',
      },
      minReplicas: 2,
      maxReplicas: 6,
      metrics: [
        {
          type: 'Resource',
          resource: {
            name: 'cpu',
            target: { type: 'Utilization', averageUtilization: 70 },
          },
        },
        {
          type: 'ContainerResource',
          containerResource: {
            name: 'memory',
            container: 'api',
            target: { type: 'AverageValue', averageValue: '400Mi' },
          },
        },
        {
          type: 'Pods',
          pods: {
            metric: { name: 'requests_per_second' },
            target: { type: 'AverageValue', averageValue: '100' },
          },
        },
        {
          type: 'Object',
          object: {
            describedObject: {
              apiVersion: 'networking.k8s.io/v1',
              kind: 'Ingress',
              name: 'demo-web',
            },
            metric: { name: 'requests-per-second' },
            target: { type: 'Value', value: '2k' },
          },
        },
        {
          type: 'External',
          external: {
            metric: {
              name: 'queue_messages_ready',
              selector: { matchLabels: { queue: 'jobs' } },
            },
            target: { type: 'AverageValue', averageValue: '30' },
          },
        },
      ],
    },
    status: {
      currentReplicas: 6,
      desiredReplicas: 6,
      currentMetrics: [
        {
          type: 'Resource',
          resource: {
            name: 'cpu',
            current: { averageUtilization: 91, averageValue: '228m' },
          },
        },
        {
          type: 'ContainerResource',
          containerResource: {
            name: 'memory',
            container: 'api',
            current: { averageValue: '314572800' },
          },
        },
        {
          type: 'Pods',
          pods: {
            metric: { name: 'requests_per_second' },
            current: { averageValue: '131' },
          },
        },
        {
          type: 'Object',
          object: {
            describedObject: { kind: 'Ingress', name: 'demo-web' },
            metric: { name: 'requests-per-second' },
            current: { value: '2500' },
          },
        },
      ],
      conditions: [
        { type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale' },
        {
          type: 'ScalingLimited',
          status: 'True',
          reason: 'TooManyReplicas',
          message:
            'the desired replica count is more than the maximum replica count',
        },
      ],
    },
  };

  it('summarises replicas and every metric type with target and current value', () => {
    const s = summarizeHpa(hpa);
    expect(s).toMatchObject({
      name: 'demo-web',
      target: { kind: 'Deployment', name: 'demo-web' },
      minReplicas: 2,
      maxReplicas: 6,
      currentReplicas: 6,
      desiredReplicas: 6,
      atMax: true,
    });
    expect(s.metrics).toEqual([
      { type: 'Resource', name: 'cpu', target: '70%', current: '91%' },
      {
        type: 'ContainerResource',
        name: 'memory',
        container: 'api',
        target: '400Mi (average)',
        current: '300Mi',
      },
      {
        type: 'Pods',
        name: 'requests_per_second',
        target: '100 (average)',
        current: '131',
      },
      {
        type: 'Object',
        name: 'requests-per-second',
        describedObject: 'Ingress/demo-web',
        target: '2000',
        current: '2500',
      },
      {
        type: 'External',
        name: 'queue_messages_ready',
        target: '30 (average)',
        current: undefined,
      },
    ]);
    expect(s.conditions.map(c => c.reason)).toEqual([
      'ReadyForNewScale',
      'TooManyReplicas',
    ]);
  });

  it('matches every current value to its own metric, also between metrics of one type', () => {
    const target = { type: 'AverageValue', averageValue: '1' } as const;
    const object = (kind: string, name: string) => ({
      describedObject: { kind, name },
      metric: { name: 'hits' },
    });
    const s = summarizeHpa({
      metadata: { name: 'h', namespace: 'n' },
      spec: {
        scaleTargetRef: { kind: 'Deployment', name: 'd' },
        maxReplicas: 4,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target } },
          { type: 'Resource', resource: { name: 'memory', target } },
          {
            type: 'ContainerResource',
            containerResource: { name: 'cpu', container: 'api', target },
          },
          {
            type: 'ContainerResource',
            containerResource: { name: 'cpu', container: 'proxy', target },
          },
          { type: 'Pods', pods: { metric: { name: 'a' }, target } },
          { type: 'Pods', pods: { metric: { name: 'b' }, target } },
          { type: 'Object', object: { ...object('Ingress', 'x'), target } },
          { type: 'Object', object: { ...object('Ingress', 'y'), target } },
          { type: 'Object', object: { ...object('Service', 'x'), target } },
          { type: 'External', external: { metric: { name: 'q1' }, target } },
          { type: 'External', external: { metric: { name: 'q2' }, target } },
        ],
      },
      status: {
        currentMetrics: [
          {
            type: 'External',
            external: {
              metric: { name: 'q2' },
              current: { averageValue: '12' },
            },
          },
          {
            type: 'External',
            external: {
              metric: { name: 'q1' },
              current: { averageValue: '11' },
            },
          },
          {
            type: 'Object',
            object: {
              ...object('Service', 'x'),
              current: { averageValue: '10' },
            },
          },
          {
            type: 'Object',
            object: {
              ...object('Ingress', 'y'),
              current: { averageValue: '9' },
            },
          },
          {
            type: 'Object',
            object: {
              ...object('Ingress', 'x'),
              current: { averageValue: '8' },
            },
          },
          {
            type: 'Pods',
            pods: { metric: { name: 'b' }, current: { averageValue: '7' } },
          },
          {
            type: 'Pods',
            pods: { metric: { name: 'a' }, current: { averageValue: '6' } },
          },
          {
            type: 'ContainerResource',
            containerResource: {
              name: 'cpu',
              container: 'proxy',
              current: { averageValue: '5' },
            },
          },
          {
            type: 'ContainerResource',
            containerResource: {
              name: 'cpu',
              container: 'api',
              current: { averageValue: '4' },
            },
          },
          {
            type: 'Resource',
            resource: { name: 'memory', current: { averageValue: '3' } },
          },
          {
            type: 'Resource',
            resource: { name: 'cpu', current: { averageValue: '2' } },
          },
        ],
      },
    });
    expect(s.metrics.map(m => m.current)).toEqual([
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
      '8',
      '9',
      '10',
      '11',
      '12',
    ]);
  });

  it('shows targets and current values however the HPA states them', () => {
    const pods = (name: string, target: KubeMetricTarget) => ({
      type: 'Pods' as const,
      pods: { metric: { name }, target },
    });
    const podsNow = (name: string, current: KubeMetricValueStatus) => ({
      type: 'Pods' as const,
      pods: { metric: { name }, current },
    });
    const s = summarizeHpa({
      spec: {
        scaleTargetRef: { kind: 'Deployment', name: 'd' },
        maxReplicas: 4,
        metrics: [
          // Utilization target, the current value only as an average
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization' } },
          },
          // Value target: the current value, not the average
          pods('a', { type: 'Value', value: 'lots' }),
          // Average target, only a utilization reported
          pods('b', { type: 'AverageValue' }),
          pods('c', { type: 'AverageValue', averageValue: '5' }),
          // An average target: the average value, even when a utilization is reported
          pods('d', { type: 'AverageValue', averageValue: '5' }),
        ],
      },
      status: {
        currentMetrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', current: { averageValue: '250m' } },
          },
          podsNow('a', { value: 'many', averageValue: '3' }),
          podsNow('b', { averageUtilization: 40 }),
          podsNow('c', {}),
          podsNow('d', { averageValue: '6', averageUtilization: 40 }),
        ],
      },
    });
    expect(s.metrics.map(m => [m.target, m.current])).toEqual([
      ['?%', '250m'],
      ['lots', 'many'],
      ['? (average)', '40%'],
      ['5 (average)', undefined],
      ['5 (average)', '6'],
    ]);
    expect(s.conditions).toEqual([]);
    expect(s).toMatchObject({ name: '', namespace: '', atMax: false });
  });

  it('shows a metric type it does not know by its name', () => {
    // A newer API version's metric type, as read from JSON.
    const metrics = JSON.parse('[{ "type": "Future" }]');
    expect(
      summarizeHpa({
        spec: {
          scaleTargetRef: { kind: 'Deployment', name: 'd' },
          maxReplicas: 2,
          metrics,
        },
        status: { currentMetrics: metrics },
      }).metrics,
    ).toEqual([{ type: 'Future', name: 'Future', target: '?' }]);
  });

  it('is at max only with a maximum and a current count', () => {
    const at = (maxReplicas: number, currentReplicas?: number) =>
      summarizeHpa({
        spec: {
          scaleTargetRef: { kind: 'Deployment', name: 'd' },
          maxReplicas,
        },
        status: { currentReplicas },
      }).atMax;
    expect(at(4, 4)).toBe(true);
    expect(at(4, 3)).toBe(false);
    expect(at(0, 0)).toBe(false);
    expect(at(4)).toBe(false);
  });

  it('defaults minReplicas to 1 and is not at max below it', () => {
    const s = summarizeHpa({
      metadata: { name: 'h', namespace: 'n' },
      spec: {
        scaleTargetRef: { kind: 'Deployment', name: 'd' },
        maxReplicas: 4,
      },
      status: { currentReplicas: 1, desiredReplicas: 1 },
    });
    expect(s.minReplicas).toBe(1);
    expect(s.atMax).toBe(false);
    expect(s.metrics).toEqual([]);
  });
});
