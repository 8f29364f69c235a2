import { InputError } from '@backstage/errors';
import {
  DefaultGithubCredentialsProvider,
  GithubCredentialsProvider,
  ScmIntegrationRegistry,
} from '@backstage/integration';
import {
  createTemplateAction,
  TemplateAction,
} from '@backstage/plugin-scaffolder-node';
import { examples } from './publishPreflight.examples';
import {
  createGithubClient,
  NOTHING_CREATED,
  resolvePublishTarget,
  tokenConfigHint,
} from '../github/publishing';
import {
  getCredentialsOrExplain,
  checkIdentity,
  checkOwner,
  checkTokenScopes,
  checkUserOwner,
  checkOrgMembership,
  checkAppInstallation,
  checkNameIsFree,
} from '../github/preflightChecks';
import { resolveGiteaTarget } from '../gitea/giteaApi';
import { checkGiteaPublishing } from '../gitea/preflightChecks';
import { publishingProviderFor } from '../publishing/provider';

/**
 * The input of `golden-path:publish:preflight`, written out so that the published API
 * reads the same after every build (see `FluxRegisterInput`).
 *
 * @public
 */
export type PublishPreflightInput = {
  repoUrl: string;
  repoVisibility?: 'private' | 'internal' | 'public' | undefined;
  workflows?: boolean | undefined;
  token?: string | undefined;
};

/** The output of `golden-path:publish:preflight`. @public */
export type PublishPreflightOutput = {
  provider: 'github' | 'gitea';
  owner: string;
  repo: string;
  htmlUrl: string;
  checkedAt: string;
  ownerType?: 'Organization' | 'User' | undefined;
  login?: string | undefined;
};

/**
 * `golden-path:publish:preflight` checks, before anything is rendered or created, that
 * the publish step will be able to create and push the repository named by `repoUrl`.
 * The host's integration decides which: `publish:github` (an integration for the host,
 * credentials for the owner, a token GitHub accepts with the rights to create and push
 * workflows to a repository there) or `publish:gitea` (the server answers, accepts the
 * token, the organisation exists and the token may create repositories in it). Both
 * check that the name is free. Every failure says what to configure and that nothing
 * was created.
 *
 * Run it as the first step of a template, with the same `repoUrl` (and visibility) as
 * the publish step.
 *
 * @public
 */
export function createPublishPreflightAction(options: {
  integrations: ScmIntegrationRegistry;
  githubCredentialsProvider?: GithubCredentialsProvider;
  /** Mirrors `scaffolder.requireScmUserCredentials`, which `publish:github` enforces. */
  requireScmUserCredentials?: boolean;
}): TemplateAction<PublishPreflightInput, PublishPreflightOutput, 'v2'> {
  const { integrations, requireScmUserCredentials = false } = options;
  const credentialsProvider =
    options.githubCredentialsProvider ??
    DefaultGithubCredentialsProvider.fromIntegrations(integrations);

  return createTemplateAction({
    id: 'golden-path:publish:preflight',
    description:
      "Checks before anything is created that publish:github or publish:gitea (by the repoUrl host's integration) can create and push the repository: the integration and its credentials, a server that answers and accepts the token, the rights to create a repository in the owner, and a repository name that is still free. Fails with what to configure.",
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        repoUrl: z =>
          z
            .string()
            .describe(
              'The repoUrl the publish step gets, in the RepoUrlPicker format <host>?owner=<owner>&repo=<name> (github.com, or the host of an integrations.gitea entry)',
            ),
        repoVisibility: z =>
          z
            .enum(['private', 'internal', 'public'])
            .optional()
            .describe(
              "The repoVisibility the publish step gets (default private): on GitHub public needs only a classic token's public_repo scope, and orgs can allow members to create some visibilities only; Gitea has no internal",
            ),
        workflows: z =>
          z
            .boolean()
            .optional()
            .describe(
              'GitHub only: whether the published files include .github/workflows (default true): pushing them needs the workflow scope or the Workflows permission',
            ),
        token: z =>
          z
            .string()
            .optional()
            .describe(
              'GitHub only: the user token publish:github gets in its token input, if the template passes one',
            ),
      },
      output: {
        provider: z =>
          z
            .enum(['github', 'gitea'])
            .describe(
              "Which Git server the host's integration is: github (publish:github) or gitea (publish:gitea)",
            ),
        owner: z => z.string().describe('The repository owner'),
        repo: z => z.string().describe('The repository name'),
        htmlUrl: z =>
          z
            .string()
            .describe(
              "The repository's web page (on Gitea from integrations.gitea[].baseUrl)",
            ),
        checkedAt: z =>
          z
            .string()
            .describe(
              "When the name was confirmed free, by the server's clock (ISO 8601); golden-path:publish:rollback only removes a repository created after it",
            ),
        ownerType: z =>
          z
            .enum(['Organization', 'User'])
            .optional()
            .describe('Whether the owner is an organization or a user'),
        login: z =>
          z
            .string()
            .optional()
            .describe(
              'The user the token belongs to (absent for a GitHub App)',
            ),
      },
    },
    async handler(ctx) {
      const {
        repoUrl,
        repoVisibility = 'private',
        workflows = true,
      } = ctx.input;
      const { provider } = publishingProviderFor(repoUrl, integrations);
      if (provider === 'gitea') {
        const giteaTarget = resolveGiteaTarget(repoUrl, integrations);
        ctx.output('provider', provider);
        ctx.output('owner', giteaTarget.owner);
        ctx.output('repo', giteaTarget.repo);
        ctx.output('htmlUrl', giteaTarget.htmlUrl);
        // publish:gitea creates repositories only in organisations.
        ctx.output('ownerType', 'Organization');
        const { checkedAt, login } = await checkGiteaPublishing({
          target: giteaTarget,
          repoVisibility,
          isDryRun: ctx.isDryRun,
          logger: ctx.logger,
        });
        if (login) {
          ctx.output('login', login);
        }
        ctx.output('checkedAt', checkedAt);
        return;
      }

      const target = resolvePublishTarget(repoUrl, integrations);
      const where = `${target.host}/${target.owner}/${target.repo}`;
      ctx.output('provider', provider);
      ctx.output('owner', target.owner);
      ctx.output('repo', target.repo);
      ctx.output('htmlUrl', target.htmlUrl);

      if (requireScmUserCredentials && !ctx.input.token) {
        throw new InputError(
          `scaffolder.requireScmUserCredentials is enabled, so publish:github only accepts the signed-in user's token, but the template passes none: ` +
            `add token: \${{ secrets.USER_OAUTH_TOKEN }} to the publish and preflight steps (with requestUserCredentials on the RepoUrlPicker). ${NOTHING_CREATED}`,
        );
      }

      if (ctx.isDryRun) {
        const configured =
          !!ctx.input.token ||
          !!target.config.token ||
          (target.config.apps?.length ?? 0) > 0;
        ctx.logger.info(
          `Dry run: ${where} is a valid publishing target and the portal has a GitHub integration for ${target.host}.`,
        );
        if (!configured) {
          ctx.logger.warn(
            `No token or GitHub App is configured for ${
              target.host
            }: a real run would stop here. To publish, ${tokenConfigHint(
              target.host,
            )}.`,
          );
        }
        ctx.logger.info(
          'Dry run: skipped the GitHub API checks (token, rights on the owner, existing repository); nothing was sent to GitHub.',
        );
        ctx.output('checkedAt', new Date().toISOString());
        return;
      }

      ctx.logger.info(
        `Checking that ${where} can be published before anything is created`,
      );
      const credentials = await getCredentialsOrExplain(
        target,
        credentialsProvider,
        ctx.input.token,
      );
      ctx.logger.info(`Credentials: ${credentials.source}`);
      const client = createGithubClient({
        target,
        token: credentials.token!,
        logger: ctx.logger,
        retries: 0,
      });

      const identity = await checkIdentity(client, target, credentials);
      if (identity.login) {
        ctx.output('login', identity.login);
        ctx.logger.info(
          `GitHub accepts the token: it belongs to ${identity.login}`,
        );
      } else {
        ctx.logger.info('GitHub accepts the GitHub App installation token');
      }

      const ownerType = await checkOwner(client, target);
      ctx.output('ownerType', ownerType);
      ctx.logger.info(`${target.owner} is a GitHub ${ownerType.toLowerCase()}`);
      if (repoVisibility === 'internal' && ownerType === 'User') {
        // publish:github sends user repositories only private: true/false, so
        // "internal" would silently become public.
        throw new InputError(
          `Internal repositories exist only in organizations of a GitHub Enterprise account, and ${target.owner} is a user account: ` +
            `publish:github would create a public repository there. Choose private or public visibility, or an organization as owner. ${NOTHING_CREATED}`,
        );
      }

      if (credentials.type === 'app') {
        await checkAppInstallation(target, ownerType, workflows, ctx.logger);
      } else {
        checkTokenScopes(
          target,
          identity,
          repoVisibility,
          workflows,
          ctx.logger,
        );
        if (ownerType === 'User') {
          checkUserOwner(target, identity);
        } else {
          await checkOrgMembership(
            client,
            target,
            identity,
            repoVisibility,
            ctx.logger,
          );
        }
      }

      const checkedAt = await checkNameIsFree(client, target);
      ctx.output('checkedAt', checkedAt);
      ctx.logger.info(
        `${target.owner}/${target.repo} does not exist yet: publishing can go ahead`,
      );
    },
  });
}
