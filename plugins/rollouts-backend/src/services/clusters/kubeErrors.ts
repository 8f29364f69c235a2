import { LoggerService } from '@backstage/backend-plugin-api';
import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import { randomBytes } from 'node:crypto';

interface KubeStatus {
  reason?: string;
  message?: string;
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

/** Whose credentials a write used: decides who to blame for a 401/403. */
export type WriteIdentityKind = 'plugin' | 'user';

/**
 * Turns an error of a write to the Kubernetes API into a Backstage error whose
 * message is safe for the user and says what happened, and logs the full
 * error (which can name internal API server addresses, service accounts and
 * field values) with a reference the message repeats.
 *
 * @remarks
 * A JSON Patch whose `test` fails (the object changed, or is another object
 * with the same name) is answered with 422 and reason Invalid but, unlike a
 * validation error, without field causes; a stale resourceVersion gives 409.
 * Both mean nothing was written, so both become a ConflictError.
 */
export function toUserError(
  error: unknown,
  action: string,
  options: { logger: LoggerService; identity: WriteIdentityKind },
): Error {
  const ref = randomBytes(4).toString('hex');
  const raw =
    (error as { code?: unknown })?.code ??
    (error as { statusCode?: unknown })?.statusCode;
  const code = typeof raw === 'number' ? raw : undefined;
  const status = statusOf((error as { body?: unknown })?.body);
  options.logger.warn('kubernetes write failed', {
    ref,
    action,
    status: code ?? 'no answer',
    reason: status?.reason,
    error: status?.message ?? (error as Error)?.message ?? String(error),
  });
  const seeLog = `(backend log reference ${ref})`;
  switch (code) {
    case undefined:
      return new ServiceUnavailableError(
        `${action} failed: the cluster's API server could not be reached; nothing was changed ${seeLog}.`,
      );
    case 409:
      return new ConflictError(
        `${action} was refused because the object changed meanwhile; nothing was written. Reload and try again.`,
      );
    case 422:
      if (status?.details?.causes?.length) {
        return new InputError(
          `${action} was rejected as invalid by the API server ${seeLog}.`,
        );
      }
      return new ConflictError(
        `${action} was refused because the object is no longer the one this change was planned for (it changed, was re-created or changed owner); nothing was written. Reload and try again.`,
      );
    case 404:
      return new NotFoundError(
        `${action} failed: the object no longer exists.`,
      );
    case 401:
    case 403:
      return new NotAllowedError(
        options.identity === 'user'
          ? `${action} was denied by the cluster: your own Kubernetes credentials do not allow it; nothing was written.`
          : `${action} was denied by the cluster: the rollouts plugin's identity is not allowed to do this there (RBAC); nothing was written.`,
      );
    case 400:
      return new InputError(
        `${action} was rejected by the API server ${seeLog}.`,
      );
    default:
      return new ServiceUnavailableError(
        `${action} failed: the API server answered HTTP ${code} ${seeLog}.`,
      );
  }
}
