import {
  catalogConditions,
  createCatalogConditionalDecision,
} from '@backstage/plugin-catalog-backend/alpha';
import { RESOURCE_TYPE_CATALOG_ENTITY } from '@backstage/plugin-catalog-common/alpha';
import {
  AuthorizeResult,
  isPermission,
  isResourcePermission,
  Permission,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  rolloutsStatusReadPermission,
  rolloutsWritePermissions,
} from '@golden-path/plugin-rollouts-common';

/**
 * The decision the rollouts plugin recommends for one of its permissions:
 * every signed-in user may read; only the owners of the catalog entity may
 * switch traffic, restart or undo (a conditional decision the catalog
 * evaluates with its `IS_ENTITY_OWNER` rule). Returns `undefined` for any other
 * permission, so a policy can fall through to its own rules.
 *
 * @param permission - the permission of the policy query
 * @param user - the signed-in user's ownership refs (from `userInfo.getUserInfo`), or undefined for no user
 * @public
 */
export function rolloutsPolicyDecision(
  permission: Permission,
  user: { ownershipEntityRefs: string[] } | undefined,
): PolicyDecision | undefined {
  if (isPermission(permission, rolloutsStatusReadPermission)) {
    return { result: user ? AuthorizeResult.ALLOW : AuthorizeResult.DENY };
  }
  if (
    isResourcePermission(permission, RESOURCE_TYPE_CATALOG_ENTITY) &&
    rolloutsWritePermissions.some(p => isPermission(permission, p))
  ) {
    if (!user || user.ownershipEntityRefs.length === 0) {
      return { result: AuthorizeResult.DENY };
    }
    return createCatalogConditionalDecision(
      permission,
      catalogConditions.isEntityOwner({ claims: user.ownershipEntityRefs }),
    );
  }
  return undefined;
}
