import { ClusterWriteAccess } from '@golden-path/plugin-rollouts-common';
import { KubeConfig } from '@kubernetes/client-node';
import fs from 'node:fs';
import {
  ClusterConnectionConfig,
  RolloutsIdentityConfig,
} from './readClusterConfigs';

/** The token Kubernetes mounts into every pod (rotated by the kubelet). @public */
export const IN_CLUSTER_TOKEN_FILE =
  '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * Auth providers of the Kubernetes plugin that sign in as the browser's user:
 * the page sends the user's token in `Backstage-Kubernetes-Authorization-*`.
 */
const PER_USER_AUTH_PROVIDERS = new Set(['google', 'oidc', 'aks']);

/** A bearer token, given as a value or as a file that is re-read as it rotates. */
export type TokenSource =
  | { token: string }
  | { tokenFile: string }
  | { none: true };

/**
 * How the plugin reaches one cluster: the identity its cache reads with, and
 * how writes authenticate.
 *
 * @public
 */
export interface ClusterIdentities {
  /** The identity of the shared cache, or why there is none. */
  read: { source: TokenSource } | { error: string };
  /** The identity of writes (`plugin`), or the user's own (`user`), or none. */
  write:
    | { mode: 'plugin'; source: TokenSource }
    | Exclude<ClusterWriteAccess, { mode: 'plugin' }>;
  /** Set when the configuration undoes the read-only Kubernetes plugin. */
  warning?: string;
}

function overrideSource(o: RolloutsIdentityConfig): TokenSource {
  return o.serviceAccountToken
    ? { token: o.serviceAccountToken }
    : { tokenFile: o.serviceAccountTokenFile! };
}

/**
 * The identity the Kubernetes plugin itself uses for a cluster, as far as the
 * rollouts plugin can reuse it for reading.
 */
function kubernetesPluginSource(
  cluster: ClusterConnectionConfig,
  inClusterTokenFile: string,
): TokenSource | undefined {
  if (cluster.authProvider === 'localKubectlProxy') return { none: true };
  if (cluster.authProvider !== 'serviceAccount') return undefined;
  if (cluster.serviceAccountToken)
    return { token: cluster.serviceAccountToken };
  return fs.existsSync(inClusterTokenFile)
    ? { tokenFile: inClusterTokenFile }
    : undefined;
}

function sameIdentity(a: TokenSource, b: TokenSource | undefined): boolean {
  if (!b) return false;
  if ('token' in a && 'token' in b) return a.token === b.token;
  if ('tokenFile' in a && 'tokenFile' in b) return a.tokenFile === b.tokenFile;
  return false;
}

/** Why a cluster has no identity the shared cache could read with. */
function noReadIdentity(
  cluster: ClusterConnectionConfig,
  inClusterTokenFile: string,
): string {
  if (PER_USER_AUTH_PROVIDERS.has(cluster.authProvider)) {
    return `Cluster '${cluster.name}' signs users in (authProvider ${cluster.authProvider}); the rollouts plugin keeps one shared cache per cluster and needs its own read identity there: set rollouts.clusters[{name: ${cluster.name}, serviceAccountToken or serviceAccountTokenFile}].`;
  }
  if (cluster.authProvider === 'serviceAccount') {
    return `Cluster '${cluster.name}' uses authProvider serviceAccount without serviceAccountToken, and the backend does not run in a pod (${inClusterTokenFile} is missing).`;
  }
  return `Cluster '${cluster.name}' uses authProvider '${cluster.authProvider}', which the rollouts plugin cannot use for its shared cache: set rollouts.clusters[{name: ${cluster.name}, serviceAccountToken or serviceAccountTokenFile}].`;
}

/**
 * Decides the read and write identities of one cluster.
 *
 * - Reads use `rollouts.clusters[]` when given, else the Kubernetes plugin's
 *   own service account (config token or the pod's token), which is expected
 *   to be read-only.
 * - Writes on clusters that sign users in (google, oidc, aks) use the user's
 *   own token, so the API server authorizes and records the real user.
 * - Other writes use only the rollouts plugin's own identity. Without one they
 *   are disabled: reusing the Kubernetes plugin's identity would give it write
 *   rights, and its proxy endpoint would then let any user write.
 *
 * @public
 */
export function resolveClusterIdentities(
  cluster: ClusterConnectionConfig,
  override: RolloutsIdentityConfig | undefined,
  inClusterTokenFile: string = IN_CLUSTER_TOKEN_FILE,
): ClusterIdentities {
  const pluginSource = override && overrideSource(override);
  const kubernetesSource = kubernetesPluginSource(cluster, inClusterTokenFile);
  const readSource = pluginSource ?? kubernetesSource;
  const read = readSource
    ? { source: readSource }
    : { error: noReadIdentity(cluster, inClusterTokenFile) };

  let write: ClusterIdentities['write'];
  if (PER_USER_AUTH_PROVIDERS.has(cluster.authProvider)) {
    write = {
      mode: 'user',
      authProvider: cluster.authProvider,
      ...(cluster.oidcTokenProvider && {
        oidcTokenProvider: cluster.oidcTokenProvider,
      }),
    };
  } else if (pluginSource) {
    write = { mode: 'plugin', source: pluginSource };
  } else {
    write = {
      mode: 'disabled',
      reason:
        cluster.authProvider === 'localKubectlProxy'
          ? `Writes are disabled in cluster '${cluster.name}': kubectl proxy is shared with the Kubernetes plugin, whose identity must stay read-only.`
          : `Writes are disabled in cluster '${cluster.name}': they need the rollouts plugin's own identity (rollouts.clusters[{name: ${cluster.name}, serviceAccountTokenFile}]). The Kubernetes plugin's identity is not used for writes; it must stay read-only, because its proxy endpoint forwards requests for any user.`,
    };
  }

  const warning =
    pluginSource && sameIdentity(pluginSource, kubernetesSource)
      ? `rollouts.clusters['${cluster.name}'] is the same identity as the Kubernetes plugin's. If it may patch, any user allowed to use /api/kubernetes/proxy can patch too: give the Kubernetes plugin a read-only ServiceAccount of its own.`
      : undefined;
  return { read, write, ...(warning && { warning }) };
}

/** A KubeConfig for one cluster and one identity. Token files are re-read (every 60 s, as client-go does). */
export function kubeConfigFor(
  cluster: Pick<
    ClusterConnectionConfig,
    'name' | 'url' | 'caData' | 'caFile' | 'skipTLSVerify'
  >,
  source: TokenSource,
): KubeConfig {
  let user: { name: string; token?: string; authProvider?: object };
  if ('token' in source) {
    user = { name: 'rollouts', token: source.token };
  } else if ('tokenFile' in source) {
    user = {
      name: 'rollouts',
      authProvider: {
        name: 'tokenFile',
        config: { tokenFile: source.tokenFile },
      },
    };
  } else {
    user = { name: 'rollouts' };
  }
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: cluster.name,
        server: cluster.url,
        caData: cluster.caData,
        caFile: cluster.caFile,
        skipTLSVerify: cluster.skipTLSVerify,
      },
    ],
    users: [user],
    contexts: [{ name: cluster.name, cluster: cluster.name, user: 'rollouts' }],
    currentContext: cluster.name,
  });
  return kc;
}
