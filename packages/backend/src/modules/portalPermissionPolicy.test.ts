import { ConfigReader } from '@backstage/config';
import { catalogEntityReadPermission } from '@backstage/plugin-catalog-common/alpha';
import {
  kubernetesClustersReadPermission,
  kubernetesProxyPermission,
  kubernetesResourcesReadPermission,
} from '@backstage/plugin-kubernetes-common';
import {
  AuthorizeResult,
  createPermission,
} from '@backstage/plugin-permission-common';
import {
  rolloutsPermissions,
  rolloutsStatusReadPermission,
  rolloutsWritePermissions,
} from '@golden-path/plugin-rollouts-common';
import { goldenPathKubernetesApplyPermission } from '@golden-path/plugin-scaffolder-backend-module-golden-path';
import { PortalPermissionPolicy } from './portalPermissionPolicy';

function userOf(ref: string, groups: string[]) {
  const ownershipEntityRefs = [ref, ...groups];
  return {
    identity: {
      type: 'user' as const,
      userEntityRef: ref,
      ownershipEntityRefs,
    },
    info: { userEntityRef: ref, ownershipEntityRefs },
    token: 'token',
    credentials: {} as any,
  };
}

const alice = userOf('user:default/alice', ['group:default/team-a']);
const admin = userOf('user:default/root', ['group:default/platform-team']);

describe('PortalPermissionPolicy', () => {
  const policy = PortalPermissionPolicy.fromConfig(
    new ConfigReader({
      portal: {
        kubernetesProxy: { allowedGroups: ['group:default/Platform-Team'] },
        kubernetesApply: { allowedGroups: ['group:default/team-a'] },
      },
    }),
  );

  it('registers every rollouts permission it decides (the plugin exports them all)', () => {
    expect(rolloutsPermissions.map(p => p.name).sort()).toEqual([
      'rollouts.deployment.restart',
      'rollouts.deployment.undo',
      'rollouts.status.read',
      'rollouts.traffic.switch',
    ]);
  });

  it.each(rolloutsWritePermissions.map(p => [p.name, p]))(
    'lets only the owners of the entity %s',
    async (_name, permission) => {
      expect(await policy.handle({ permission }, alice)).toEqual({
        result: AuthorizeResult.CONDITIONAL,
        pluginId: 'catalog',
        resourceType: 'catalog-entity',
        conditions: {
          rule: 'IS_ENTITY_OWNER',
          resourceType: 'catalog-entity',
          params: { claims: ['user:default/alice', 'group:default/team-a'] },
        },
      });
      expect(await policy.handle({ permission })).toEqual({
        result: AuthorizeResult.DENY,
      });
    },
  );

  it('lets every signed-in user read rollout status, and nobody else', async () => {
    expect(
      await policy.handle({ permission: rolloutsStatusReadPermission }, alice),
    ).toEqual({ result: AuthorizeResult.ALLOW });
    expect(
      await policy.handle({ permission: rolloutsStatusReadPermission }),
    ).toEqual({ result: AuthorizeResult.DENY });
  });

  it('keeps the Kubernetes proxy to the configured groups', async () => {
    expect(
      await policy.handle({ permission: kubernetesProxyPermission }, alice),
    ).toEqual({ result: AuthorizeResult.DENY });
    expect(
      await policy.handle({ permission: kubernetesProxyPermission }),
    ).toEqual({ result: AuthorizeResult.DENY });
    // Entity refs compare case-insensitively, as in the catalog.
    expect(
      await policy.handle({ permission: kubernetesProxyPermission }, admin),
    ).toEqual({ result: AuthorizeResult.ALLOW });
  });

  it('denies the Kubernetes proxy to everyone when no group is configured', async () => {
    const strict = PortalPermissionPolicy.fromConfig(new ConfigReader({}));
    expect(
      await strict.handle({ permission: kubernetesProxyPermission }, admin),
    ).toEqual({ result: AuthorizeResult.DENY });
  });

  it('allows the Kubernetes tab’s reads and other plugins’ permissions', async () => {
    for (const permission of [
      kubernetesClustersReadPermission,
      kubernetesResourcesReadPermission,
      catalogEntityReadPermission,
    ]) {
      expect(await policy.handle({ permission }, alice)).toEqual({
        result: AuthorizeResult.ALLOW,
      });
    }
  });

  it('denies a rollouts permission the plugin does not decide', async () => {
    const unknownWrite = createPermission({
      name: 'rollouts.deployment.delete',
      attributes: { action: 'delete' },
    });
    expect(await policy.handle({ permission: unknownWrite }, alice)).toEqual({
      result: AuthorizeResult.DENY,
    });
  });

  it('does not mistake another plugin’s permission named like the proxy for it', async () => {
    const lookalike = createPermission({
      name: 'kubernetes.proxy.audit',
      attributes: { action: 'read' },
    });
    expect(await policy.handle({ permission: lookalike }, alice)).toEqual({
      result: AuthorizeResult.ALLOW,
    });
  });

  it("lets only the configured groups' members apply manifests from templates", async () => {
    const permission = goldenPathKubernetesApplyPermission;
    expect(await policy.handle({ permission }, alice)).toEqual({
      result: AuthorizeResult.ALLOW,
    });
    expect(await policy.handle({ permission }, admin)).toEqual({
      result: AuthorizeResult.DENY,
    });
    expect(await policy.handle({ permission })).toEqual({
      result: AuthorizeResult.DENY,
    });
    const strict = PortalPermissionPolicy.fromConfig(new ConfigReader({}));
    expect(await strict.handle({ permission }, alice)).toEqual({
      result: AuthorizeResult.DENY,
    });
  });

  it('denies a golden-path permission the policy does not decide', async () => {
    const unknownWrite = createPermission({
      name: 'golden-path.kubernetes.delete',
      attributes: { action: 'delete' },
    });
    expect(await policy.handle({ permission: unknownWrite }, alice)).toEqual({
      result: AuthorizeResult.DENY,
    });
  });
});
