import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';

interface KubeStatus {
  kind?: string;
  reason?: string;
  message?: string;
  code?: number;
  details?: { causes?: { field?: string; message?: string }[] };
}

function statusOf(body: unknown): KubeStatus | undefined {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as KubeStatus;
    } catch {
      return { message: body };
    }
  }
  if (body && typeof body === 'object') {
    return body as KubeStatus;
  }
  return undefined;
}

/**
 * Turns an error from the Kubernetes API into a Backstage error with a message
 * that says what happened.
 *
 * @remarks
 * A JSON Patch that cannot be applied (a failed `test`, or a path that no
 * longer exists) is answered with 422 and reason Invalid but, unlike a
 * validation error, without field causes; a stale resourceVersion gives 409.
 * Both mean someone else changed the object first and nothing was written, so
 * both become a ConflictError.
 */
export function toBackstageError(error: unknown, action: string): Error {
  const code =
    (error as { code?: unknown })?.code ??
    (error as { statusCode?: unknown })?.statusCode;
  if (typeof code !== 'number') {
    return new ServiceUnavailableError(
      `${action} failed: cannot reach the Kubernetes API: ${
        (error as Error)?.message ?? String(error)
      }`,
    );
  }
  const status = statusOf((error as { body?: unknown }).body);
  const detail = status?.message ?? (error as Error).message;
  switch (code) {
    case 409:
      return new ConflictError(
        `${action} was rejected because the object changed meanwhile; nothing was written. ${detail}`,
      );
    case 422:
      if (status?.details?.causes?.length) {
        return new InputError(`${action} was rejected as invalid: ${detail}`);
      }
      return new ConflictError(
        `${action} was rejected because the object no longer matches what the change expected; nothing was written. ${detail}`,
      );
    case 404:
      return new NotFoundError(`${action} failed: not found. ${detail}`);
    case 401:
    case 403:
      return new NotAllowedError(
        `${action} failed: the rollouts plugin's cluster credentials are not allowed to do this (check its RBAC). ${detail}`,
      );
    case 400:
      return new InputError(`${action} was rejected: ${detail}`);
    default:
      return new ServiceUnavailableError(
        `${action} failed with HTTP ${code} from the Kubernetes API: ${detail}`,
      );
  }
}
