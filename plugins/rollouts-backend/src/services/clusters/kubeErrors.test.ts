import { mockServices } from '@backstage/backend-test-utils';
import { KubeApiError } from './kubeHttp';
import { toUserError } from './kubeErrors';

const INTERNAL =
  'Operation cannot be fulfilled on https://10.12.0.4:6443 for system:serviceaccount:golden-path-portal:portal-rollouts';

const status = (code: number, reason: string, extra: object = {}) =>
  new KubeApiError(
    code,
    JSON.stringify({
      kind: 'Status',
      code,
      reason,
      message: INTERNAL,
      ...extra,
    }),
    INTERNAL,
  );

describe('toUserError', () => {
  const convert = (error: unknown, identity: 'plugin' | 'user' = 'plugin') => {
    const logger = mockServices.logger.mock();
    const result = toUserError(error, 'Switching Service a/b', {
      logger,
      identity,
    });
    return { result, logger };
  };

  it('maps a failed JSON Patch test (422 without causes) to a conflict with nothing written', () => {
    const { result } = convert(status(422, 'Invalid', { details: {} }));
    expect(result.name).toBe('ConflictError');
    expect(result.message).toBe(
      'Switching Service a/b was refused because the object is no longer the one this change was planned for (it changed, was re-created or changed owner); nothing was written. Reload and try again.',
    );
  });

  it('keeps a validation error (422 with field causes) an input error', () => {
    const { result } = convert(
      status(422, 'Invalid', {
        details: { causes: [{ field: 'spec.selector', message: 'bad' }] },
      }),
    );
    expect(result.name).toBe('InputError');
  });

  it.each([
    [409, 'Conflict', 'ConflictError'],
    [404, 'NotFound', 'NotFoundError'],
    [403, 'Forbidden', 'NotAllowedError'],
    [401, 'Unauthorized', 'NotAllowedError'],
    [400, 'BadRequest', 'InputError'],
    [500, 'InternalError', 'ServiceUnavailableError'],
  ])('maps HTTP %s to %s', (code, reason, name) => {
    expect(convert(status(code, reason)).result.name).toBe(name);
  });

  it('blames the right identity for a denial', () => {
    expect(convert(status(403, 'Forbidden'), 'plugin').result.message).toMatch(
      /the rollouts plugin's identity is not allowed/,
    );
    expect(convert(status(403, 'Forbidden'), 'user').result.message).toMatch(
      /your own Kubernetes credentials do not allow it/,
    );
  });

  it.each([400, 401, 403, 404, 409, 422, 500, 503])(
    'never returns the API server text of HTTP %s, and logs it',
    code => {
      const { result, logger } = convert(status(code, 'X'));
      expect(result.message).not.toContain('10.12.0.4');
      expect(result.message).not.toContain('serviceaccount');
      expect(logger.warn).toHaveBeenCalledWith(
        'kubernetes write failed',
        expect.objectContaining({
          status: code,
          error: INTERNAL,
          ref: expect.stringMatching(/^[0-9a-f]{8}$/),
        }),
      );
    },
  );

  it.each([400, 500, 503])(
    'points to the log entry of HTTP %s with its reference',
    code => {
      const { result, logger } = convert(status(code, 'X'));
      const { ref } = (logger.warn as jest.Mock).mock.calls[0][1];
      expect(result.message).toContain(`(backend log reference ${ref})`);
    },
  );

  it('treats a connection failure as the cluster being unavailable, without the address', () => {
    const { result, logger } = convert(
      Object.assign(new Error('connect ECONNREFUSED 10.12.0.4:6443'), {
        code: 'ECONNREFUSED',
      }),
    );
    expect(result.name).toBe('ServiceUnavailableError');
    expect(result.message).toMatch(
      /^Switching Service a\/b failed: the cluster's API server could not be reached; nothing was changed \(backend log reference [0-9a-f]{8}\)\.$/,
    );
    expect(logger.warn).toHaveBeenCalledWith(
      'kubernetes write failed',
      expect.objectContaining({
        status: 'no answer',
        error: 'connect ECONNREFUSED 10.12.0.4:6443',
      }),
    );
  });
});
