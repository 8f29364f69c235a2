import path from 'node:path';
import { Config } from '@backstage/config';

/** Where the config of the Kubernetes actions lives. */
export const CONFIG_KEY = 'goldenPath.kubernetes';

/** How the actions reach the API server, as `goldenPath.kubernetes` configures it. @public */
export interface ClusterConnection {
  url: string;
  caData?: string;
  caFile?: string;
  skipTLSVerify: boolean;
  serviceAccountToken?: string;
  /** Re-read on every task, so a rotated (projected or Secret) token is picked up. */
  serviceAccountTokenFile?: string;
}

/** Everything the Kubernetes actions read from app-config. @public */
export interface KubernetesActionSettings {
  /**
   * The cluster, or why there is none. Missing configuration is not a startup error: the
   * portal runs without a cluster, and only a task that uses the actions fails, saying
   * which keys to set.
   */
  connection: ClusterConnection | { missing: string };
  fieldManager: string;
  /** Never applied into, whatever a template says. */
  protectedNamespaces: string[];
  /**
   * An empty namespace in which validate dry-runs the objects of a namespace that does
   * not exist yet (the API server refuses even a dry-run into a missing namespace).
   * Nothing is ever stored there: every request is `dryRun=All`.
   */
  dryRunNamespace: string;
  /** tools/manifest-checks/check.sh: the project's schema and policy checks. */
  manifestChecksScript: string;
  /** kubectl, for `kubectl kustomize` (KUBECTL overrides, as in the repository's scripts). */
  kubectl: string;
}

export const DEFAULT_FIELD_MANAGER = 'backstage-golden-path';
export const DEFAULT_DRY_RUN_NAMESPACE = 'golden-path-dry-run';
/** Kubernetes' own namespaces; every `kube-*` namespace is protected too. */
export const SYSTEM_NAMESPACES = [
  'default',
  'kube-system',
  'kube-public',
  'kube-node-lease',
];

/** An unset `${VARIABLE:-}` reads as an empty string: it counts as not set. */
function optionalText(config: Config, key: string): string | undefined {
  const value = config.getOptional(key);
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new Error(`${key} must be a string`);
  }
  return value.trim() === '' ? undefined : value;
}

function readConnection(
  config: Config,
): KubernetesActionSettings['connection'] {
  const k = (key: string) => `${CONFIG_KEY}.${key}`;
  const url = optionalText(config, k('url'));
  if (!url) {
    return {
      missing:
        `${k(
          'url',
        )} is not set: the Kubernetes actions do not know which cluster to use. ` +
        `Set ${k('url')} (the API server, e.g. https://127.0.0.1:6443), ${k(
          'caData',
        )} or ${k('caFile')}, ` +
        `and ${k('serviceAccountToken')} or ${k(
          'serviceAccountTokenFile',
        )} in app-config (see the README of the golden-path scaffolder module).`,
    };
  }
  const serviceAccountToken = optionalText(config, k('serviceAccountToken'));
  const serviceAccountTokenFile = optionalText(
    config,
    k('serviceAccountTokenFile'),
  );
  if (serviceAccountToken && serviceAccountTokenFile) {
    throw new Error(
      `${k('serviceAccountToken')} and ${k(
        'serviceAccountTokenFile',
      )} are both set; keep one`,
    );
  }
  if (!serviceAccountToken && !serviceAccountTokenFile) {
    return {
      missing:
        `${k('serviceAccountToken')} (or ${k(
          'serviceAccountTokenFile',
        )}) is not set: the Kubernetes actions have no identity in the cluster at ${url}. ` +
        "Give them a ServiceAccount token of their own (not the Kubernetes plugin's read-only one); see the README of the golden-path scaffolder module for the RBAC it needs.",
    };
  }
  const caData = optionalText(config, k('caData'));
  const caFile = optionalText(config, k('caFile'));
  const skipTLSVerify = config.getOptionalBoolean(k('skipTLSVerify')) ?? false;
  if (caData && caFile) {
    throw new Error(`${k('caData')} and ${k('caFile')} are both set; keep one`);
  }
  if (skipTLSVerify && (caData || caFile)) {
    throw new Error(
      `${k(
        'skipTLSVerify',
      )} is true while a CA is configured; remove skipTLSVerify`,
    );
  }
  return {
    url,
    caData,
    caFile,
    skipTLSVerify,
    serviceAccountToken,
    serviceAccountTokenFile,
  };
}

/**
 * Reads `goldenPath.kubernetes`. Contradictory settings (two tokens, two CAs) fail at
 * startup; a missing cluster does not (see {@link KubernetesActionSettings.connection}).
 */
export function readKubernetesActionSettings(
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
): KubernetesActionSettings {
  return {
    connection: readConnection(config),
    fieldManager:
      optionalText(config, `${CONFIG_KEY}.fieldManager`) ??
      DEFAULT_FIELD_MANAGER,
    protectedNamespaces: [
      ...SYSTEM_NAMESPACES,
      ...(config.getOptionalStringArray(`${CONFIG_KEY}.protectedNamespaces`) ??
        []),
    ],
    dryRunNamespace:
      optionalText(config, `${CONFIG_KEY}.dryRunNamespace`) ??
      DEFAULT_DRY_RUN_NAMESPACE,
    manifestChecksScript: path.resolve(
      optionalText(config, `${CONFIG_KEY}.manifestChecksScript`) ??
        '../../tools/manifest-checks/check.sh',
    ),
    kubectl: env.KUBECTL || 'kubectl',
  };
}
