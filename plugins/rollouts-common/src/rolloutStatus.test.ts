import {
  deriveRolloutStatus,
  resolveStrategy,
  scaledValue,
} from './rolloutStatus';
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

  it('reads the deadline only from the Progressing condition, wherever it is', () => {
    const d = demoDeployment('green');
    d.status!.conditions = [
      { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate' },
      {
        type: 'Progressing',
        status: 'False',
        reason: 'ProgressDeadlineExceeded',
      },
    ];
    expect(deriveRolloutStatus(d).phase).toBe('failed');
    d.status!.conditions = [
      {
        type: 'Available',
        status: 'False',
        reason: 'ProgressDeadlineExceeded',
      },
    ];
    expect(deriveRolloutStatus(d).phase).toBe('complete');
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

  it('reads a Deployment with nothing but a name and a container without image', () => {
    expect(
      deriveRolloutStatus({
        metadata: { name: 'bare' },
        spec: { template: { spec: { containers: [{ name: 'app' }] } } },
      }),
    ).toEqual({
      phase: 'complete',
      message: 'deployment "bare" successfully rolled out',
      complete: true,
      paused: false,
      desired: 1,
      current: 0,
      updated: 0,
      ready: 0,
      available: 0,
      unavailable: 0,
      generation: undefined,
      observedGeneration: undefined,
      revision: undefined,
      strategy: {
        type: 'RollingUpdate',
        maxSurge: '25%',
        maxUnavailable: '25%',
        maxSurgePods: 1,
        maxUnavailablePods: 0,
      },
      images: [{ container: 'app', image: '' }],
    });
    expect(deriveRolloutStatus({})).toMatchObject({
      message: 'deployment "" successfully rolled out',
      images: [],
    });
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

  it('keeps the unavailable pods it resolves when no surge is allowed', () => {
    const d = demoDeployment('blue', { replicas: 4 });
    d.spec!.strategy = {
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: 0, maxUnavailable: 2 },
    };
    expect(resolveStrategy(d)).toMatchObject({ maxUnavailablePods: 2 });
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

describe('scaledValue', () => {
  it('scales percentages and reads numbers written as text', () => {
    expect(scaledValue(' 25% ', 10, true)).toBe(3);
    expect(scaledValue('25%', 10, false)).toBe(2);
    expect(scaledValue('3', 10, true)).toBe(3);
    expect(scaledValue(4, 10, true)).toBe(4);
  });

  it('refuses what is neither an integer nor a percentage', () => {
    expect(() => scaledValue('x%', 10, true)).toThrow(
      "Invalid percentage 'x%'",
    );
    expect(() => scaledValue('1.5', 10, true)).toThrow(
      "Invalid int-or-percent value '1.5'",
    );
  });
});
