import { createPermission } from '@backstage/plugin-permission-common';

/**
 * Apply a template's Kubernetes manifests to the portal's cluster
 * (`golden-path:kubernetes:apply`), into the namespace the template owns.
 *
 * @remarks
 * A basic permission: the entity the objects belong to is usually created by the same
 * task, so there is no catalog entity to condition on yet. The apply action authorizes
 * the user who started the task; the portal's policy decides who that may be.
 *
 * @public
 */
export const goldenPathKubernetesApplyPermission = createPermission({
  name: 'golden-path.kubernetes.apply',
  attributes: { action: 'create' },
});

/**
 * Every permission of the golden-path scaffolder module.
 *
 * @public
 */
export const goldenPathPermissions = [goldenPathKubernetesApplyPermission];
