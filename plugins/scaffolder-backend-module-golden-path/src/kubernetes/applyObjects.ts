import { ConflictError, InputError, NotAllowedError } from '@backstage/errors';
import type { KubeObject } from '@golden-path/plugin-rollouts-common';
import { apiServerMessage, KubeApiError, KubeCluster } from './clusterClient';
import { objectName } from './renderManifests';

/**
 * The error for an object the API server refused, with what was applied before it (the
 * apply is not a transaction: a retry applies everything again, which server-side apply
 * makes safe).
 */
export function applyFailure(
  error: KubeApiError,
  object: KubeObject,
  applied: string[],
): Error {
  const message = `The API server refused ${objectName(
    object,
  )}: ${apiServerMessage(error)}. Applied before it: ${
    applied.join(', ') || 'nothing'
  }.`;
  if (error.statusCode === 403) return new NotAllowedError(message);
  if (error.statusCode === 409) return new ConflictError(message);
  return new InputError(message);
}

/**
 * Server-side applies the objects in order (not dry-run), calling `log` after each;
 * the first refusal stops it (see {@link applyFailure}).
 */
export async function applyAll(
  cluster: KubeCluster,
  objects: KubeObject[],
  fieldManager: string,
  log: (applied: string, warnings: string[]) => void,
  signal?: AbortSignal,
): Promise<string[]> {
  const applied: string[] = [];
  for (const object of objects) {
    try {
      const { warnings } = await cluster.apply(object, {
        fieldManager,
        dryRun: false,
        signal,
      });
      applied.push(objectName(object));
      log(objectName(object), warnings);
    } catch (e) {
      if (e instanceof KubeApiError) throw applyFailure(e, object, applied);
      throw e;
    }
  }
  return applied;
}
