import { validate as validateJson } from 'jsonschema';
import { actionContext } from '../testUtils/actionContext';
import {
  FakeKubeCluster,
  WorkloadSnapshot,
} from '../testUtils/fakeKubeCluster';
import {
  crashLoopBackOff,
  deployment,
  imagePullBackOff,
  pod,
  progressDeadlineExceeded,
  quotaExceeded,
  replicaSet,
} from '../testUtils/workloads';
import { createKubernetesWaitAction } from './kubernetesWait';

describe('golden-path:kubernetes:wait', () => {
  let cluster: FakeKubeCluster;
  let connect: jest.Mock;
  /** The action's clock: real time unless a test moves it per poll. */
  let clock: () => number;

  beforeEach(() => {
    cluster = new FakeKubeCluster();
    connect = jest.fn(async () => cluster);
    clock = Date.now;
  });

  const action = () =>
    createKubernetesWaitAction({
      connect,
      pollIntervalMs: 5,
      now: () => clock(),
    });

  /** Makes every poll take `stepMs` on the action's clock. */
  function pollsTake(stepMs: number) {
    let time = 0;
    clock = () => time;
    cluster.onPoll = () => {
      time += stepMs;
    };
  }

  function run(
    snapshots: WorkloadSnapshot[],
    input: Partial<{
      deployments: string[];
      timeoutSeconds: number;
      failFastAfterSeconds: number;
    }> = {},
    overrides: { isDryRun?: boolean; signal?: AbortSignal } = {},
  ) {
    cluster.snapshots = snapshots;
    const context = actionContext(
      {
        namespace: 'shop',
        timeoutSeconds: 5,
        failFastAfterSeconds: 0,
        ...input,
      },
      overrides,
    );
    return { ...context, promise: action().handler(context.ctx) };
  }

  const stuck = (extra: Partial<WorkloadSnapshot>): WorkloadSnapshot => ({
    deployments: [deployment('web', { available: 0 })],
    replicaSets: [replicaSet('web')],
    ...extra,
  });

  it('waits until every Deployment is rolled out, logging each step as kubectl does', async () => {
    const { promise, messages, outputs } = run([
      {
        deployments: [
          deployment('web', { generation: 2, observedGeneration: 1 }),
        ],
      },
      {
        deployments: [
          deployment('web', { replicas: 2, updated: 1, available: 0 }),
          deployment('api'),
        ],
      },
      {
        deployments: [
          deployment('web', { replicas: 2, updated: 2, available: 1 }),
          deployment('api'),
        ],
      },
      { deployments: [deployment('web', { replicas: 2 }), deployment('api')] },
    ]);
    await expect(promise).resolves.toBeUndefined();
    expect(messages('info')).toEqual([
      'Waiting up to 5 s for every Deployment in namespace shop to roll out',
      'Waiting for deployment spec update to be observed...',
      'Waiting for deployment "web" rollout to finish: 1 out of 2 new replicas have been updated...',
      'deployment "api" successfully rolled out',
      'Waiting for deployment "web" rollout to finish: 1 of 2 updated replicas are available...',
      'deployment "web" successfully rolled out',
      expect.stringMatching(
        /^Rolled out in \d+ s: deployment\/web, deployment\/api$/,
      ),
    ]);
    expect(outputs()).toEqual({ deployments: ['web', 'api'] });
  });

  it.each([
    [
      'ImagePullBackOff',
      stuck({ pods: [pod('web', imagePullBackOff)] }),
      /container app: The image cannot be pulled: Back-off pulling image "acme\/web:9\.9\.9": not found/,
    ],
    [
      'ErrImagePull',
      stuck({
        pods: [
          pod('web', {
            state: {
              waiting: { reason: 'ErrImagePull', message: 'manifest unknown' },
            },
          }),
        ],
      }),
      /manifest unknown/,
    ],
    [
      'CrashLoopBackOff',
      stuck({ pods: [pod('web', crashLoopBackOff)] }),
      /Container keeps exiting/,
    ],
    [
      'QuotaExceeded',
      stuck({ replicaSets: [replicaSet('web', [quotaExceeded])] }),
      /exceeded quota: shop-quota/,
    ],
  ])(
    'fails with %s and the reason in the words of the cluster',
    async (reason, snapshot, detail) => {
      const { promise, messages } = run([snapshot]);
      const error = await promise.catch(e => e);
      expect(error.name).toBe('RolloutNotConvergedError');
      expect(error.message).toMatch(
        new RegExp(
          `^deployment/web cannot roll out in namespace shop: ${reason}\\n- deployment/web: ${reason} \\(`,
        ),
      );
      expect(error.message).toMatch(detail);
      // The blocker was in the task log as soon as it was seen.
      expect(messages('warn')).toEqual([
        expect.stringContaining(`deployment/web: ${reason} (`),
      ]);
    },
  );

  it('fails at once when the progress deadline passed, as kubectl rollout status does', async () => {
    const { promise } = run(
      [
        {
          deployments: [
            deployment('web', {
              available: 0,
              conditions: [progressDeadlineExceeded],
            }),
          ],
        },
      ],
      { failFastAfterSeconds: 60 },
    );
    await expect(promise).rejects.toThrow(
      /^deployment\/web exceeded the progress deadline in namespace shop: ProgressDeadlineExceeded\n- deployment\/web: ProgressDeadlineExceeded \(deployment\/web\): deployment "web" exceeded its progress deadline/,
    );
  });

  it('gives a blocker failFastAfterSeconds to clear, and starts over when it does', async () => {
    pollsTake(10_000);
    const pulling = stuck({ pods: [pod('web', imagePullBackOff)] });
    // 50 s of ImagePullBackOff, cleared, 50 s again: never 60 s in a row.
    const flapping = run(
      [
        ...Array(6).fill(pulling),
        stuck({}),
        ...Array(6).fill(pulling),
        { deployments: [deployment('web')] },
      ],
      { failFastAfterSeconds: 60, timeoutSeconds: 300 },
    );
    await expect(flapping.promise).resolves.toBeUndefined();
    expect(flapping.outputs()).toEqual({ deployments: ['web'] });

    // The same image error without a pause fails once it has lasted 60 s.
    const persistent = run([pulling], {
      failFastAfterSeconds: 60,
      timeoutSeconds: 300,
    });
    await expect(persistent.promise).rejects.toThrow(
      /^deployment\/web cannot roll out in namespace shop: ImagePullBackOff/,
    );
    expect(cluster.polls).toBe(14 + 7);
  });

  it('counts the kubelet flipping between ErrImagePull and ImagePullBackOff as one blocker', async () => {
    pollsTake(10_000);
    const errPull = stuck({
      pods: [
        pod('web', {
          state: { waiting: { reason: 'ErrImagePull', message: 'not found' } },
        }),
      ],
    });
    const backOff = stuck({ pods: [pod('web', imagePullBackOff)] });
    const { promise, messages } = run(
      [errPull, backOff, errPull, backOff, errPull, backOff, errPull, backOff],
      {
        failFastAfterSeconds: 60,
        timeoutSeconds: 300,
      },
    );
    await expect(promise).rejects.toThrow(
      /^deployment\/web cannot roll out in namespace shop: ErrImagePull, ImagePullBackOff\n- deployment\/web: ErrImagePull \(pod\/web-1abc-x1\)/,
    );
    expect(cluster.polls).toBe(7);
    // Each reason once in the task log, not on every flip.
    expect(messages('warn')).toEqual([
      expect.stringContaining('deployment/web: ErrImagePull (pod/web-1abc-x1)'),
      expect.stringContaining(
        'deployment/web: ImagePullBackOff (pod/web-1abc-x1)',
      ),
    ]);
  });

  it('fails at the timeout with what is still pending', async () => {
    const { promise } = run([stuck({})], { timeoutSeconds: 0.05 });
    await expect(promise).rejects.toThrow(
      'Not rolled out within 0.05 s in namespace shop\n- Waiting for deployment "web" rollout to finish: 0 of 1 updated replicas are available...',
    );
  });

  it('waits for named Deployments to appear, and says which never did', async () => {
    const { promise } = run([{ deployments: [deployment('web')] }], {
      deployments: ['web', 'worker'],
      timeoutSeconds: 0.05,
    });
    await expect(promise).rejects.toThrow(
      'Not rolled out within 0.05 s in namespace shop\n- deployment/worker does not exist',
    );
  });

  it('says so when no Deployment appeared at all', async () => {
    const { promise } = run([{ deployments: [] }], { timeoutSeconds: 0.05 });
    await expect(promise).rejects.toThrow(
      'No Deployment appeared in namespace shop within 0.05 s',
    );
  });

  it('stops waiting as soon as the task is cancelled', async () => {
    const controller = new AbortController();
    const { promise } = run(
      [stuck({})],
      { timeoutSeconds: 60 },
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 30);
    const started = Date.now();
    await expect(promise).rejects.toThrow(
      /^Stopped waiting for every Deployment in namespace shop: the task was cancelled after \d+ s\. The objects stay as they are\.$/,
    );
    expect(Date.now() - started).toBeLessThan(1000);
    const polls = cluster.polls;
    await new Promise(resolve => setTimeout(resolve, 50));
    expect(cluster.polls).toBe(polls);
  });

  it('reads nothing in a dry run: nothing was applied to wait for', async () => {
    const { promise, messages, outputs } = run(
      [stuck({})],
      {},
      { isDryRun: true },
    );
    await expect(promise).resolves.toBeUndefined();
    expect(connect).not.toHaveBeenCalled();
    expect(messages('info')).toEqual([
      'Dry run: would wait up to 5 s for every Deployment in namespace shop to roll out; nothing was applied, so nothing to wait for.',
    ]);
    expect(outputs()).toEqual({ deployments: [] });
  });

  it('has an input schema that refuses impossible timeouts', () => {
    const errors = validateJson(
      {
        namespace: 'shop',
        timeoutSeconds: 0,
        failFastAfterSeconds: -1,
        deployments: 'web',
      },
      action().schema!.input!,
    ).errors.map(e => e.stack);
    expect(errors).toEqual([
      'instance.deployments is not of a type(s) array',
      'instance.timeoutSeconds must be strictly greater than 0',
      'instance.failFastAfterSeconds must be greater than or equal to 0',
    ]);
  });
});
