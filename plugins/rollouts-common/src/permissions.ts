import { RESOURCE_TYPE_CATALOG_ENTITY } from '@backstage/plugin-catalog-common/alpha';
import { createPermission } from '@backstage/plugin-permission-common';

/**
 * Read rollout status, probes, quotas and blue-green state of entities.
 *
 * @remarks
 * A basic permission: the catalog already decides who can see the entity, so
 * the usual policy allows it for every signed-in user.
 *
 * @public
 */
export const rolloutsStatusReadPermission = createPermission({
  name: 'rollouts.status.read',
  attributes: { action: 'read' },
});

/**
 * Switch (or roll back) the live slot of a blue-green Service of an entity.
 *
 * @public
 */
export const rolloutsTrafficSwitchPermission = createPermission({
  name: 'rollouts.traffic.switch',
  attributes: { action: 'update' },
  resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
});

/**
 * Restart the pods of a Deployment of an entity (`kubectl rollout restart`).
 *
 * @public
 */
export const rolloutsDeploymentRestartPermission = createPermission({
  name: 'rollouts.deployment.restart',
  attributes: { action: 'update' },
  resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
});

/**
 * Roll a Deployment of an entity back to an earlier revision
 * (`kubectl rollout undo`).
 *
 * @public
 */
export const rolloutsDeploymentUndoPermission = createPermission({
  name: 'rollouts.deployment.undo',
  attributes: { action: 'update' },
  resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
});

/**
 * The write permissions of the plugin; all are resource permissions on the
 * catalog entity the Kubernetes objects belong to.
 *
 * @public
 */
export const rolloutsWritePermissions = [
  rolloutsTrafficSwitchPermission,
  rolloutsDeploymentRestartPermission,
  rolloutsDeploymentUndoPermission,
];

/**
 * Every permission of the rollouts plugin.
 *
 * @public
 */
export const rolloutsPermissions = [
  rolloutsStatusReadPermission,
  ...rolloutsWritePermissions,
];
