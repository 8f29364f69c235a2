import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { kubernetesProxyPermission } from '@backstage/plugin-kubernetes-common';
import {
  AuthorizeResult,
  isPermission,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  PermissionPolicy,
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import { rolloutsPolicyDecision } from '@golden-path/plugin-rollouts-backend';
import { goldenPathKubernetesApplyPermission } from '@golden-path/plugin-scaffolder-backend-module-golden-path';

/** @public */
export interface PortalPermissionPolicyOptions {
  /** Groups whose members may use the Kubernetes plugin's proxy. */
  kubernetesProxyGroups: string[];
  /** Groups whose members' templates may apply manifests to the cluster. */
  kubernetesApplyGroups: string[];
}

/** Entity refs compare case-insensitively, as in the catalog. */
const groupSet = (groups: string[]) =>
  new Set(groups.map(g => g.toLocaleLowerCase('en-US')));

/**
 * The portal's policy:
 * - the rollouts plugin decides its own permissions (`rolloutsPolicyDecision`,
 *   the one source of truth: reads for every signed-in user, switch, restart
 *   and undo only for the owners of the entity); any other `rollouts.*`
 *   permission is denied;
 * - the Kubernetes plugin's proxy (`kubernetes.proxy`, raw API requests) only
 *   for members of the configured groups: it forwards whatever method and path
 *   the browser sends, so even with a read-only cluster identity it is not for
 *   every user;
 * - the scaffolder's `golden-path:kubernetes:apply` (`golden-path.kubernetes.apply`,
 *   writes to the cluster with the scaffolder's identity) only for members of the
 *   configured groups; any other `golden-path.*` permission is denied;
 * - everything else, including every other read, for every signed-in user.
 */
export class PortalPermissionPolicy implements PermissionPolicy {
  private readonly proxyGroups: Set<string>;
  private readonly applyGroups: Set<string>;

  constructor(options: PortalPermissionPolicyOptions) {
    this.proxyGroups = groupSet(options.kubernetesProxyGroups);
    this.applyGroups = groupSet(options.kubernetesApplyGroups);
  }

  static fromConfig(config: Config): PortalPermissionPolicy {
    return new PortalPermissionPolicy({
      kubernetesProxyGroups:
        config.getOptionalStringArray('portal.kubernetesProxy.allowedGroups') ??
        [],
      kubernetesApplyGroups:
        config.getOptionalStringArray('portal.kubernetesApply.allowedGroups') ??
        [],
    });
  }

  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    const { permission } = request;
    const rollouts = rolloutsPolicyDecision(permission, user?.info);
    if (rollouts) {
      return rollouts;
    }
    // A rollouts permission the plugin's decision does not know (a newer
    // plugin's write, say) is denied until someone decides who gets it.
    if (permission.name.startsWith('rollouts.')) {
      return { result: AuthorizeResult.DENY };
    }
    if (isPermission(permission, kubernetesProxyPermission)) {
      return this.allowMembersOf(this.proxyGroups, user);
    }
    if (isPermission(permission, goldenPathKubernetesApplyPermission)) {
      return this.allowMembersOf(this.applyGroups, user);
    }
    if (permission.name.startsWith('golden-path.')) {
      return { result: AuthorizeResult.DENY };
    }
    return { result: AuthorizeResult.ALLOW };
  }

  private allowMembersOf(
    groups: Set<string>,
    user: PolicyQueryUser | undefined,
  ): PolicyDecision {
    const member = (user?.info.ownershipEntityRefs ?? []).some(ref =>
      groups.has(ref.toLocaleLowerCase('en-US')),
    );
    return { result: member ? AuthorizeResult.ALLOW : AuthorizeResult.DENY };
  }
}

export const portalPermissionPolicyModule = createBackendModule({
  pluginId: 'permission',
  moduleId: 'portal-policy',
  register(reg) {
    reg.registerInit({
      deps: { policy: policyExtensionPoint, config: coreServices.rootConfig },
      async init({ policy, config }) {
        policy.setPolicy(PortalPermissionPolicy.fromConfig(config));
      },
    });
  },
});
