import { Config } from '@backstage/config';

/** Connection settings of one cluster, as the Kubernetes plugin reads them. @public @public */
export interface ClusterConnectionConfig {
  name: string;
  url: string;
  authProvider: string;
  /** For `authProvider: oidc`: which sign-in provider's ID token the user sends. */
  oidcTokenProvider?: string;
  serviceAccountToken?: string;
  caData?: string;
  caFile?: string;
  skipTLSVerify: boolean;
}

/**
 * The rollouts plugin's own identity in one cluster (`rollouts.clusters[]`).
 * It reads the cache and makes the writes, so the Kubernetes plugin's identity
 * can stay read-only.
 *
 * @public
 */
export interface RolloutsIdentityConfig {
  serviceAccountToken?: string;
  /** A token file, re-read as it rotates (a projected or Secret volume). */
  serviceAccountTokenFile?: string;
}

/** @public */
export interface ClusterSources {
  clusters: ClusterConnectionConfig[];
  /** Clusters (or whole locators) the plugin cannot read, with the reason. */
  skipped: { name: string; reason: string }[];
  /** `rollouts.clusters[]` by cluster name. */
  identities: Map<string, RolloutsIdentityConfig>;
  /** Configuration that is valid but probably not what was meant. */
  warnings: string[];
}

const AUTH_PROVIDER_KEY = 'kubernetes.io/auth-provider';
const OIDC_TOKEN_PROVIDER_KEY = 'kubernetes.io/oidc-token-provider';

/** Where Backstage's `localKubectlProxy` locator expects `kubectl proxy`. */
const KUBECTL_PROXY_URL = 'http://localhost:8001';

function readConfigLocator(
  method: Config,
  names: Set<string>,
): ClusterConnectionConfig[] {
  const result: ClusterConnectionConfig[] = [];
  for (const c of method.getOptionalConfigArray('clusters') ?? []) {
    const name = c.getString('name');
    if (names.has(name)) {
      throw new Error(`Duplicate cluster name '${name}'`);
    }
    names.add(name);
    const authMetadata =
      c.getOptionalConfig('authMetadata')?.get<Record<string, string>>() ?? {};
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
      oidcTokenProvider:
        authMetadata[OIDC_TOKEN_PROVIDER_KEY] ??
        c.getOptionalString('oidcTokenProvider'),
      serviceAccountToken:
        c.getOptionalString('serviceAccountToken') ??
        authMetadata.serviceAccountToken,
      caData: c.getOptionalString('caData'),
      caFile: c.getOptionalString('caFile'),
      skipTLSVerify: c.getOptionalBoolean('skipTLSVerify') ?? false,
    });
  }
  return result;
}

function readIdentities(
  config: Config,
  known: Set<string>,
  warnings: string[],
): Map<string, RolloutsIdentityConfig> {
  const identities = new Map<string, RolloutsIdentityConfig>();
  const entries = config.getOptionalConfigArray('rollouts.clusters') ?? [];
  entries.forEach((c, i) => {
    const name = c.getString('name');
    if (!known.has(name)) {
      throw new Error(
        `rollouts.clusters[${i}].name '${name}' is not a cluster of kubernetes.clusterLocatorMethods (known: ${
          [...known].join(', ') || 'none'
        })`,
      );
    }
    if (identities.has(name)) {
      throw new Error(`rollouts.clusters lists cluster '${name}' twice`);
    }
    // An empty value (an unset `${VARIABLE:-}`) counts as none.
    const text = (key: string) => {
      const value = c.getOptional(key);
      if (value === undefined || value === '') return undefined;
      if (typeof value !== 'string') {
        throw new Error(`rollouts.clusters[${i}].${key} must be a string`);
      }
      return value;
    };
    const serviceAccountToken = text('serviceAccountToken');
    const serviceAccountTokenFile = text('serviceAccountTokenFile');
    if (serviceAccountToken && serviceAccountTokenFile) {
      throw new Error(
        `rollouts.clusters[${i}] ('${name}') sets both serviceAccountToken and serviceAccountTokenFile; keep one`,
      );
    }
    if (!serviceAccountToken && !serviceAccountTokenFile) {
      // Typically `serviceAccountToken: ${ROLLOUTS_CLUSTER_TOKEN}` with the
      // variable unset: the plugin still reads, without writes.
      warnings.push(
        `rollouts.clusters[${i}] ('${name}') has no serviceAccountToken or serviceAccountTokenFile (an unset environment variable?); writes to '${name}' stay disabled`,
      );
      return;
    }
    identities.set(name, { serviceAccountToken, serviceAccountTokenFile });
  });
  return identities;
}

/**
 * Reads the clusters of `kubernetes.clusterLocatorMethods`, the block the
 * Kubernetes plugin uses, so clusters are configured once; plus the rollouts
 * plugin's own identity per cluster from `rollouts.clusters`.
 *
 * Locators of type `config` and `localKubectlProxy` are read. Others (for
 * example `catalog` or `gke`) discover clusters at run time through the
 * Kubernetes plugin's internals; they are reported as skipped, with the
 * reason, so the page can say which clusters it does not show.
 *
 * @public
 */
export function readClusterSources(config: Config): ClusterSources {
  const methods =
    config.getOptionalConfigArray('kubernetes.clusterLocatorMethods') ?? [];
  const clusters: ClusterConnectionConfig[] = [];
  const skipped: ClusterSources['skipped'] = [];
  const names = new Set<string>();
  for (const method of methods) {
    const type = method.getString('type');
    if (type === 'config') {
      clusters.push(...readConfigLocator(method, names));
    } else if (type === 'localKubectlProxy') {
      if (names.has('local')) {
        throw new Error(`Duplicate cluster name 'local'`);
      }
      names.add('local');
      clusters.push({
        name: 'local',
        url: KUBECTL_PROXY_URL,
        authProvider: 'localKubectlProxy',
        skipTLSVerify: false,
      });
    } else {
      skipped.push({
        name: `${type} locator`,
        reason: `Clusters found by the '${type}' cluster locator are not shown: the rollouts plugin reads locators of type 'config' and 'localKubectlProxy'. List the cluster under a 'config' locator to see it here.`,
      });
    }
  }
  const warnings: string[] = [];
  const identities = readIdentities(config, names, warnings);
  return { clusters, skipped, identities, warnings };
}
