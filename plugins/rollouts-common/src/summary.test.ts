import { DeploymentView } from './api';
import { BlueGreenService, detectBlueGreen } from './blueGreen';
import { KubeDeployment, KubePod } from './kube';
import { podHealth } from './probes';
import { summarizeHpa, summarizeQuota } from './resources';
import { deriveRolloutStatus } from './rolloutStatus';
import {
  RESTORE_REPLICAS_ANNOTATION,
  SCALE_DOWN_AT_ANNOTATION,
} from './scaleDown';
import {
  QUOTA_PRESSURE_PERCENT,
  RESTARTS_AT_RISK,
  summarizeCluster,
  summarizeWorkload,
  WORKLOAD_STATE_DISPLAY,
} from './summary';
import { demoDeployment, demoPod, demoService } from './testFixtures';

type Status = KubeDeployment['status'];

/** A settled Deployment's status with `ready` of `replicas` ready. */
function settled(replicas: number, ready = replicas): Status {
  return {
    observedGeneration: 3,
    replicas,
    updatedReplicas: replicas,
    readyReplicas: ready,
    availableReplicas: replicas,
  };
}

/** A pod of the slot whose container `api` has the given status fields. */
function pod(
  suffix: string,
  container: Partial<
    NonNullable<NonNullable<KubePod['status']>['containerStatuses']>[number]
  >,
): KubePod {
  const p = demoPod('blue', suffix);
  const [status] = p.status!.containerStatuses!;
  p.status!.containerStatuses = [{ ...status, ...container }];
  return p;
}

function view(
  deployment: KubeDeployment,
  pods: KubePod[] = [],
  hpaName?: string,
): DeploymentView {
  return {
    cluster: 'local',
    namespace: deployment.metadata!.namespace!,
    name: deployment.metadata!.name!,
    status: deriveRolloutStatus(deployment),
    probes: [],
    resources: [],
    pods: pods.map(podHealth),
    history: [],
    findings: [],
    ...(hpaName && { hpa: hpaName }),
  };
}

const noContext = { quotas: [], hpas: [], blueGreen: [] };

function quota(used: string, hard: string, namespace = 'fastapi-demo') {
  return summarizeQuota({
    metadata: { name: 'compute', namespace },
    status: {
      hard: { 'requests.cpu': hard, pods: '20' },
      used: { 'requests.cpu': used, pods: '4' },
    },
  });
}

function hpa(current: number, max: number, target = 'demo-api-blue') {
  return summarizeHpa({
    metadata: { name: 'demo-api', namespace: 'fastapi-demo' },
    spec: {
      scaleTargetRef: { kind: 'Deployment', name: target },
      minReplicas: 2,
      maxReplicas: max,
    },
    status: { currentReplicas: current, desiredReplicas: current },
  });
}

function pair(
  live: string,
  green: KubeDeployment = demoDeployment('green'),
): BlueGreenService[] {
  return detectBlueGreen({
    services: [demoService(live)],
    deployments: [demoDeployment('blue'), green],
  });
}

describe('summarizeWorkload', () => {
  it('is healthy, with the replica count as its reason, when nothing applies', () => {
    const summary = summarizeWorkload(
      view(demoDeployment('blue'), [pod('a', {}), pod('b', {})]),
      noContext,
    );
    expect(summary).toEqual({
      id: 'local/fastapi-demo/demo-api-blue',
      cluster: 'local',
      namespace: 'fastapi-demo',
      name: 'demo-api-blue',
      state: 'healthy',
      signals: [{ state: 'healthy', text: 'All 2 replicas ready.' }],
      ready: 2,
      desired: 2,
      restarts: 0,
      slots: [],
    });
    expect(
      summarizeWorkload(
        view(demoDeployment('blue', { replicas: 1, status: settled(1) })),
        noContext,
      ).signals,
    ).toEqual([{ state: 'healthy', text: 'All 1 replica ready.' }]);
  });

  describe('rollout status', () => {
    it('fails a rollout past its progress deadline', () => {
      const summary = summarizeWorkload(
        view(
          demoDeployment('blue', {
            status: {
              ...settled(2),
              availableReplicas: 1,
              conditions: [
                {
                  type: 'Progressing',
                  status: 'False',
                  reason: 'ProgressDeadlineExceeded',
                },
              ],
            },
          }),
        ),
        noContext,
      );
      expect(summary.state).toBe('failed');
      expect(summary.signals).toEqual([
        {
          state: 'failed',
          text: 'The rollout exceeded its progress deadline: 1 of 2 replicas available.',
        },
      ]);
    });

    it('says a paused Deployment is paused, even mid-rollout', () => {
      const d = demoDeployment('blue', {
        status: { ...settled(2), updatedReplicas: 1 },
      });
      d.spec!.paused = true;
      const summary = summarizeWorkload(view(d), noContext);
      expect(summary.state).toBe('paused');
      expect(summary.signals).toEqual([
        {
          state: 'paused',
          text: 'The Deployment is paused: template changes wait until it is resumed.',
        },
      ]);
    });

    it.each([
      [
        'the controller has not seen the change',
        2,
        { ...settled(2), observedGeneration: 2 },
        'The Deployment controller has not seen the latest change yet.',
      ],
      [
        'replicas are being updated',
        3,
        { ...settled(3), updatedReplicas: 1 },
        'Rolling out: 1 of 3 replicas updated.',
      ],
      [
        'one old replica terminates',
        2,
        { ...settled(2), replicas: 3 },
        'Rolling out: 1 old replica still terminating.',
      ],
      [
        'old replicas terminate',
        2,
        { ...settled(2), replicas: 4 },
        'Rolling out: 2 old replicas still terminating.',
      ],
      [
        'updated replicas are not yet available',
        2,
        { ...settled(2), availableReplicas: 1 },
        'Rolling out: 1 of 2 updated replicas available.',
      ],
    ])('is progressing while %s', (_, replicas, status, text) => {
      const summary = summarizeWorkload(
        view(demoDeployment('blue', { replicas, status })),
        noContext,
      );
      expect(summary.state).toBe('progressing');
      expect(summary.signals).toEqual([{ state: 'progressing', text }]);
    });

    it('is scaled to zero when it wants no replica', () => {
      const summary = summarizeWorkload(
        view(demoDeployment('green', { replicas: 0, status: settled(0) })),
        noContext,
      );
      expect(summary.state).toBe('scaled-to-zero');
      expect(summary.signals).toEqual([
        { state: 'scaled-to-zero', text: 'Scaled to 0 replicas.' },
      ]);
    });

    it('is degraded when a rolled-out Deployment has fewer ready replicas than desired', () => {
      const summary = summarizeWorkload(
        view(demoDeployment('blue', { status: settled(2, 1) })),
        noContext,
      );
      expect(summary).toMatchObject({ state: 'degraded', ready: 1 });
      expect(summary.signals).toEqual([
        { state: 'degraded', text: 'Only 1 of 2 replicas are ready.' },
      ]);
    });
  });

  describe('pod health', () => {
    const crashing = {
      ready: false,
      restartCount: 1,
      state: { waiting: { reason: 'CrashLoopBackOff' } },
    };

    it('degrades a workload whose pods crash while others serve, counting the pods', () => {
      const summary = summarizeWorkload(
        view(demoDeployment('blue', { replicas: 3, status: settled(3, 1) }), [
          pod('a', crashing),
          pod('b', crashing),
          pod('c', {}),
        ]),
        noContext,
      );
      expect(summary.state).toBe('degraded');
      expect(summary.signals).toEqual([
        { state: 'degraded', text: 'Only 1 of 3 replicas are ready.' },
        {
          state: 'degraded',
          text: 'api keeps crashing (CrashLoopBackOff) in 2 pods.',
        },
      ]);
    });

    it.each([
      [
        'ImagePullBackOff',
        'api cannot pull its image (ImagePullBackOff) in 1 pod.',
      ],
      ['ErrImagePull', 'api cannot pull its image (ErrImagePull) in 1 pod.'],
      ['CrashLoopBackOff', 'api keeps crashing (CrashLoopBackOff) in 1 pod.'],
    ])(
      'fails a workload with no ready replica whose pod is in %s',
      (reason, text) => {
        const summary = summarizeWorkload(
          view(
            demoDeployment('blue', {
              replicas: 1,
              status: { ...settled(1, 0), availableReplicas: 0 },
            }),
            [pod('a', { ready: false, state: { waiting: { reason } } })],
          ),
          noContext,
        );
        expect(summary.state).toBe('failed');
        expect(summary.signals).toContainEqual({ state: 'failed', text });
      },
    );

    it('only degrades a Deployment scaled to zero whose leftover pod is stuck: it need not serve', () => {
      const summary = summarizeWorkload(
        view(demoDeployment('blue', { replicas: 0, status: settled(0) }), [
          pod('a', {
            ready: false,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
          }),
        ]),
        noContext,
      );
      expect(summary.state).toBe('degraded');
      expect(summary.signals).toEqual([
        {
          state: 'degraded',
          text: 'api keeps crashing (CrashLoopBackOff) in 1 pod.',
        },
        { state: 'scaled-to-zero', text: 'Scaled to 0 replicas.' },
      ]);
    });

    it('does not count a container waiting for another reason as stuck', () => {
      const summary = summarizeWorkload(
        view(demoDeployment('blue'), [
          pod('a', { state: { waiting: { reason: 'ContainerCreating' } } }),
        ]),
        noContext,
      );
      expect(summary.state).toBe('healthy');
    });

    it('puts a workload at risk when a container was OOMKilled or SIGKILLed in its last run', () => {
      const summary = summarizeWorkload(
        view(demoDeployment('blue'), [
          pod('a', {
            restartCount: 1,
            lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
          }),
          pod('b', {
            restartCount: 1,
            lastState: { terminated: { exitCode: 137, reason: 'Error' } },
          }),
          pod('c', {
            restartCount: 0,
            lastState: { terminated: { exitCode: 0, reason: 'Completed' } },
          }),
        ]),
        noContext,
      );
      expect(summary.state).toBe('at-risk');
      expect(summary.signals).toEqual([
        {
          state: 'at-risk',
          text: 'api was OOMKilled in its last run in 1 pod.',
        },
        {
          state: 'at-risk',
          text: 'api was killed (exit 137) in its last run in 1 pod.',
        },
      ]);
    });
  });

  describe('restarts', () => {
    it(`sums restarts over pods and puts the workload at risk from ${RESTARTS_AT_RISK}`, () => {
      const atThreshold = summarizeWorkload(
        view(demoDeployment('blue'), [
          pod('a', { restartCount: 2 }),
          pod('b', { restartCount: 1 }),
        ]),
        noContext,
      );
      expect(atThreshold).toMatchObject({ restarts: 3, state: 'at-risk' });
      expect(atThreshold.signals).toEqual([
        { state: 'at-risk', text: 'Containers restarted 3 times.' },
      ]);
    });

    it('shows fewer restarts without changing the state', () => {
      const below = summarizeWorkload(
        view(demoDeployment('blue'), [pod('a', { restartCount: 2 })]),
        noContext,
      );
      expect(below).toMatchObject({ restarts: 2, state: 'healthy' });
    });
  });

  describe('quota pressure', () => {
    it(`puts the workload at risk from ${QUOTA_PRESSURE_PERCENT}% of a quota in its namespace`, () => {
      const summary = summarizeWorkload(view(demoDeployment('blue')), {
        ...noContext,
        quotas: [quota('1800m', '2')],
      });
      expect(summary.quota).toEqual({
        quota: 'compute',
        resource: 'requests.cpu',
        used: '1800m',
        hard: '2',
        percent: 90,
        pressure: true,
      });
      expect(summary.state).toBe('at-risk');
      expect(summary.signals).toEqual([
        {
          state: 'at-risk',
          text: 'Quota compute: requests.cpu 90% used (1800m of 2), a rollout or scale-up may not fit.',
        },
      ]);
    });

    it('says a full quota lets no bigger pod start', () => {
      const summary = summarizeWorkload(view(demoDeployment('blue')), {
        ...noContext,
        quotas: [quota('2', '2')],
      });
      expect(summary.signals[0].text).toBe(
        'Quota compute: requests.cpu 100% used (2 of 2), no pod that needs more can start.',
      );
    });

    it('shows the most used resource below the threshold without a signal', () => {
      const summary = summarizeWorkload(view(demoDeployment('blue')), {
        ...noContext,
        quotas: [quota('1790m', '2')],
      });
      expect(summary.quota).toMatchObject({
        resource: 'requests.cpu',
        percent: 89.5,
        pressure: false,
      });
      expect(summary.state).toBe('healthy');
    });

    it('keeps the first of equally used resources and ignores unlimited ones', () => {
      const q = summarizeQuota({
        metadata: { name: 'compute', namespace: 'fastapi-demo' },
        status: {
          hard: { 'limits.cpu': '4', 'requests.cpu': '2', services: '0' },
          used: { 'limits.cpu': '2', 'requests.cpu': '1', services: '0' },
        },
      });
      const summary = summarizeWorkload(view(demoDeployment('blue')), {
        ...noContext,
        quotas: [q],
      });
      expect(summary.quota).toMatchObject({
        resource: 'limits.cpu',
        percent: 50,
      });
    });

    it('ignores quotas of other namespaces', () => {
      const summary = summarizeWorkload(view(demoDeployment('blue')), {
        ...noContext,
        quotas: [quota('2', '2', 'other')],
      });
      expect(summary.quota).toBeUndefined();
      expect(summary.state).toBe('healthy');
    });
  });

  describe('autoscaling', () => {
    it('puts a workload whose HPA is at its maximum at risk', () => {
      const summary = summarizeWorkload(view(demoDeployment('blue')), {
        ...noContext,
        hpas: [hpa(5, 5)],
      });
      expect(summary.hpa).toEqual({
        name: 'demo-api',
        atMax: true,
        maxReplicas: 5,
      });
      expect(summary.signals).toEqual([
        {
          state: 'at-risk',
          text: 'HPA demo-api is at its maximum of 5 replicas: more load cannot be absorbed.',
        },
      ]);
    });

    it('names an HPA below its maximum without a signal', () => {
      const summary = summarizeWorkload(view(demoDeployment('blue')), {
        ...noContext,
        hpas: [hpa(3, 5)],
      });
      expect(summary.hpa).toEqual({
        name: 'demo-api',
        atMax: false,
        maxReplicas: 5,
      });
      expect(summary.state).toBe('healthy');
    });

    it("finds the HPA by the view's name when it targets another kind", () => {
      const other = hpa(5, 5, 'something-else');
      other.target.kind = 'StatefulSet';
      expect(
        summarizeWorkload(view(demoDeployment('blue'), [], 'demo-api'), {
          ...noContext,
          hpas: [other],
        }).hpa?.name,
      ).toBe('demo-api');
      expect(
        summarizeWorkload(view(demoDeployment('blue')), {
          ...noContext,
          hpas: [other],
        }).hpa,
      ).toBeUndefined();
    });

    it('ignores an HPA of another namespace, Deployment or kind', () => {
      const elsewhere = { ...hpa(5, 5), namespace: 'other' };
      const statefulSet = hpa(5, 5);
      statefulSet.target.kind = 'StatefulSet';
      expect(
        summarizeWorkload(view(demoDeployment('blue')), {
          ...noContext,
          hpas: [statefulSet],
        }).hpa,
      ).toBeUndefined();
      expect(
        summarizeWorkload(view(demoDeployment('blue')), {
          ...noContext,
          hpas: [elsewhere, hpa(5, 5, 'demo-api-green')],
        }).hpa,
      ).toBeUndefined();
    });
  });

  describe('blue-green slot', () => {
    it('names the live and the idle slot of the pair', () => {
      const blueGreen = pair('blue');
      const blue = summarizeWorkload(view(demoDeployment('blue')), {
        ...noContext,
        blueGreen,
      });
      const green = summarizeWorkload(view(demoDeployment('green')), {
        ...noContext,
        blueGreen,
      });
      expect(blue.slots).toEqual([
        { service: 'demo-api', slot: 'blue', live: true },
      ]);
      expect(green.slots).toEqual([
        { service: 'demo-api', slot: 'green', live: false },
      ]);
      expect(blue.state).toBe('healthy');
    });

    it('gives the scheduled scale-down of an idle slot', () => {
      const green = demoDeployment('green');
      green.metadata!.annotations = {
        ...green.metadata!.annotations,
        [SCALE_DOWN_AT_ANNOTATION]: '2026-11-29T12:00:00Z',
        [RESTORE_REPLICAS_ANNOTATION]: '2',
      };
      expect(
        summarizeWorkload(view(green), {
          ...noContext,
          blueGreen: pair('blue', green),
        }).slots,
      ).toEqual([
        {
          service: 'demo-api',
          slot: 'green',
          live: false,
          scaleDown: {
            state: 'scheduled',
            at: '2026-11-29T12:00:00Z',
            replicas: 2,
          },
        },
      ]);
    });

    it('degrades the live slot when it is not ready for traffic, before its own state, not the idle one', () => {
      const green = demoDeployment('green');
      green.spec!.paused = true;
      const live = summarizeWorkload(view(green), {
        ...noContext,
        blueGreen: pair('green', green),
      });
      const paused = {
        state: 'paused',
        text: 'The Deployment is paused: template changes wait until it is resumed.',
      };
      expect(live.state).toBe('degraded');
      expect(live.signals).toEqual([
        {
          state: 'degraded',
          text: 'Live slot green of Service demo-api is not ready for traffic: the Deployment is paused.',
        },
        paused,
      ]);
      const idle = summarizeWorkload(view(green), {
        ...noContext,
        blueGreen: pair('blue', green),
      });
      expect(idle.state).toBe('paused');
      expect(idle.signals).toEqual([paused]);
    });

    it('ignores pairs of other namespaces', () => {
      const [bg] = pair('blue');
      expect(
        summarizeWorkload(view(demoDeployment('blue')), {
          ...noContext,
          blueGreen: [{ ...bg, namespace: 'other' }],
        }).slots,
      ).toEqual([]);
    });
  });

  it('takes the worst state and lists every reason, worst first', () => {
    const summary = summarizeWorkload(
      view(demoDeployment('blue', { status: settled(2, 1) }), [
        pod('a', { restartCount: 4 }),
      ]),
      { ...noContext, quotas: [quota('2', '2')], hpas: [hpa(5, 5)] },
    );
    expect(summary.state).toBe('degraded');
    expect(summary.signals.map(s => s.state)).toEqual([
      'degraded',
      'at-risk',
      'at-risk',
      'at-risk',
    ]);
    expect(summary.signals[1].text).toBe('Containers restarted 4 times.');
  });
});

describe('summarizeCluster', () => {
  it('puts the workloads that need attention first, then orders by namespace and name', () => {
    const rows = summarizeCluster({
      cluster: 'local',
      state: 'ok',
      writes: { mode: 'plugin' },
      deployments: [
        view(demoDeployment('zeta')),
        view(demoDeployment('green', { replicas: 0, status: settled(0) })),
        view(demoDeployment('alpha')),
        view(demoDeployment('blue', { status: settled(2, 1) })),
        { ...view(demoDeployment('alpha')), namespace: 'a-first' },
        view(
          demoDeployment('red', {
            status: {
              ...settled(2),
              conditions: [
                {
                  type: 'Progressing',
                  status: 'False',
                  reason: 'ProgressDeadlineExceeded',
                },
              ],
            },
          }),
        ),
      ],
      blueGreen: [],
      quotas: [],
      limitRanges: [],
      hpas: [],
      warningEvents: [],
    });
    expect(rows.map(r => [r.state, r.namespace, r.name])).toEqual([
      ['failed', 'fastapi-demo', 'demo-api-red'],
      ['degraded', 'fastapi-demo', 'demo-api-blue'],
      ['scaled-to-zero', 'fastapi-demo', 'demo-api-green'],
      ['healthy', 'a-first', 'demo-api-alpha'],
      ['healthy', 'fastapi-demo', 'demo-api-alpha'],
      ['healthy', 'fastapi-demo', 'demo-api-zeta'],
    ]);
  });
});

describe('WORKLOAD_STATE_DISPLAY', () => {
  it('labels each state and colours failing states as danger, risks as warning and health as success', () => {
    expect(
      Object.fromEntries(
        Object.entries(WORKLOAD_STATE_DISPLAY).map(([s, d]) => [
          s,
          `${d.label} (${d.tone})`,
        ]),
      ),
    ).toEqual({
      failed: 'Failed (danger)',
      degraded: 'Degraded (danger)',
      progressing: 'Progressing (info)',
      paused: 'Paused (warning)',
      'at-risk': 'At risk (warning)',
      'scaled-to-zero': 'Scaled to zero (neutral)',
      healthy: 'Healthy (success)',
    });
  });
});
