import { ConflictError, InputError } from '@backstage/errors';
import {
  KubeReplicaSet,
  planUndo,
  rolloutsDeploymentUndoPermission,
  UndoDeploymentRequest,
  UndoDeploymentResponse,
} from '@golden-path/plugin-rollouts-common';
import { z } from 'zod';
import { deploymentSchema } from './restartDeployment';
import { WriteCommand } from './WriteRunner';

const undoSchema = deploymentSchema.extend({
  toRevision: z
    .string()
    .regex(/^\d+$/, 'toRevision must be a revision number')
    .optional(),
});

/**
 * `kubectl rollout undo`: restores the pod template of `toRevision` (the
 * revision the user saw in the dialog) or, without it, of the previous one.
 * Planned from the Deployment and ReplicaSets as the API server has them now;
 * the patch tests the Deployment's generation (a concurrent spec change gives
 * 409) on top of the guard's UID and ownership pins.
 */
export const undoDeploymentCommand: WriteCommand<
  UndoDeploymentRequest,
  UndoDeploymentResponse
> = {
  path: '/deployments/undo',
  eventId: 'deployment-undo',
  permission: rolloutsDeploymentUndoPermission,
  schema: undoSchema,
  async run(guard, body) {
    const selection = await guard.authorize(rolloutsDeploymentUndoPermission);
    const target = guard.cluster(body.cluster, selection);
    const action = `Rolling back Deployment ${body.namespace}/${body.deployment}`;
    const bound = await guard.bind(
      target,
      selection,
      `Deployment ${body.namespace}/${body.deployment}`,
      api => api.getDeployment(body.namespace, body.deployment),
    );
    let replicaSets: KubeReplicaSet[];
    try {
      replicaSets = await target.api.listReplicaSets(body.namespace);
    } catch (e) {
      throw guard.kubernetesError(e, action, target);
    }
    const plan = planUndo(bound.object, replicaSets, body.toRevision);
    if (!plan.allowed) {
      if (plan.code === 'unknown-revision') throw new InputError(plan.reason);
      throw new ConflictError(plan.reason);
    }
    if (!plan.skipped) {
      await guard.patch(target, bound, action, plan.patch, (api, patch) =>
        api.patchDeployment(body.namespace, body.deployment, patch),
      );
    }
    return {
      cluster: target.cluster.name,
      namespace: body.namespace,
      deployment: body.deployment,
      ...(plan.fromRevision !== undefined && {
        fromRevision: plan.fromRevision,
      }),
      toRevision: plan.toRevision,
      skipped: plan.skipped,
    };
  },
};
