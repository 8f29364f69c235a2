/*
 * The checks behind `golden-path:publish:preflight`, one function per question GitHub can
 * answer before anything is created: do we have credentials, does GitHub accept them, may
 * they create the repository in that owner, is the name free. Each throws an error that
 * says what to fix and that nothing was created.
 */
import {
  AuthenticationError,
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
} from '@backstage/errors';
import {
  GithubAppCredentialsMux,
  GithubCredentialsProvider,
} from '@backstage/integration';
import type { LoggerService } from '@backstage/backend-plugin-api';
import { Octokit } from 'octokit';
import {
  getPublishingCredentials,
  githubMessage,
  githubRequest,
  NOTHING_CREATED,
  PublishingCredentials,
  PublishTarget,
  REQUIRED_RIGHTS,
  tokenConfigHint,
} from './publishing';

export type Visibility = 'private' | 'internal' | 'public';

/** Classic token scopes that let the authenticated user read their org memberships. */
export const ORG_READ_SCOPES = ['read:org', 'write:org', 'admin:org'];

/** GitHub App installation permissions `publish:github` uses: create, push, push workflows. */
export function requiredAppPermissions(workflows: boolean): string[] {
  return ['administration', 'contents', ...(workflows ? ['workflows'] : [])];
}

export interface Identity {
  /** The authenticated user; undefined for a GitHub App installation. */
  login?: string;
  /** Classic token scopes; undefined when GitHub does not report them (fine-grained, App). */
  scopes?: string[];
}

export async function getCredentialsOrExplain(
  target: PublishTarget,
  credentialsProvider: GithubCredentialsProvider,
  token: string | undefined,
): Promise<PublishingCredentials> {
  let credentials: PublishingCredentials;
  try {
    credentials = await getPublishingCredentials({
      target,
      credentialsProvider,
      token,
    });
  } catch (e) {
    // Raised by the GitHub App support: suspended, or installed on selected repositories.
    throw new NotAllowedError(
      `The GitHub App configured for ${target.host} cannot give a token for ${
        target.owner
      }/${target.repo}: ${(e as Error).message}. ` +
        `A new repository is never in an installation's "Only select repositories" list: install the app on All repositories of ${target.owner}, ` +
        `or remove it from integrations.github[].apps so the token is used. ${NOTHING_CREATED}`,
    );
  }
  if (!credentials.token) {
    const apps = target.config.apps?.length
      ? ` The GitHub App(s) in integrations.github[].apps have no installation on ${target.owner}.`
      : '';
    throw new InputError(
      `Publishing to ${target.host} needs a GitHub token or a GitHub App, and the portal has none for ${target.owner}.${apps} ` +
        `To fix: ${tokenConfigHint(
          target.host,
        )} and restart the portal, or configure a GitHub App under integrations.github[].apps installed on ${
          target.owner
        }. ` +
        `${REQUIRED_RIGHTS} ${NOTHING_CREATED}`,
    );
  }
  return credentials;
}

export async function checkIdentity(
  client: Octokit,
  target: PublishTarget,
  credentials: PublishingCredentials,
): Promise<Identity> {
  // An installation token has no user: /user answers 403, so ask for what it can see.
  const res =
    credentials.type === 'app'
      ? await githubRequest(client, target, 'GET /installation/repositories', {
          per_page: 1,
        })
      : await githubRequest(client, target, 'GET /user');
  if (res.status === 401) {
    throw new AuthenticationError(
      `GitHub rejected ${credentials.source} (${githubMessage(
        res,
      )}): it is expired, revoked or mistyped. ` +
        `Create a new token at https://${
          target.host
        }/settings/tokens, ${tokenConfigHint(
          target.host,
        )} and restart the portal. ${REQUIRED_RIGHTS} ${NOTHING_CREATED}`,
    );
  }
  if (res.status !== 200) {
    throw new NotAllowedError(
      `GitHub refused to identify ${credentials.source} (${githubMessage(
        res,
      )}). ${REQUIRED_RIGHTS} ${NOTHING_CREATED}`,
    );
  }
  if (credentials.type === 'app') {
    return {};
  }
  const header = res.headers['x-oauth-scopes'];
  return {
    login: res.data.login,
    scopes:
      header === undefined
        ? undefined
        : String(header)
            .split(',')
            .map(scope => scope.trim())
            .filter(Boolean),
  };
}

export async function checkOwner(
  client: Octokit,
  target: PublishTarget,
): Promise<'Organization' | 'User'> {
  // publish:github asks the same question to choose between an org and a user repository.
  const res = await githubRequest(client, target, 'GET /users/{username}', {
    username: target.owner,
  });
  if (res.status === 404) {
    throw new NotFoundError(
      `GitHub has no user or organization named ${target.owner}: correct the owner in the Repository location field. ${NOTHING_CREATED}`,
    );
  }
  if (res.status !== 200) {
    throw new NotAllowedError(
      `GitHub did not answer who ${target.owner} is (${githubMessage(
        res,
      )}). ${NOTHING_CREATED}`,
    );
  }
  return res.data.type === 'Organization' ? 'Organization' : 'User';
}

export function checkTokenScopes(
  target: PublishTarget,
  identity: Identity,
  visibility: Visibility,
  workflows: boolean,
  logger: LoggerService,
) {
  if (identity.scopes === undefined) {
    logger.warn(
      'GitHub does not report the permissions of this token (a fine-grained token or an app user token), so they cannot be checked before creation. ' +
        `It must have ${target.owner} as resource owner, access to All repositories (a new repository is never in a selected list), ` +
        `and Administration, Contents${
          workflows ? ' and Workflows' : ''
        }: Read and write; otherwise creating or pushing fails and the rollback step removes the empty repository.`,
    );
    return;
  }
  const has = (scope: string) => identity.scopes!.includes(scope);
  const missing: string[] = [];
  if (!has('repo') && !(visibility === 'public' && has('public_repo'))) {
    missing.push(visibility === 'public' ? 'public_repo (or repo)' : 'repo');
  }
  if (workflows && !has('workflow')) {
    missing.push('workflow');
  }
  if (missing.length > 0) {
    throw new NotAllowedError(
      `The classic token of ${identity.login} lacks the scope(s) ${missing.join(
        ', ',
      )} (it has: ${identity.scopes.join(', ') || 'no scopes'}). ` +
        `publish:github needs repo to create the ${visibility} repository${
          workflows ? ' and workflow to push its .github/workflows files' : ''
        }. ` +
        `Add them at https://${
          target.host
        }/settings/tokens, or create a new token with them, ${tokenConfigHint(
          target.host,
        )} and restart the portal. ${NOTHING_CREATED}`,
    );
  }
  logger.info(
    `The classic token has the scopes publishing needs (${identity.scopes.join(
      ', ',
    )})`,
  );
  if (!has('delete_repo')) {
    logger.warn(
      'The token lacks the delete_repo scope: if pushing fails after the repository is created, the rollback step cannot remove the empty repository and you will have to delete it by hand.',
    );
  }
}

export function checkUserOwner(target: PublishTarget, identity: Identity) {
  // publish:github creates user repositories with POST /user/repos: always in the
  // token's own account, whatever the owner in repoUrl says.
  if (identity.login?.toLowerCase() !== target.owner.toLowerCase()) {
    throw new NotAllowedError(
      `${target.owner} is a user account other than the token's user (${identity.login}), and GitHub only lets a token create repositories in its own account or in organizations. ` +
        `Choose ${identity.login} or an organization as owner in the Repository location field, or configure a token of ${target.owner}. ${NOTHING_CREATED}`,
    );
  }
}

export async function checkOrgMembership(
  client: Octokit,
  target: PublishTarget,
  identity: Identity,
  visibility: Visibility,
  logger: LoggerService,
) {
  const org = target.owner;
  const res = await githubRequest(
    client,
    target,
    'GET /user/memberships/orgs/{org}',
    { org },
  );
  const sso = res.headers['x-github-sso'];
  if (res.status === 403 && sso) {
    const url = /url=(\S+)/.exec(String(sso))?.[1];
    throw new NotAllowedError(
      `${org} enforces SAML single sign-on and the token is not authorized for it: authorize the token for ${org}${
        url
          ? ` at ${url}`
          : ` at https://${target.host}/settings/tokens (Configure SSO)`
      }. ${NOTHING_CREATED}`,
    );
  }
  if (res.status !== 200) {
    const canReadOrgs = identity.scopes?.some(s => ORG_READ_SCOPES.includes(s));
    if (res.status === 404 && canReadOrgs) {
      throw new NotAllowedError(
        `${identity.login} is not a member of the organization ${org}, so the token cannot create repositories there. ` +
          `Ask an owner of ${org} to invite ${identity.login}, or choose an owner the token's user belongs to. ${NOTHING_CREATED}`,
      );
    }
    logger.warn(
      `Could not read ${identity.login}'s membership in ${org} (${githubMessage(
        res,
      )}; a classic token needs read:org, a fine-grained one Members: Read). ` +
        'GitHub still checks it when creating the repository, which then fails before anything exists.',
    );
    return;
  }
  if (res.data.state !== 'active') {
    throw new NotAllowedError(
      `${identity.login} has a pending invitation to ${org}: accept it at https://${target.host}/orgs/${org}/invitation before publishing there. ${NOTHING_CREATED}`,
    );
  }
  if (res.data.role === 'admin') {
    logger.info(`${identity.login} is an owner of ${org}`);
    return;
  }
  const orgRes = await githubRequest(client, target, 'GET /orgs/{org}', {
    org,
  });
  const policy = orgRes.status === 200 ? orgRes.data : {};
  const allowed = policy[`members_can_create_${visibility}_repositories`];
  const allowedAtAll = policy.members_can_create_repositories;
  if (allowed === false || allowedAtAll === false) {
    throw new NotAllowedError(
      `Members of ${org} may not create ${visibility} repositories (an organization setting), and ${identity.login} is a member, not an owner. ` +
        `Ask an owner of ${org} to allow it (Settings → Member privileges → Repository creation) or to create the repository, or use a token of an owner. ${NOTHING_CREATED}`,
    );
  }
  if (allowed === undefined && allowedAtAll === undefined) {
    logger.warn(
      `${identity.login} is a member of ${org}; GitHub does not show members the organization's repository creation policy, so it is checked when creating (which then fails before anything exists).`,
    );
    return;
  }
  logger.info(
    `${identity.login} is a member of ${org}, and members may create ${visibility} repositories`,
  );
}

export async function checkAppInstallation(
  target: PublishTarget,
  ownerType: 'Organization' | 'User',
  workflows: boolean,
  logger: LoggerService,
) {
  if (ownerType === 'User') {
    throw new NotAllowedError(
      `${target.owner} is a user account, and a GitHub App installation cannot create repositories in a user account. ` +
        `Choose an organization where the app is installed, or, for user repositories, ${tokenConfigHint(
          target.host,
        )} and restart the portal. ${NOTHING_CREATED}`,
    );
  }
  const installations = await new GithubAppCredentialsMux(
    target.config,
  ).getAllInstallations();
  const installation = installations.find(
    i =>
      i.account &&
      'login' in i.account &&
      i.account.login?.toLowerCase() === target.owner.toLowerCase(),
  );
  if (!installation) {
    logger.warn(
      `Could not read the GitHub App installation on ${target.owner} to check its permissions; GitHub checks them when creating the repository.`,
    );
    return;
  }
  const permissions = installation.permissions as Record<string, string>;
  const missing = requiredAppPermissions(workflows).filter(
    p => permissions[p] !== 'write',
  );
  if (missing.length > 0) {
    throw new NotAllowedError(
      `The GitHub App installation on ${target.owner} lacks ${missing
        .map(p => `${p}: write`)
        .join(', ')} ` +
        `(it has: ${
          Object.entries(permissions)
            .map(([p, level]) => `${p}: ${level}`)
            .join(', ') || 'nothing'
        }). publish:github needs administration to create the repository, contents to push${
          workflows ? ' and workflows to push .github/workflows' : ''
        }. ` +
        `Grant them in the app's settings (Permissions & events) and have an owner of ${target.owner} accept the new permissions. ${NOTHING_CREATED}`,
    );
  }
  logger.info(
    `The GitHub App installation on ${
      target.owner
    } has ${requiredAppPermissions(workflows)
      .map(p => `${p}: write`)
      .join(', ')}`,
  );
}

export async function checkNameIsFree(
  client: Octokit,
  target: PublishTarget,
): Promise<string> {
  const res = await githubRequest(client, target, 'GET /repos/{owner}/{repo}', {
    owner: target.owner,
    repo: target.repo,
  });
  if (res.status === 200) {
    throw new ConflictError(
      `The repository ${target.owner}/${target.repo} already exists (${target.htmlUrl}): choose another name in the Repository location field. ${NOTHING_CREATED}`,
    );
  }
  if (res.status !== 404) {
    throw new NotAllowedError(
      `GitHub did not answer whether ${target.owner}/${
        target.repo
      } exists (${githubMessage(res)}). ${NOTHING_CREATED}`,
    );
  }
  // GitHub's clock, not ours: the rollback compares it with the repository's created_at.
  const date = res.headers.date ? new Date(String(res.headers.date)) : null;
  return (
    date && !Number.isNaN(date.getTime()) ? date : new Date()
  ).toISOString();
}
