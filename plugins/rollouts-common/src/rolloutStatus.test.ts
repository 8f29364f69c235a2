import { deriveRolloutStatus, resolveStrategy } from './rolloutStatus';
import { demoDeployment } from './testFixtures';

describe('deriveRolloutStatus', () => {
  it('reports a finished rollout like kubectl', () => {
    const status = deriveRolloutStatus(demoDeployment('blue'));
    expect(status).toMatchObject({
      phase: 'complete',
      complete: true,
      message: 'deployment "demo-api-blue" successfully rolled out',
      desired: 2,
      updated: 2,
      ready: 2,
      available: 2,
      revision: '2',
      images: [
        { container: 'api', image: 'ghcr.io/example/fastapi-demo:1.0.0' },
      ],
    });
  });

  it('waits for the spec update when observedGeneration lags generation', () => {
    const d = demoDeployment('blue', { generation: 4 });
    d.status!.observedGeneration = 3;
    const status = deriveRolloutStatus(d);
    expect(status.phase).toBe('waiting-for-spec-update');
    expect(status.message).toBe(
      'Waiting for deployment spec update to be observed...',
    );
    expect(status.complete).toBe(false);
  });

  it('fails when the progress deadline is exceeded, before checking counts', () => {
    const d = demoDeployment('green', {
      status: {
        observedGeneration: 3,
        replicas: 3,
        updatedReplicas: 1,
        availableReplicas: 2,
        readyReplicas: 2,
        unavailableReplicas: 1,
        conditions: [
          {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message:
              'ReplicaSet "demo-api-green-5f9c" has timed out progressing.',
          },
        ],
      },
    });
    const status = deriveRolloutStatus(d);
    expect(status.phase).toBe('failed');
    expect(status.message).toBe(
      'deployment "demo-api-green" exceeded its progress deadline',
    );
  });

  it('waits while new replicas are being created', () => {
    const d = demoDeployment('green', {
      replicas: 4,
      status: {
        observedGeneration: 3,
        replicas: 5,
        updatedReplicas: 2,
        availableReplicas: 3,
        readyReplicas: 3,
        conditions: [
          { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated' },
        ],
      },
    });
    const status = deriveRolloutStatus(d);
    expect(status.phase).toBe('updating-replicas');
    expect(status.message).toBe(
      'Waiting for deployment "demo-api-green" rollout to finish: 2 out of 4 new replicas have been updated...',
    );
  });

  it('waits for old replicas to terminate', () => {
    const d = demoDeployment('green', {
      replicas: 4,
      status: {
        observedGeneration: 3,
        replicas: 5,
        updatedReplicas: 4,
        availableReplicas: 4,
        readyReplicas: 4,
      },
    });
    const status = deriveRolloutStatus(d);
    expect(status.phase).toBe('terminating-old-replicas');
    expect(status.message).toBe(
      'Waiting for deployment "demo-api-green" rollout to finish: 1 old replicas are pending termination...',
    );
  });

  it('waits for updated replicas to become available', () => {
    const d = demoDeployment('green', {
      replicas: 4,
      status: {
        observedGeneration: 3,
        replicas: 4,
        updatedReplicas: 4,
        availableReplicas: 3,
        readyReplicas: 3,
        unavailableReplicas: 1,
      },
    });
    const status = deriveRolloutStatus(d);
    expect(status.phase).toBe('waiting-for-available');
    expect(status.message).toBe(
      'Waiting for deployment "demo-api-green" rollout to finish: 3 of 4 updated replicas are available...',
    );
    expect(status.unavailable).toBe(1);
  });

  it('handles a brand-new deployment with no status yet', () => {
    const d = demoDeployment('blue', { generation: 1 });
    delete d.status;
    expect(deriveRolloutStatus(d).phase).toBe('waiting-for-spec-update');
  });
});

describe('resolveStrategy', () => {
  it('applies the 25% defaults: surge rounds up, unavailable rounds down', () => {
    const d = demoDeployment('blue', { replicas: 10 });
    delete d.spec!.strategy;
    expect(resolveStrategy(d)).toEqual({
      type: 'RollingUpdate',
      maxSurge: '25%',
      maxUnavailable: '25%',
      maxSurgePods: 3,
      maxUnavailablePods: 2,
    });
  });

  it('allows one unavailable pod when both resolve to zero', () => {
    const d = demoDeployment('blue', { replicas: 1 });
    d.spec!.strategy = {
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: 0, maxUnavailable: '10%' },
    };
    expect(resolveStrategy(d)).toMatchObject({
      maxSurgePods: 0,
      maxUnavailablePods: 1,
    });
  });

  it('keeps absolute numbers and reports Recreate without numbers', () => {
    const d = demoDeployment('blue', { replicas: 3 });
    d.spec!.strategy = {
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    };
    expect(resolveStrategy(d)).toMatchObject({
      maxSurgePods: 1,
      maxUnavailablePods: 0,
    });
    d.spec!.strategy = { type: 'Recreate' };
    expect(resolveStrategy(d)).toEqual({ type: 'Recreate' });
  });
});
