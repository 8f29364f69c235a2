import { FluxCondition, fluxProgress, FluxStatusObject } from './fluxProgress';

const REVISION = 'main@sha1:0123456789abcdef0123456789abcdef01234567';
const OLD_REVISION = 'main@sha1:fedcba9876543210fedcba9876543210fedcba98';

function object(
  kind: string,
  status: FluxStatusObject['status'],
  generation = 1,
): FluxStatusObject {
  return {
    apiVersion: 'x/v1',
    kind,
    metadata: { name: 'hello-web', namespace: 'flux-system', generation },
    status,
  };
}

const ready = (
  status: FluxCondition['status'],
  reason: string,
  message = '',
): FluxCondition => ({ type: 'Ready', status, reason, message });

const fetched = object('GitRepository', {
  observedGeneration: 1,
  artifact: { revision: REVISION },
  conditions: [
    ready('True', 'Succeeded', `stored artifact for revision '${REVISION}'`),
  ],
});

/** As kustomize-controller leaves it while its health checks run. */
const applying = object('Kustomization', {
  observedGeneration: 1,
  lastAttemptedRevision: REVISION,
  conditions: [
    ready('Unknown', 'Progressing', 'Reconciliation in progress'),
    {
      type: 'Healthy',
      status: 'Unknown',
      reason: 'Progressing',
      message: `Running health checks for revision ${REVISION} with a timeout of 3m0s`,
    },
  ],
});

const healthy = object('Kustomization', {
  observedGeneration: 1,
  lastAttemptedRevision: REVISION,
  lastAppliedRevision: REVISION,
  conditions: [
    ready('True', 'ReconciliationSucceeded', `Applied revision: ${REVISION}`),
  ],
});

describe('fluxProgress', () => {
  it('waits while an object does not exist or its controller has not seen it', () => {
    expect(fluxProgress(undefined, healthy, 'applied')).toEqual({
      state: 'waiting',
      message: 'the GitRepository does not exist (yet)',
    });
    expect(fluxProgress(fetched, undefined, 'applied').state).toBe('waiting');
    expect(
      fluxProgress(object('GitRepository', undefined), healthy, 'applied'),
    ).toEqual({
      state: 'waiting',
      message: 'source-controller has not fetched the repository yet',
    });
    // A changed spec (generation 2) whose old status still says Ready.
    expect(
      fluxProgress(
        { ...fetched, metadata: { ...fetched.metadata, generation: 2 } },
        healthy,
        'ready',
      ).state,
    ).toBe('waiting');
    expect(
      fluxProgress(
        fetched,
        { ...healthy, metadata: { ...healthy.metadata, generation: 2 } },
        'ready',
      ).state,
    ).toBe('waiting');
  });

  it('fails at once as source-controller reports a failed fetch: status.observedGeneration -1, the condition stamped with the generation', () => {
    const failed = object('GitRepository', {
      observedGeneration: -1,
      conditions: [
        {
          ...ready(
            'False',
            'GitOperationFailed',
            "unable to clone 'http://127.0.0.1:3300/o/r.git': repository not found",
          ),
          observedGeneration: 1,
        },
      ],
    });
    expect(fluxProgress(failed, undefined, 'applied')).toEqual({
      state: 'failed',
      message:
        "source-controller cannot fetch the repository: GitOperationFailed: unable to clone 'http://127.0.0.1:3300/o/r.git': repository not found",
    });
    // The same failure about the spec before a change is not this spec's.
    expect(
      fluxProgress(
        { ...failed, metadata: { ...failed.metadata, generation: 2 } },
        undefined,
        'applied',
      ).state,
    ).toBe('waiting');
  });

  it("fails with source-controller's own message when it cannot fetch", () => {
    const refused = object('GitRepository', {
      observedGeneration: 1,
      conditions: [
        ready(
          'False',
          'GitOperationFailed',
          'failed to checkout and determine revision: authentication required',
        ),
      ],
    });
    expect(fluxProgress(refused, undefined, 'applied')).toEqual({
      state: 'failed',
      message:
        'source-controller cannot fetch the repository: GitOperationFailed: failed to checkout and determine revision: authentication required',
    });
  });

  it('waits while the source is still being fetched', () => {
    const fetching = object('GitRepository', {
      observedGeneration: 1,
      conditions: [ready('Unknown', 'Progressing', 'building artifact')],
    });
    expect(fluxProgress(fetching, applying, 'applied')).toEqual({
      state: 'waiting',
      message: 'source-controller: Progressing: building artifact',
    });
  });

  it('waits while the Kustomization only reports the source it has not got yet', () => {
    const noSourceYet = object('Kustomization', {
      observedGeneration: 1,
      conditions: [
        ready(
          'False',
          'ArtifactFailed',
          'Source artifact not found, retrying in 30s',
        ),
      ],
    });
    expect(fluxProgress(fetched, noSourceYet, 'applied').state).toBe('waiting');
  });

  it('is applied once the health checks of the current revision run, and ready once they pass', () => {
    expect(fluxProgress(fetched, applying, 'applied')).toEqual({
      state: 'done',
      revision: REVISION,
      message: `kustomize-controller applied revision ${REVISION} (Progressing: Running health checks for revision ${REVISION} with a timeout of 3m0s)`,
    });
    expect(fluxProgress(fetched, applying, 'ready').state).toBe('waiting');
    expect(fluxProgress(fetched, healthy, 'ready')).toEqual({
      state: 'done',
      revision: REVISION,
      message: `kustomize-controller applied revision ${REVISION} and every object is healthy`,
    });
    expect(fluxProgress(fetched, healthy, 'applied').state).toBe('done');
  });

  it('does not take the health checks or Ready of an older revision for the current one', () => {
    const previous = object('Kustomization', {
      observedGeneration: 1,
      lastAttemptedRevision: REVISION,
      lastAppliedRevision: OLD_REVISION,
      conditions: [
        ready('Unknown', 'Progressing', 'Building manifests'),
        {
          type: 'Healthy',
          status: 'True',
          reason: 'Succeeded',
          message: 'Health check passed',
        },
      ],
    });
    expect(fluxProgress(fetched, previous, 'applied').state).toBe('waiting');
    const stillOld = object('Kustomization', {
      observedGeneration: 1,
      lastAttemptedRevision: OLD_REVISION,
      lastAppliedRevision: OLD_REVISION,
      conditions: [ready('True', 'ReconciliationSucceeded', 'Applied')],
    });
    expect(fluxProgress(fetched, stillOld, 'ready').state).toBe('waiting');
  });

  it.each([
    ['BuildFailed', 'kustomize build failed: accumulating resources'],
    ['ReconciliationFailed', 'Deployment/x dry-run failed: forbidden'],
    [
      'HealthCheckFailed',
      "timeout waiting for: [Deployment/x/web status: 'InProgress']",
    ],
  ])(
    "fails with kustomize-controller's %s and its message",
    (reason, message) => {
      const broken = object('Kustomization', {
        observedGeneration: 1,
        lastAttemptedRevision: REVISION,
        conditions: [ready('False', reason, message)],
      });
      expect(fluxProgress(fetched, broken, 'applied')).toEqual({
        state: 'failed',
        message: `kustomize-controller could not apply revision ${REVISION}: ${reason}: ${message}`,
      });
    },
  );
});
