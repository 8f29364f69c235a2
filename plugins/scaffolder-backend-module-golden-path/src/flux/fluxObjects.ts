import path from 'node:path';
import { InputError } from '@backstage/errors';
import {
  ENTITY_REF_ANNOTATION,
  type KubeObject,
} from '@golden-path/plugin-rollouts-common';

export const GIT_REPOSITORY_API_VERSION = 'source.toolkit.fluxcd.io/v1';
export const KUSTOMIZATION_API_VERSION = 'kustomize.toolkit.fluxcd.io/v1';

/** A Flux object as the portal writes it: spec included. */
export type FluxObject = KubeObject & { spec: Record<string, unknown> };

/** Everything one repository's registration with Flux is made of. */
export interface FluxRegistration {
  /** The name of both objects (GitRepository and Kustomization). */
  name: string;
  /** Where Flux's objects live (flux-system). */
  fluxNamespace: string;
  /** The clone URL, as {@link parseRepositoryUrl} accepted it. */
  url: string;
  branch: string;
  /** The folder of the repository Flux builds, as {@link normalizeRepositoryPath} gives it. */
  path: string;
  /** The namespace the template owns: every namespaced object is forced into it. */
  targetNamespace: string;
  entityRef: string;
  /** How often source-controller fetches the branch. */
  intervalSeconds: number;
  /** How long kustomize-controller waits for the applied objects to become healthy. */
  timeoutSeconds: number;
  prune: boolean;
  /** The Secret with the Git credentials (basic auth), when the host needs one. */
  secretName?: string;
  /** The ServiceAccount kustomize-controller impersonates to apply. */
  serviceAccountName?: string;
}

/** A DNS-1123 label: the names Flux's labels (`kustomize.toolkit.fluxcd.io/name`) allow. */
export const FLUX_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * The repository URL source-controller clones: http(s) only (the credentials travel
 * in the Secret, so a URL carrying a user or password is refused), no query or
 * fragment. Returns the URL as given, and its host (with port) for the credentials.
 */
export function parseRepositoryUrl(url: string): {
  url: string;
  host: string;
} {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputError(
      `repository URL "${url}" is not a URL: give the clone URL, e.g. http://127.0.0.1:3300/golden-path/hello-web.git (publish:gitea's remoteUrl)`,
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InputError(
      `repository URL "${url}" uses ${parsed.protocol} : the portal registers http(s) clone URLs only (SSH needs a deploy key it does not manage)`,
    );
  }
  if (parsed.username || parsed.password) {
    throw new InputError(
      `repository URL "${parsed.protocol}//${parsed.host}${parsed.pathname}" carries credentials: Flux reads them from a Secret (goldenPath.flux.gitCredentials), never from the URL`,
    );
  }
  if (parsed.search || parsed.hash || parsed.pathname.split('/').length < 3) {
    throw new InputError(
      `repository URL "${url}" is not a repository's clone URL (expected <server>/<owner>/<repository>[.git], without query or fragment)`,
    );
  }
  return { url, host: parsed.host };
}

/**
 * A branch name git accepts (git check-ref-format's rules, without the rare ones): no
 * spaces, control characters, `~^:?*[\`, `..`, `@{`, no leading `-` or `/`, no trailing
 * `/`, `.` or `.lock`.
 */
export function checkBranch(branch: string): void {
  const bad =
    branch.length === 0 ||
    branch.length > 255 ||
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u0020\u007f~^:?*[\\]/.test(branch) ||
    branch.includes('..') ||
    branch.includes('@{') ||
    branch.includes('//') ||
    /^[-/]|[/.]$|\.lock$/.test(branch);
  if (bad) {
    throw new InputError(
      `branch "${branch}" is not a valid git branch name (no spaces, ~^:?*[\\, "..", leading "-" or "/", trailing "/", "." or ".lock")`,
    );
  }
}

/**
 * The repository folder Flux builds, as Flux writes it (`./overlays/local`): relative,
 * inside the repository.
 */
export function normalizeRepositoryPath(folder: string): string {
  const normalized = path.posix.normalize(folder.replace(/\\/g, '/'));
  if (
    folder.trim() === '' ||
    path.posix.isAbsolute(normalized) ||
    normalized === '..' ||
    normalized.startsWith('../')
  ) {
    throw new InputError(
      `path "${folder}" must be a folder inside the repository, e.g. overlays/local`,
    );
  }
  return normalized === '.' ? './' : `./${normalized.replace(/\/$/, '')}`;
}

/** The Secret for a repository on `host`, from `goldenPath.flux.gitCredentials`. */
export function secretFor(
  host: string,
  gitCredentials: { host: string; secretName: string }[],
): string | undefined {
  return gitCredentials.find(c => c.host.toLowerCase() === host.toLowerCase())
    ?.secretName;
}

/**
 * The GitRepository and Kustomization that make Flux reconcile `path` of the repository
 * into the cluster.
 *
 * - Both carry the ownership annotation naming the entity, so a later registration
 *   under the same name by another entity is refused.
 * - The Kustomization forces every object into the template's namespace
 *   (`targetNamespace`; kustomize renames the repository's own Namespace object to it
 *   too), marks every applied object with the same annotation (`commonMetadata`, what
 *   the rollouts plugin checks before it changes a Deployment), prunes what the
 *   repository no longer has, waits for the objects to be healthy, and applies as the
 *   configured ServiceAccount rather than as kustomize-controller itself.
 */
export function renderFluxObjects(r: FluxRegistration): {
  gitRepository: FluxObject;
  kustomization: FluxObject;
} {
  const metadata = {
    name: r.name,
    namespace: r.fluxNamespace,
    labels: {
      'app.kubernetes.io/managed-by': 'backstage-golden-path',
      'app.kubernetes.io/part-of': r.targetNamespace,
    },
    annotations: { [ENTITY_REF_ANNOTATION]: r.entityRef },
  };
  return {
    gitRepository: {
      apiVersion: GIT_REPOSITORY_API_VERSION,
      kind: 'GitRepository',
      metadata,
      spec: {
        url: r.url,
        ref: { branch: r.branch },
        interval: `${r.intervalSeconds}s`,
        timeout: '60s',
        ...(r.secretName && { secretRef: { name: r.secretName } }),
      },
    },
    kustomization: {
      apiVersion: KUSTOMIZATION_API_VERSION,
      kind: 'Kustomization',
      metadata,
      spec: {
        sourceRef: { kind: 'GitRepository', name: r.name },
        path: r.path,
        // A new commit is applied as soon as source-controller has it (Flux watches the
        // source); this interval only re-applies the same commit to undo drift.
        interval: '5m',
        retryInterval: `${Math.max(r.intervalSeconds, 10)}s`,
        timeout: `${r.timeoutSeconds}s`,
        prune: r.prune,
        wait: true,
        targetNamespace: r.targetNamespace,
        commonMetadata: {
          annotations: { [ENTITY_REF_ANNOTATION]: r.entityRef },
        },
        ...(r.serviceAccountName && {
          serviceAccountName: r.serviceAccountName,
        }),
      },
    },
  };
}
