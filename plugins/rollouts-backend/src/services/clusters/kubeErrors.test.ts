import { KubeApiError } from './kubeHttp';
import { toBackstageError } from './kubeErrors';

const status = (code: number, reason: string, extra: object = {}) =>
  new KubeApiError(
    code,
    JSON.stringify({
      kind: 'Status',
      code,
      reason,
      message: `m${code}`,
      ...extra,
    }),
    `m${code}`,
  );

describe('toBackstageError', () => {
  it('maps a failed JSON Patch test (422 without causes) to a conflict', () => {
    const e = toBackstageError(
      status(422, 'Invalid', { details: {} }),
      'Switching Service a/b',
    );
    expect(e.name).toBe('ConflictError');
    expect(e.message).toBe(
      'Switching Service a/b was rejected because the object no longer matches what the change expected; nothing was written. m422',
    );
  });

  it('keeps a validation error (422 with field causes) an input error', () => {
    const e = toBackstageError(
      status(422, 'Invalid', {
        details: { causes: [{ field: 'spec.selector', message: 'bad' }] },
      }),
      'x',
    );
    expect(e.name).toBe('InputError');
  });

  it.each([
    [409, 'Conflict', 'ConflictError'],
    [404, 'NotFound', 'NotFoundError'],
    [403, 'Forbidden', 'NotAllowedError'],
    [400, 'BadRequest', 'InputError'],
    [500, 'InternalError', 'ServiceUnavailableError'],
  ])('maps HTTP %s to %s', (code, reason, name) => {
    expect(toBackstageError(status(code, reason), 'x').name).toBe(name);
  });

  it('treats a connection failure as the cluster being unavailable', () => {
    const e = toBackstageError(
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), {
        code: 'ECONNREFUSED',
      }),
      'Restarting Deployment a/b',
    );
    expect(e.name).toBe('ServiceUnavailableError');
    expect(e.message).toMatch(
      /cannot reach the Kubernetes API: connect ECONNREFUSED/,
    );
  });
});
