import { NotAllowedError } from '@backstage/errors';
import {
  DefaultGithubCredentialsProvider,
  GithubCredentialsProvider,
  ScmIntegrationRegistry,
} from '@backstage/integration';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { examples } from './publishRollback.examples';
import {
  createGithubClient,
  getPublishingCredentials,
  githubMessage,
  githubRequest,
  resolvePublishTarget,
} from '../github/publishing';
import { resolveGiteaTarget } from '../gitea/giteaApi';
import { rollbackGiteaRepository } from '../gitea/rollback';
import { publishingProviderFor } from '../publishing/provider';

/**
 * `golden-path:publish:rollback` removes the repository `publish:github` or
 * `publish:gitea` created in this task when a step failed after the creation (in
 * practice: the push), so a failed task leaves no half-created repository. Run it as the
 * last step with `if: ${{ failure() }}`.
 *
 * It deletes only a repository that is provably this task's and unusable: created after
 * the preflight saw the name free (`createdAfter`, the server's clock), and still empty
 * (GitHub: no branch; Gitea: its `empty` flag). A repository with commits (publish
 * finished, a later step failed) is kept.
 *
 * @public
 */
export function createPublishRollbackAction(options: {
  integrations: ScmIntegrationRegistry;
  githubCredentialsProvider?: GithubCredentialsProvider;
}) {
  const { integrations } = options;
  const credentialsProvider =
    options.githubCredentialsProvider ??
    DefaultGithubCredentialsProvider.fromIntegrations(integrations);

  return createTemplateAction({
    id: 'golden-path:publish:rollback',
    description:
      'After a failed step, deletes the repository publish:github or publish:gitea created in this task if it is still empty (created after the preflight saw the name free, no commit). Run it last with if: ${{ failure() }}.',
    examples,
    supportsDryRun: true,
    schema: {
      input: {
        repoUrl: z =>
          z
            .string()
            .describe(
              'The repoUrl the publish step got, in the RepoUrlPicker format <host>?owner=<owner>&repo=<name>',
            ),
        createdAfter: z =>
          z
            .string()
            .optional()
            .describe(
              "The preflight's checkedAt output; empty when the preflight did not finish, and then publish never ran",
            ),
        token: z =>
          z
            .string()
            .optional()
            .describe(
              'GitHub only: the user token publish:github got in its token input, if the template passes one',
            ),
      },
      output: {
        deleted: z =>
          z.boolean().describe('Whether an empty repository was deleted'),
      },
    },
    async handler(ctx) {
      const { repoUrl, createdAfter } = ctx.input;
      ctx.output('deleted', false);
      const notBefore = createdAfter ? new Date(createdAfter) : undefined;
      if (!notBefore || Number.isNaN(notBefore.getTime())) {
        ctx.logger.info(
          'The preflight did not finish, so the publish step never ran: there is no repository to roll back.',
        );
        return;
      }
      const { provider } = publishingProviderFor(repoUrl, integrations);
      if (provider === 'gitea') {
        const giteaTarget = resolveGiteaTarget(repoUrl, integrations);
        if (ctx.isDryRun) {
          ctx.logger.info(
            `Dry run: would delete ${giteaTarget.owner}/${giteaTarget.repo} if this task had created it and left it empty; nothing was sent to Gitea.`,
          );
          return;
        }
        const deleted = await rollbackGiteaRepository({
          target: giteaTarget,
          notBefore,
          logger: ctx.logger,
        });
        ctx.output('deleted', deleted);
        return;
      }

      const target = resolvePublishTarget(repoUrl, integrations);
      const name = `${target.owner}/${target.repo}`;
      if (ctx.isDryRun) {
        ctx.logger.info(
          `Dry run: would delete ${name} if this task had created it and left it empty; nothing was sent to GitHub.`,
        );
        return;
      }

      const byHand = `If ${target.htmlUrl} exists and is empty, delete it by hand (Settings → Danger Zone) before running the template again.`;
      let token: string | undefined;
      try {
        ({ token } = await getPublishingCredentials({
          target,
          credentialsProvider,
          token: ctx.input.token,
        }));
      } catch (e) {
        throw new NotAllowedError(
          `Rollback could not get GitHub credentials (${
            (e as Error).message
          }). ${byHand}`,
        );
      }
      if (!token) {
        throw new NotAllowedError(
          `Rollback has no GitHub credentials for ${target.host}. ${byHand}`,
        );
      }
      const client = createGithubClient({ target, token, logger: ctx.logger });

      const repoRes = await githubRequest(
        client,
        target,
        'GET /repos/{owner}/{repo}',
        { owner: target.owner, repo: target.repo },
      );
      if (repoRes.status === 404) {
        ctx.logger.info(
          `${name} does not exist: nothing was created, nothing to roll back.`,
        );
        return;
      }
      if (repoRes.status !== 200) {
        throw new NotAllowedError(
          `Rollback could not look at ${name} (${githubMessage(
            repoRes,
          )}). ${byHand}`,
        );
      }
      const createdAt = new Date(repoRes.data.created_at);
      if (!(createdAt.getTime() >= notBefore.getTime())) {
        ctx.logger.warn(
          `${name} was created at ${repoRes.data.created_at}, before this task checked that the name was free (${createdAfter}): it is not this task's, so it is left untouched.`,
        );
        return;
      }

      const branches = await githubRequest(
        client,
        target,
        'GET /repos/{owner}/{repo}/branches',
        { owner: target.owner, repo: target.repo, per_page: 1 },
      );
      if (branches.status !== 200) {
        throw new NotAllowedError(
          `Rollback could not list the branches of ${name} (${githubMessage(
            branches,
          )}). ${byHand}`,
        );
      }
      if (branches.data.length > 0) {
        ctx.logger.warn(
          `${name} was created by this task and has its files: publishing finished and a later step failed. The repository is complete and kept: ` +
            `register its catalog-info.yaml on the catalog's Register page, or delete ${target.htmlUrl} (Settings → Danger Zone) before running the template again with the same name.`,
        );
        return;
      }

      ctx.logger.info(
        `${name} was created by this task at ${repoRes.data.created_at} and is empty: deleting it`,
      );
      const deleted = await githubRequest(
        client,
        target,
        'DELETE /repos/{owner}/{repo}',
        { owner: target.owner, repo: target.repo },
      );
      if (deleted.status !== 204) {
        throw new NotAllowedError(
          `Rollback could not delete the empty repository ${name} that this task created (${githubMessage(
            deleted,
          )}). Delete ${
            target.htmlUrl
          } by hand (Settings → Danger Zone), and give the portal's token the delete_repo scope ` +
            '(classic) or Administration: Read and write (fine-grained token, GitHub App) so failed runs clean up after themselves.',
        );
      }
      ctx.output('deleted', true);
      ctx.logger.info(
        `Deleted the empty repository ${name}: nothing is left on GitHub. Fix the error above and run the template again; the name is free.`,
      );
    },
  });
}
