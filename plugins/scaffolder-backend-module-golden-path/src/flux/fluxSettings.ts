import { Config } from '@backstage/config';
import { FLUX_NAME } from './fluxObjects';

/** Where the config of golden-path:flux:register lives. */
export const FLUX_CONFIG_KEY = 'goldenPath.flux';

/** What golden-path:flux:register reads from app-config. @public */
export interface FluxSettings {
  /** The namespace of Flux's objects (where its controllers look: flux-system). */
  namespace: string;
  /**
   * The ServiceAccount (in `namespace`) kustomize-controller applies
   * a registered repository as; unset: Flux's own default.
   */
  serviceAccountName?: string;
  /**
   * The Secret (in `namespace`) with the Git credentials for each
   * server, by host (`127.0.0.1:3300`). A repository on a host without one is fetched
   * without credentials (public repositories).
   */
  gitCredentials: { host: string; secretName: string }[];
}

export const DEFAULT_FLUX_NAMESPACE = 'flux-system';

/** A Kubernetes name from config; `label` is the key as a user would write it. */
function kubeName(value: string, label: string): string {
  if (!FLUX_NAME.test(value)) {
    throw new Error(
      `${label} must be a Kubernetes name (lower-case letters, digits and '-'), got "${value}"`,
    );
  }
  return value;
}

/** An unset `${VARIABLE:-}` reads as an empty string: it counts as not set. */
function optionalName(config: Config, key: string): string | undefined {
  const value = config.getOptional(key);
  if (value === undefined || value === '') return undefined;
  return kubeName(String(value), key);
}

/** Reads `goldenPath.flux`; every key is optional. Wrong values fail at startup. */
export function readFluxSettings(config: Config): FluxSettings {
  const k = (key: string) => `${FLUX_CONFIG_KEY}.${key}`;
  const gitCredentials = (
    config.getOptionalConfigArray(k('gitCredentials')) ?? []
  ).map((entry, index) => {
    const host = entry.getString('host');
    if (!/^[a-z0-9.-]+(:\d{1,5})?$/i.test(host)) {
      throw new Error(
        `${k(
          `gitCredentials[${index}].host`,
        )} must be a host with an optional port (127.0.0.1:3300, github.com), got "${host}"`,
      );
    }
    return {
      host,
      secretName: kubeName(
        entry.getString('secretName'),
        k(`gitCredentials[${index}].secretName`),
      ),
    };
  });
  return {
    namespace: optionalName(config, k('namespace')) ?? DEFAULT_FLUX_NAMESPACE,
    serviceAccountName: optionalName(config, k('serviceAccountName')),
    gitCredentials,
  };
}
