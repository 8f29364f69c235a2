import { JsonPatchOperation, jsonPointer } from './jsonPatch';
import { KubeDeployment } from './kube';

/** Pod template annotation `kubectl rollout restart` sets. @public */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

/** @public */
export type RestartPlan =
  | { allowed: true; restartedAt: string; patch: JsonPatchOperation[] }
  | { allowed: false; code: 'paused'; reason: string };

/**
 * Plans `kubectl rollout restart`: stamp the pod template with the current
 * time, which makes the Deployment controller replace every pod following the
 * rolling update strategy. A paused Deployment would only record the change,
 * so it is refused with the command that resumes it.
 *
 * @public
 */
export function planRestart(
  deployment: KubeDeployment,
  now: Date = new Date(),
): RestartPlan {
  const name = deployment.metadata?.name ?? '';
  if (deployment.spec?.paused) {
    return {
      allowed: false,
      code: 'paused',
      reason: `Deployment ${name} is paused, so a restart would not replace any pod; resume it first (kubectl rollout resume deployment/${name}).`,
    };
  }
  // kubectl writes RFC 3339 without fractions.
  const restartedAt = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const metadata = deployment.spec?.template?.metadata;
  let op: JsonPatchOperation;
  if (!metadata) {
    op = {
      op: 'add',
      path: '/spec/template/metadata',
      value: { annotations: { [RESTARTED_AT_ANNOTATION]: restartedAt } },
    };
  } else if (!metadata.annotations) {
    op = {
      op: 'add',
      path: '/spec/template/metadata/annotations',
      value: { [RESTARTED_AT_ANNOTATION]: restartedAt },
    };
  } else {
    // `add` on an existing member replaces it (RFC 6902 4.1).
    op = {
      op: 'add',
      path: jsonPointer(
        'spec',
        'template',
        'metadata',
        'annotations',
        RESTARTED_AT_ANNOTATION,
      ),
      value: restartedAt,
    };
  }
  return { allowed: true, restartedAt, patch: [op] };
}
