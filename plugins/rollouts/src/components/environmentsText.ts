import {
  ClusterEnvironments,
  EnvironmentContainer,
  FluxReadyState,
  revisionCommit,
} from '@golden-path/plugin-rollouts-common';

/**
 * The page listing the repository's promotion pull requests (branches
 * `promote/<env>-<digest>`): promotion is a merge in Git, never a button here.
 * GitHub filters by branch prefix; other hosts (the local Gitea) list all pull
 * requests. Undefined when the source location is not an http(s) repository.
 */
export function promotionPullRequestsUrl(
  sourceLocation: string | undefined,
): string | undefined {
  if (!sourceLocation) return undefined;
  let url: URL;
  try {
    url = new URL(sourceLocation.replace(/^url:/, ''));
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const [owner, repository] = url.pathname.split('/').filter(Boolean);
  if (!owner || !repository) return undefined;
  const base = `${url.origin}/${owner}/${repository.replace(/\.git$/, '')}`;
  return url.hostname === 'github.com'
    ? `${base}/pulls?q=is%3Apr+head%3Apromote%2F`
    : `${base}/pulls`;
}

export const FLUX_STATE_LABEL: Record<FluxReadyState, string> = {
  ready: 'Ready',
  'not-ready': 'Not ready',
  reconciling: 'Reconciling',
  suspended: 'Suspended',
  unknown: 'Unknown',
};

/** The colour family of each state, as @backstage/ui names them. */
export const FLUX_STATE_TONE: Record<
  FluxReadyState,
  'success' | 'danger' | 'info' | 'warning' | 'neutral'
> = {
  ready: 'success',
  'not-ready': 'danger',
  reconciling: 'info',
  suspended: 'warning',
  unknown: 'neutral',
};

/** Why a cluster shows no environments, or undefined when Flux can be read. */
export function fluxUnavailableText(
  flux: ClusterEnvironments['flux'],
): string | undefined {
  switch (flux) {
    case 'not-installed':
      return 'Flux is not installed in this cluster (it serves no Kustomizations).';
    case 'forbidden':
      return "The rollouts plugin may not read Flux's Kustomizations in this cluster (RBAC: list/watch on kustomizations.kustomize.toolkit.fluxcd.io).";
    case 'unavailable':
      return "Flux's Kustomizations cannot be read in this cluster right now.";
    default:
      return undefined;
  }
}

/** `sha256:` and the first 12 hex digits, as `docker images` shows them. */
export function shortDigest(digest: string): string {
  return digest.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]+$/, '$1');
}

/** The first 7 characters of a revision's commit, as git shows it. */
export function shortRevision(revision: string): string {
  const commit = revisionCommit(revision);
  return /^[0-9a-f]{8,}$/.test(commit) ? commit.slice(0, 7) : commit;
}

/** What the digest column warns about a container, if anything. */
export function digestWarning(c: EnvironmentContainer): string | undefined {
  switch (c.agreement) {
    case 'mismatch':
      return `Pods run ${c.running
        .filter(d => d !== c.digest)
        .map(shortDigest)
        .join(', ')}, not the digest Git names`;
    case 'unpinned':
      return 'Git names a tag, not a digest';
    default:
      return undefined;
  }
}
