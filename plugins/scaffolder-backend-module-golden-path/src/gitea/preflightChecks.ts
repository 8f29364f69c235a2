/*
 * The checks behind `golden-path:publish:preflight` for a Gitea host, one function per
 * question Gitea's API (/api/v1) can answer before anything is created: is the server
 * there, does it accept the portal's token, does the organisation exist, may the token's
 * user create repositories in it with this token, is the name free. Each throws an error
 * that says what to fix and that nothing was created.
 */
import {
  AuthenticationError,
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { Visibility } from '../github/preflightChecks';
import {
  GITEA_TOKEN_SCOPES,
  giteaConfigHint,
  giteaMessage,
  giteaRequest,
  GiteaTarget,
  NOTHING_CREATED_ON_GITEA,
} from './giteaApi';

const SCOPES_NEEDED = `The token needs the scopes ${GITEA_TOKEN_SCOPES.join(
  ', ',
)}`;

/** publish:gitea sends `private: true/false`; Gitea repositories have no "internal". */
export function checkGiteaVisibility(
  target: GiteaTarget,
  visibility: Visibility,
) {
  if (visibility === 'internal') {
    throw new InputError(
      `Gitea repositories are private or public; "internal" exists only on GitHub Enterprise, and publish:gitea would refuse it. ` +
        `Choose private or public for ${target.owner}/${target.repo} on ${target.host}. ${NOTHING_CREATED_ON_GITEA}`,
    );
  }
}

/** `publish:gitea` refuses to start without both; say where they come from. */
export function checkGiteaCredentials(target: GiteaTarget): {
  configured: boolean;
  explanation: string;
} {
  const { username, password } = target.config;
  const missing = [
    ...(username ? [] : ['username']),
    ...(password ? [] : ['password (the access token)']),
  ];
  return {
    configured: missing.length === 0,
    explanation:
      `The Gitea integration for ${target.host} has no ${missing.join(
        ' and no ',
      )}, and publish:gitea needs both. ` +
      `To fix: ${giteaConfigHint(
        target.host,
      )}, and restart the portal. ${SCOPES_NEEDED}.`,
  };
}

/** The server answers as Gitea: `GET /api/v1/version` (no credentials needed). */
export async function checkGiteaServer(target: GiteaTarget): Promise<string> {
  const res = await giteaRequest(target, 'GET', '/version', {
    anonymous: true,
  });
  if (res.status !== 200 || typeof res.data?.version !== 'string') {
    throw new ServiceUnavailableError(
      `Something answers at ${
        target.baseUrl
      }, but not as Gitea's API (GET /api/v1/version: ${giteaMessage(
        res,
      )}). Check integrations.gitea[].baseUrl for ${
        target.host
      } in app-config.yaml. ${NOTHING_CREATED_ON_GITEA}`,
    );
  }
  return res.data.version;
}

export interface GiteaIdentity {
  login: string;
  isAdmin: boolean;
}

/** Gitea accepts the token and says whose it is: `GET /api/v1/user`. */
export async function checkGiteaIdentity(
  target: GiteaTarget,
): Promise<GiteaIdentity> {
  const res = await giteaRequest(target, 'GET', '/user');
  if (res.status === 401) {
    throw new AuthenticationError(
      `Gitea at ${target.baseUrl} rejected the credentials of ${
        target.config.username
      } (${giteaMessage(res)}): the token is wrong, expired or deleted. ` +
        `Create a new access token (Gitea: Settings → Applications) and ${giteaConfigHint(
          target.host,
        )}; for the local server, delete portal-token in its GITEA_HOME and run \`platform/gitea/gitea.sh start\` to get a new one. ` +
        `${SCOPES_NEEDED}. ${NOTHING_CREATED_ON_GITEA}`,
    );
  }
  if (res.status !== 200 || typeof res.data?.login !== 'string') {
    throw new NotAllowedError(
      `Gitea refused to say whose token the portal uses (GET /api/v1/user: ${giteaMessage(
        res,
      )}). ${SCOPES_NEEDED}. ${NOTHING_CREATED_ON_GITEA}`,
    );
  }
  return { login: res.data.login, isAdmin: res.data.is_admin === true };
}

/** publish:gitea creates repositories in an existing organisation only. */
export async function checkGiteaOrganisation(target: GiteaTarget) {
  const res = await giteaRequest(
    target,
    'GET',
    `/orgs/${encodeURIComponent(target.owner)}`,
  );
  if (res.status === 404) {
    throw new NotFoundError(
      `Gitea at ${target.baseUrl} has no organisation named ${target.owner}, and publish:gitea creates repositories only in an existing organisation. ` +
        `Choose an organisation that exists as owner in the Repository location field (locally: golden-path, which \`platform/gitea/gitea.sh start\` creates), ` +
        `or create ${target.owner} in Gitea (+ → New Organization). ${NOTHING_CREATED_ON_GITEA}`,
    );
  }
  if (res.status !== 200) {
    throw new NotAllowedError(
      `Gitea did not show the organisation ${target.owner} (GET /api/v1/orgs/${
        target.owner
      }: ${giteaMessage(res)}). ${SCOPES_NEEDED}. ${NOTHING_CREATED_ON_GITEA}`,
    );
  }
}

/**
 * May the token's user create a repository in the organisation, and does the token carry
 * the scopes for it? Gitea tells the first (`GET /users/{login}/orgs/{org}/permissions`;
 * site administrators may create anywhere). It reports no token's scopes, but checks them
 * before it validates a request body: `POST /api/v1/org/{org}/repos` with an empty body is
 * refused with 403 naming the missing scopes when the token lacks write:organization or
 * write:repository, and with 422 (no name) otherwise. The body has no name, so nothing
 * can be created.
 */
export async function checkGiteaRights(
  target: GiteaTarget,
  identity: GiteaIdentity,
  logger: LoggerService,
) {
  const org = encodeURIComponent(target.owner);
  if (identity.isAdmin) {
    logger.info(
      `${identity.login} is a Gitea site administrator: it may create repositories in ${target.owner}`,
    );
  } else {
    const res = await giteaRequest(
      target,
      'GET',
      `/users/${encodeURIComponent(identity.login)}/orgs/${org}/permissions`,
    );
    if (res.status !== 200) {
      throw new NotAllowedError(
        `Gitea did not say whether ${
          identity.login
        } may create repositories in ${target.owner} (${giteaMessage(
          res,
        )}). ${SCOPES_NEEDED}. ${NOTHING_CREATED_ON_GITEA}`,
      );
    }
    if (res.data?.can_create_repository !== true) {
      throw new NotAllowedError(
        `${identity.login}, the user of the portal's Gitea token, may not create repositories in the organisation ${target.owner}. ` +
          `Make ${identity.login} an owner of ${target.owner}, or add it to a team of ${target.owner} with "Create repositories" allowed (Gitea: the organisation's Teams), ` +
          `or configure a token of a user who may. ${NOTHING_CREATED_ON_GITEA}`,
      );
    }
    logger.info(`${identity.login} may create repositories in ${target.owner}`);
  }

  const probe = await giteaRequest(target, 'POST', `/org/${org}/repos`, {
    body: {},
  });
  if (probe.status === 403) {
    throw new NotAllowedError(
      `The portal's Gitea token may not create repositories in ${
        target.owner
      } (Gitea: ${giteaMessage(probe)}). ` +
        `${SCOPES_NEEDED}: create one with them (Gitea: Settings → Applications) and ${giteaConfigHint(
          target.host,
        )}. ${NOTHING_CREATED_ON_GITEA}`,
    );
  }
  if (probe.status === 422) {
    logger.info(
      `The token has the scopes to create and push the repository (${GITEA_TOKEN_SCOPES.slice(
        0,
        2,
      ).join(', ')})`,
    );
    return;
  }
  logger.warn(
    `Could not check the token's scopes (POST /api/v1/org/${
      target.owner
    }/repos without a name answered ${giteaMessage(
      probe,
    )}); Gitea checks them when publish:gitea creates the repository. ${SCOPES_NEEDED}.`,
  );
}

/** The name is free; returns when Gitea (its clock) said so, for the rollback. */
export async function checkGiteaNameIsFree(
  target: GiteaTarget,
): Promise<string> {
  const res = await giteaRequest(
    target,
    'GET',
    `/repos/${encodeURIComponent(target.owner)}/${encodeURIComponent(
      target.repo,
    )}`,
  );
  if (res.status === 200) {
    throw new ConflictError(
      `The repository ${target.owner}/${target.repo} already exists on Gitea (${target.htmlUrl}): choose another name in the Repository location field. ` +
        `It was left as it is. ${NOTHING_CREATED_ON_GITEA}`,
    );
  }
  if (res.status !== 404) {
    throw new NotAllowedError(
      `Gitea did not answer whether ${target.owner}/${
        target.repo
      } exists (${giteaMessage(res)}). ${NOTHING_CREATED_ON_GITEA}`,
    );
  }
  return (res.date ?? new Date()).toISOString();
}

/**
 * Every Gitea check, in order, for `golden-path:publish:preflight`. In a dry run only the
 * input and the configuration are checked, and nothing is sent to Gitea.
 */
export async function checkGiteaPublishing(options: {
  target: GiteaTarget;
  repoVisibility: Visibility;
  isDryRun?: boolean;
  logger: LoggerService;
}): Promise<{ checkedAt: string; login?: string }> {
  const { target, repoVisibility, logger } = options;
  const where = `${target.host}/${target.owner}/${target.repo}`;
  checkGiteaVisibility(target, repoVisibility);
  const credentials = checkGiteaCredentials(target);

  if (options.isDryRun) {
    logger.info(
      `Dry run: ${where} is a valid publishing target and the portal has a Gitea integration for ${target.host} (${target.baseUrl}).`,
    );
    if (!credentials.configured) {
      logger.warn(`A real run would stop here. ${credentials.explanation}`);
    }
    logger.info(
      'Dry run: skipped the Gitea API checks (server, token, organisation, rights, existing repository); nothing was sent to Gitea.',
    );
    return { checkedAt: new Date().toISOString() };
  }

  logger.info(
    `Checking that ${where} can be published before anything is created`,
  );
  if (!credentials.configured) {
    throw new InputError(
      `${credentials.explanation} ${NOTHING_CREATED_ON_GITEA}`,
    );
  }
  const version = await checkGiteaServer(target);
  logger.info(`Gitea ${version} answers at ${target.baseUrl}`);
  const identity = await checkGiteaIdentity(target);
  logger.info(`Gitea accepts the token: it belongs to ${identity.login}`);
  await checkGiteaOrganisation(target);
  logger.info(`${target.owner} is a Gitea organisation`);
  await checkGiteaRights(target, identity, logger);
  const checkedAt = await checkGiteaNameIsFree(target);
  logger.info(
    `${target.owner}/${target.repo} does not exist yet: publishing can go ahead`,
  );
  return { checkedAt, login: identity.login };
}
