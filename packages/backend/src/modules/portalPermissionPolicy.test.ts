import {
  AuthorizeResult,
  createPermission,
} from '@backstage/plugin-permission-common';
import { PortalPermissionPolicy } from './portalPermissionPolicy';

const user = {
  identity: {
    type: 'user' as const,
    userEntityRef: 'user:default/alice',
    ownershipEntityRefs: ['user:default/alice', 'group:default/platform-team'],
  },
  info: {
    userEntityRef: 'user:default/alice',
    ownershipEntityRefs: ['user:default/alice', 'group:default/platform-team'],
  },
  token: 'token',
  credentials: {} as any,
};

const switchTraffic = createPermission({
  name: 'rollouts.traffic.switch',
  attributes: { action: 'update' },
  resourceType: 'catalog-entity',
});

describe('PortalPermissionPolicy', () => {
  const policy = new PortalPermissionPolicy();

  it('lets only the owners of the entity switch traffic', async () => {
    const decision = await policy.handle({ permission: switchTraffic }, user);
    expect(decision).toEqual({
      result: AuthorizeResult.CONDITIONAL,
      pluginId: 'catalog',
      resourceType: 'catalog-entity',
      conditions: {
        rule: 'IS_ENTITY_OWNER',
        resourceType: 'catalog-entity',
        params: {
          claims: ['user:default/alice', 'group:default/platform-team'],
        },
      },
    });
  });

  it('denies cluster writes without a signed-in user', async () => {
    const decision = await policy.handle({ permission: switchTraffic });
    expect(decision).toEqual({ result: AuthorizeResult.DENY });
  });

  it('denies a cluster write that is not tied to a catalog entity', async () => {
    const basicWrite = createPermission({
      name: 'rollouts.something.delete',
      attributes: { action: 'delete' },
    });
    const decision = await policy.handle({ permission: basicWrite }, user);
    expect(decision).toEqual({ result: AuthorizeResult.DENY });
  });

  it('lets every signed-in user read rollout status', async () => {
    const read = createPermission({
      name: 'rollouts.status.read',
      attributes: { action: 'read' },
      resourceType: 'catalog-entity',
    });
    expect(await policy.handle({ permission: read }, user)).toEqual({
      result: AuthorizeResult.ALLOW,
    });
  });

  it('allows other plugins’ permissions', async () => {
    const catalogRead = createPermission({
      name: 'catalog.entity.read',
      attributes: { action: 'read' },
      resourceType: 'catalog-entity',
    });
    expect(await policy.handle({ permission: catalogRead }, user)).toEqual({
      result: AuthorizeResult.ALLOW,
    });
  });
});
