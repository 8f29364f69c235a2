import { catalogEntityReadPermission } from '@backstage/plugin-catalog-common/alpha';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  rolloutsDeploymentRestartPermission,
  rolloutsDeploymentUndoPermission,
  rolloutsStatusReadPermission,
  rolloutsTrafficSwitchPermission,
} from '@golden-path/plugin-rollouts-common';
import { rolloutsPolicyDecision } from './permissionPolicy';

const user = {
  ownershipEntityRefs: ['user:default/jane', 'group:default/team-a'],
};

describe('rolloutsPolicyDecision', () => {
  it('lets every signed-in user read, and nobody else', () => {
    expect(rolloutsPolicyDecision(rolloutsStatusReadPermission, user)).toEqual({
      result: AuthorizeResult.ALLOW,
    });
    expect(
      rolloutsPolicyDecision(rolloutsStatusReadPermission, undefined),
    ).toEqual({
      result: AuthorizeResult.DENY,
    });
  });

  it.each([
    rolloutsTrafficSwitchPermission,
    rolloutsDeploymentRestartPermission,
    rolloutsDeploymentUndoPermission,
  ])('lets only the entity owners use $name', permission => {
    expect(rolloutsPolicyDecision(permission, user)).toEqual({
      result: AuthorizeResult.CONDITIONAL,
      pluginId: 'catalog',
      resourceType: 'catalog-entity',
      conditions: {
        rule: 'IS_ENTITY_OWNER',
        resourceType: 'catalog-entity',
        params: { claims: ['user:default/jane', 'group:default/team-a'] },
      },
    });
    expect(rolloutsPolicyDecision(permission, undefined)).toEqual({
      result: AuthorizeResult.DENY,
    });
    expect(
      rolloutsPolicyDecision(permission, { ownershipEntityRefs: [] }),
    ).toEqual({
      result: AuthorizeResult.DENY,
    });
  });

  it('leaves other permissions to the rest of the policy', () => {
    expect(
      rolloutsPolicyDecision(catalogEntityReadPermission, user),
    ).toBeUndefined();
  });
});
