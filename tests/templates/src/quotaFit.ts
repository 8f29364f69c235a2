import {
  containerResources,
  KubeDeployment,
  KubeLimitRange,
  KubeResourceQuota,
  parseQuantity,
  resolveStrategy,
} from '@golden-path/plugin-rollouts-common';

const COMPUTE_KEYS = [
  'requests.cpu',
  'requests.memory',
  'limits.cpu',
  'limits.memory',
] as const;

/** Rounding of `250m` and the like: far below any quantity a manifest can write. */
const EPSILON = 1e-9;

/**
 * Where Deployments do not fit a ResourceQuota at their peak: every replica plus the
 * pods a rolling update adds on top (maxSurge, 25% when unset; none for Recreate), all
 * Deployments rolling out at once as `kubectl apply -k` after an image bump does. Pods
 * get their requests and limits as admission gives them (LimitRange defaults
 * included). Returns one line per exceeded quota key or undeclared resource; empty
 * when everything fits.
 */
export function quotaOverruns(
  quota: KubeResourceQuota,
  deployments: KubeDeployment[],
  limitRanges: KubeLimitRange[] = [],
): string[] {
  const hard = quota.spec?.hard ?? {};
  const used: Record<string, number> = { pods: 0 };
  const problems: string[] = [];
  for (const deployment of deployments) {
    const pods =
      (deployment.spec?.replicas ?? 1) +
      (resolveStrategy(deployment).maxSurgePods ?? 0);
    used.pods += pods;
    const containers = containerResources(
      deployment.spec?.template,
      limitRanges,
    );
    for (const key of COMPUTE_KEYS) {
      const [section, resource] = key.split('.') as [
        'requests' | 'limits',
        string,
      ];
      for (const container of containers) {
        const value = parseQuantity(container[section][resource]);
        if (value === undefined && hard[key] !== undefined) {
          // The quota admits no pod that leaves a resource it counts undeclared.
          problems.push(
            `${deployment.metadata?.name}/${container.container} declares no ${key}`,
          );
        }
        used[key] = (used[key] ?? 0) + pods * (value ?? 0);
      }
    }
  }
  for (const [key, value] of Object.entries(used)) {
    const limit = parseQuantity(hard[key]);
    if (limit !== undefined && value > limit + EPSILON) {
      problems.push(`${key}: ${value} needed, quota ${hard[key]}`);
    }
  }
  return problems;
}
