import { InputError } from '@backstage/errors';
import { ScmIntegrationRegistry } from '@backstage/integration';
import { parseRepoUrl } from '@backstage/plugin-scaffolder-node';

/** The Git servers the templates publish to: GitHub (`publish:github`) and Gitea (`publish:gitea`). */
export type PublishingProvider = 'github' | 'gitea';

/**
 * Which Git server `repoUrl` (the RepoUrlPicker format `<host>?owner=<owner>&repo=<name>`)
 * points at, by the kind of integration the portal's config has for its host: the same
 * lookup `publish:github` and `publish:gitea` do. Fails with what to configure when the
 * host has no GitHub or Gitea integration.
 */
export function publishingProviderFor(
  repoUrl: string,
  integrations: ScmIntegrationRegistry,
): { provider: PublishingProvider; host: string } {
  let host: string;
  try {
    host = new URL(`https://${repoUrl}`).host;
  } catch {
    throw new InputError(
      `repoUrl must look like <host>?owner=<owner>&repo=<name>, e.g. github.com?owner=<owner>&repo=<name> (what the Repository location field produces); got "${repoUrl}". Nothing was created.`,
    );
  }
  const type = integrations.byHost(host)?.type;
  if (type === 'github' || type === 'gitea') {
    return { provider: type, host };
  }
  throw new InputError(
    `The portal has no GitHub or Gitea integration for ${host}, so it cannot publish there` +
      `${type ? ` (its integration for that host is of type ${type})` : ''}. ` +
      `For a GitHub host, add an entry to integrations.github in app-config.yaml with host: ${host}, its apiBaseUrl and a token; ` +
      `for a Gitea server, an entry to integrations.gitea with host: ${host}, its baseUrl, a username and a token as password. ` +
      `Or pick a host the portal knows in the Repository location field. Nothing was created.`,
  );
}

/**
 * The owner and repository `repoUrl` names, read as the publish actions read them
 * (`parseRepoUrl`); empty when one is missing, so the caller can say how to fix it
 * (parseRepoUrl names the missing parameter, not the fix).
 */
export function ownerAndRepo(
  repoUrl: string,
  integrations: ScmIntegrationRegistry,
): { owner?: string; repo?: string } {
  try {
    const { owner, repo } = parseRepoUrl(repoUrl, integrations);
    return { owner, repo };
  } catch {
    return {};
  }
}
