import { InputError } from '@backstage/errors';
import {
  DefaultGithubCredentialsProvider,
  GithubCredentialsProvider,
  ScmIntegrationRegistry,
} from '@backstage/integration';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
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

/**
 * `golden-path:publish:preflight` checks, before anything is rendered or created, that
 * `publish:github` will be able to create and push the repository named by `repoUrl`:
 * an integration for the host, credentials for the owner, a token GitHub accepts with
 * the rights to create (and push workflows to) a repository there, and a free name.
 * Every failure says what to configure and that nothing was created.
 *
 * Run it as the first step of a template, with the same `repoUrl` (and visibility) as
 * `publish:github`.
 */
export function createPublishPreflightAction(options: {
  integrations: ScmIntegrationRegistry;
  githubCredentialsProvider?: GithubCredentialsProvider;
  /** Mirrors `scaffolder.requireScmUserCredentials`, which `publish:github` enforces. */
  requireScmUserCredentials?: boolean;
}) {
  const { integrations, requireScmUserCredentials = false } = options;
  const credentialsProvider =
    options.githubCredentialsProvider ??
    DefaultGithubCredentialsProvider.fromIntegrations(integrations);

  return createTemplateAction({
    id: 'golden-path:publish:preflight',
    description:
      'Checks before anything is created that publish:github can create and push the repository: GitHub integration and credentials for the owner, a working token with the rights to create a repository there, and a repository name that is still free. Fails with what to configure.',
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        repoUrl: z =>
          z
            .string()
            .describe(
              'The repoUrl publish:github gets, in the RepoUrlPicker format github.com?owner=<owner>&repo=<name>',
            ),
        repoVisibility: z =>
          z
            .enum(['private', 'internal', 'public'])
            .optional()
            .describe(
              "The repoVisibility publish:github gets (default private): public needs only a classic token's public_repo scope, and orgs can allow members to create some visibilities only",
            ),
        workflows: z =>
          z
            .boolean()
            .optional()
            .describe(
              'Whether the published files include .github/workflows (default true): pushing them needs the workflow scope or the Workflows permission',
            ),
        token: z =>
          z
            .string()
            .optional()
            .describe(
              'The user token publish:github gets in its token input, if the template passes one',
            ),
      },
      output: {
        owner: z => z.string().describe('The repository owner'),
        repo: z => z.string().describe('The repository name'),
        checkedAt: z =>
          z
            .string()
            .describe(
              "When the name was confirmed free, by GitHub's clock (ISO 8601); golden-path:publish:rollback only removes a repository created after it",
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
              'The GitHub user the token belongs to (absent for a GitHub App)',
            ),
      },
    },
    async handler(ctx) {
      const {
        repoUrl,
        repoVisibility = 'private',
        workflows = true,
      } = ctx.input;
      const target = resolvePublishTarget(repoUrl, integrations);
      const where = `${target.host}/${target.owner}/${target.repo}`;
      ctx.output('owner', target.owner);
      ctx.output('repo', target.repo);

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
