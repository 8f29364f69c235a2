import { NotAllowedError } from '@backstage/errors';
import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  giteaMessage,
  giteaRequest,
  GiteaResponse,
  GiteaTarget,
} from './giteaApi';

/**
 * `golden-path:publish:rollback` for a Gitea host: deletes the repository `publish:gitea`
 * created in this task when it is provably this task's and unusable: created at or after
 * `notBefore` (the preflight's `checkedAt`, both Gitea's clock) and still empty (Gitea's
 * `empty` flag: no commit was pushed). Returns whether it deleted it.
 */
export async function rollbackGiteaRepository(options: {
  target: GiteaTarget;
  notBefore: Date;
  logger: LoggerService;
}): Promise<boolean> {
  const { target, notBefore, logger } = options;
  const name = `${target.owner}/${target.repo}`;
  const path = `/repos/${encodeURIComponent(target.owner)}/${encodeURIComponent(
    target.repo,
  )}`;
  const byHand = `If ${target.htmlUrl} exists and is empty, delete it by hand (Gitea: the repository's Settings → Danger Zone → Delete This Repository) before running the template again.`;
  if (!target.config.username || !target.config.password) {
    throw new NotAllowedError(
      `Rollback has no Gitea credentials for ${target.host} (integrations.gitea[].username and password). ${byHand}`,
    );
  }
  const request = async (method: 'GET' | 'DELETE'): Promise<GiteaResponse> => {
    try {
      return await giteaRequest(target, method, path);
    } catch (e) {
      throw new NotAllowedError(
        `Rollback could not ${
          method === 'GET' ? 'look at' : 'delete'
        } ${name}: ${(e as Error).message} ${byHand}`,
      );
    }
  };

  const repoRes = await request('GET');
  if (repoRes.status === 404) {
    logger.info(
      `${name} does not exist: nothing was created, nothing to roll back.`,
    );
    return false;
  }
  if (repoRes.status !== 200) {
    throw new NotAllowedError(
      `Rollback could not look at ${name} (${giteaMessage(
        repoRes,
      )}). ${byHand}`,
    );
  }
  const createdAt = new Date(repoRes.data.created_at);
  if (!(createdAt.getTime() >= notBefore.getTime())) {
    logger.warn(
      `${name} was created at ${
        repoRes.data.created_at
      }, before this task checked that the name was free (${notBefore.toISOString()}): it is not this task's, so it is left untouched.`,
    );
    return false;
  }
  if (repoRes.data.empty !== true) {
    logger.warn(
      `${name} was created by this task and has its files: publishing finished and a later step failed. The repository is complete and kept: ` +
        `register its catalog-info.yaml on the catalog's Register page, or delete ${target.htmlUrl} (Settings → Danger Zone) before running the template again with the same name.`,
    );
    return false;
  }

  logger.info(
    `${name} was created by this task at ${repoRes.data.created_at} and is empty: deleting it`,
  );
  const deleted = await request('DELETE');
  if (deleted.status !== 204) {
    throw new NotAllowedError(
      `Rollback could not delete the empty repository ${name} that this task created (${giteaMessage(
        deleted,
      )}). Delete ${
        target.htmlUrl
      } by hand (Settings → Danger Zone), and give the portal's Gitea user admin rights in ${
        target.owner
      } (an owner, or a team with admin access) and its token write:repository, so failed runs clean up after themselves.`,
    );
  }
  logger.info(
    `Deleted the empty repository ${name}: nothing is left on Gitea. Fix the error above and run the template again; the name is free.`,
  );
  return true;
}
