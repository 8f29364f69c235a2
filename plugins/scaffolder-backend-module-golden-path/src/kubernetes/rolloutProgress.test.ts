import {
  crashLoopBackOff,
  deployment,
  imagePullBackOff,
  pod,
  progressDeadlineExceeded,
  quotaExceeded,
  replicaSet,
} from '../testUtils/workloads';
import {
  BlockerTracker,
  deploymentProgress,
  describeBlocker,
} from './rolloutProgress';

describe('deploymentProgress', () => {
  it('says what kubectl rollout status says, without blockers, for a healthy rollout', () => {
    const progress = deploymentProgress(
      deployment('web', { replicas: 2, updated: 2, available: 1 }),
      [replicaSet('web')],
      [pod('web', { ready: true, state: { running: {} } })],
    );
    expect(progress.status.message).toBe(
      'Waiting for deployment "web" rollout to finish: 1 of 2 updated replicas are available...',
    );
    expect(progress.blockers).toEqual([]);
  });

  it('finds ImagePullBackOff on a pod of the current ReplicaSet, with the kubelet message', () => {
    const progress = deploymentProgress(
      deployment('web', { available: 0 }),
      [replicaSet('web')],
      [pod('web', imagePullBackOff)],
    );
    expect(progress.blockers).toEqual([
      {
        reason: 'ImagePullBackOff',
        object: 'pod/web-1abc-x1',
        message:
          'container app: The image cannot be pulled: Back-off pulling image "acme/web:9.9.9": not found.',
      },
    ]);
    expect(describeBlocker('web', progress.blockers[0])).toBe(
      'deployment/web: ImagePullBackOff (pod/web-1abc-x1): container app: The image cannot be pulled: Back-off pulling image "acme/web:9.9.9": not found.',
    );
  });

  it('finds ErrImagePull and CrashLoopBackOff', () => {
    const pulling = deploymentProgress(
      deployment('web', { available: 0 }),
      [replicaSet('web')],
      [
        pod('web', {
          state: {
            waiting: { reason: 'ErrImagePull', message: 'manifest unknown' },
          },
        }),
      ],
    );
    expect(pulling.blockers.map(b => b.reason)).toEqual(['ErrImagePull']);
    const crashing = deploymentProgress(
      deployment('web', { available: 0 }),
      [replicaSet('web')],
      [pod('web', crashLoopBackOff)],
    );
    expect(crashing.blockers).toEqual([
      {
        reason: 'CrashLoopBackOff',
        object: 'pod/web-1abc-x1',
        message: expect.stringMatching(
          /^container app: Container keeps exiting .*\(4 restarts so far\)/,
        ),
      },
    ]);
  });

  it("ignores the pods of an old revision: they are not the rollout's", () => {
    const progress = deploymentProgress(
      deployment('web', { available: 0 }),
      [replicaSet('web'), replicaSet('web', undefined, '0')],
      [pod('web', crashLoopBackOff, '0')],
    );
    expect(progress.blockers).toEqual([]);
  });

  it("reports an exceeded quota from the ReplicaSet's ReplicaFailure condition, once", () => {
    const progress = deploymentProgress(
      deployment('web', {
        replicas: 2,
        updated: 1,
        conditions: [quotaExceeded],
      }),
      [replicaSet('web', [quotaExceeded])],
      [],
    );
    expect(progress.blockers).toEqual([
      {
        reason: 'QuotaExceeded',
        object: 'replicaset/web-1abc',
        message: quotaExceeded.message,
      },
    ]);
  });

  it("takes the failure from the Deployment when the ReplicaSet's is not visible yet", () => {
    const refused = {
      ...quotaExceeded,
      message:
        'pods "web-1abc-x2" is forbidden: violates PodSecurity "restricted:latest"',
    };
    const progress = deploymentProgress(
      deployment('web', { replicas: 2, updated: 1, conditions: [refused] }),
      [replicaSet('web')],
      [],
    );
    expect(progress.blockers).toEqual([
      {
        reason: 'FailedCreate',
        object: 'deployment/web',
        message: refused.message,
      },
    ]);
  });

  it('fails a passed progress deadline the way kubectl does', () => {
    const progress = deploymentProgress(
      deployment('web', {
        available: 0,
        conditions: [progressDeadlineExceeded],
      }),
      [replicaSet('web')],
      [],
    );
    expect(progress.status.phase).toBe('failed');
    expect(progress.blockers).toEqual([
      {
        reason: 'ProgressDeadlineExceeded',
        object: 'deployment/web',
        message:
          'deployment "web" exceeded its progress deadline: ReplicaSet "web-1abc" has timed out progressing.',
      },
    ]);
  });
});

describe('BlockerTracker', () => {
  const stuckWith = (status: Parameters<typeof pod>[1]) => [
    deploymentProgress(
      deployment('web', { available: 0 }),
      [replicaSet('web')],
      [pod('web', status)],
    ),
  ];
  const errPull = stuckWith({
    state: { waiting: { reason: 'ErrImagePull', message: 'not found' } },
  });
  const backOff = stuckWith(imagePullBackOff);
  const clear = stuckWith({ ready: true, state: { running: {} } });

  it('reports a blocker once, and again only for a reason it had not shown', () => {
    const tracker = new BlockerTracker();
    expect(tracker.observe(errPull, 0)).toEqual([
      expect.stringMatching(
        /^deployment\/web: ErrImagePull \(pod\/web-1abc-x1\)/,
      ),
    ]);
    expect(tracker.observe(backOff, 10)).toEqual([
      expect.stringMatching(
        /^deployment\/web: ImagePullBackOff \(pod\/web-1abc-x1\)/,
      ),
    ]);
    expect(tracker.observe(errPull, 20)).toEqual([]);
    expect(tracker.reasonsOf(errPull)).toEqual([
      'ErrImagePull',
      'ImagePullBackOff',
    ]);
  });

  it('measures how long a blocker lasted, starting over when it clears', () => {
    const tracker = new BlockerTracker();
    tracker.observe(backOff, 0);
    tracker.observe(errPull, 50);
    expect(tracker.persistent(errPull, 59, 60)).toEqual([]);
    expect(tracker.persistent(errPull, 60, 60).map(p => p.name)).toEqual([
      'web',
    ]);
    tracker.observe(clear, 70);
    tracker.observe(backOff, 80);
    expect(tracker.persistent(backOff, 130, 60)).toEqual([]);
    expect(tracker.reasonsOf(backOff)).toEqual(['ImagePullBackOff']);
  });
});
