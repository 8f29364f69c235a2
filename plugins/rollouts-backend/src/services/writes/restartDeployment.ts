import { ConflictError } from '@backstage/errors';
import {
  DeploymentActionRequest,
  planRestart,
  RestartDeploymentResponse,
  rolloutsDeploymentRestartPermission,
} from '@golden-path/plugin-rollouts-common';
import { z } from 'zod';
import { WriteCommand } from './WriteRunner';

const name = z.string().min(1).max(253);

/** The body of restart (and the base of undo's). */
export const deploymentSchema = z.object({
  cluster: name,
  namespace: name,
  deployment: name,
});

/**
 * `kubectl rollout restart`: stamps the pod template of a Deployment that the
 * cluster says belongs to the entity; refused while the Deployment is paused.
 */
export const restartDeploymentCommand: WriteCommand<
  DeploymentActionRequest,
  RestartDeploymentResponse
> = {
  path: '/deployments/restart',
  eventId: 'deployment-restart',
  permission: rolloutsDeploymentRestartPermission,
  schema: deploymentSchema,
  async run(guard, body) {
    const selection = await guard.authorize(
      rolloutsDeploymentRestartPermission,
    );
    const target = guard.cluster(body.cluster, selection);
    const bound = await guard.bind(
      target,
      selection,
      `Deployment ${body.namespace}/${body.deployment}`,
      api => api.getDeployment(body.namespace, body.deployment),
    );
    const plan = planRestart(bound.object);
    if (!plan.allowed) {
      throw new ConflictError(plan.reason);
    }
    await guard.patch(
      target,
      bound,
      `Restarting Deployment ${body.namespace}/${body.deployment}`,
      plan.patch,
      (api, patch) =>
        api.patchDeployment(body.namespace, body.deployment, patch),
    );
    return {
      cluster: target.cluster.name,
      namespace: body.namespace,
      deployment: body.deployment,
      restartedAt: plan.restartedAt,
    };
  },
};
