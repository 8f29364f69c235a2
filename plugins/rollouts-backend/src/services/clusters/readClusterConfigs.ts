import { Config } from '@backstage/config';

/** Connection settings of one cluster, as the Kubernetes plugin reads them. @public */
export interface ClusterConnectionConfig {
  name: string;
  url: string;
  authProvider: string;
  serviceAccountToken?: string;
  caData?: string;
  caFile?: string;
  skipTLSVerify: boolean;
}

const AUTH_PROVIDER_KEY = 'kubernetes.io/auth-provider';

/**
 * Reads the clusters of `kubernetes.clusterLocatorMethods[]` entries of type
 * `config`, the same block the Kubernetes plugin uses, so clusters are
 * configured once.
 *
 * @public
 */
export function readClusterConfigs(config: Config): ClusterConnectionConfig[] {
  const methods =
    config.getOptionalConfigArray('kubernetes.clusterLocatorMethods') ?? [];
  const result: ClusterConnectionConfig[] = [];
  const names = new Set<string>();
  for (const method of methods) {
    if (method.getString('type') !== 'config') {
      continue;
    }
    for (const c of method.getOptionalConfigArray('clusters') ?? []) {
      const name = c.getString('name');
      if (names.has(name)) {
        throw new Error(`Duplicate cluster name '${name}'`);
      }
      names.add(name);
      const authMetadata =
        c.getOptionalConfig('authMetadata')?.get<Record<string, string>>() ??
        {};
      const authProvider =
        authMetadata[AUTH_PROVIDER_KEY] ?? c.getOptionalString('authProvider');
      if (!authProvider) {
        throw new Error(
          `Cluster '${name}' has no auth provider; set 'authProvider' (for example serviceAccount)`,
        );
      }
      result.push({
        name,
        url: c.getString('url'),
        authProvider,
        serviceAccountToken:
          c.getOptionalString('serviceAccountToken') ??
          authMetadata.serviceAccountToken,
        caData: c.getOptionalString('caData'),
        caFile: c.getOptionalString('caFile'),
        skipTLSVerify: c.getOptionalBoolean('skipTLSVerify') ?? false,
      });
    }
  }
  return result;
}
