import { ConfigReader } from '@backstage/config';
import { ScmIntegrations } from '@backstage/integration';
import {
  FakeGitea,
  FakeGiteaRepo,
  giteaTime,
  startFakeGitea,
} from '../testUtils';
import { actionContext } from '../testUtils/actionContext';
import { createPublishRollbackAction } from './publishRollback';

const HOST = 'git.example.test';
const REPO_URL = `${HOST}?owner=golden-path&repo=hello-web`;
const CHECKED_AT = '2025-06-01T12:00:00.000Z';
const SCOPES = ['write:organization', 'write:repository', 'read:user'];

describe('golden-path:publish:rollback for a Gitea host', () => {
  let fake: FakeGitea | undefined;

  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  async function run(options: {
    repo?: FakeGiteaRepo;
    /** The role of the token's user in the organisation (default owner). */
    role?: 'owner' | 'creator';
    password?: string;
    createdAfter?: string;
    dryRun?: boolean;
    /** Stop the server before the step runs: it went away after the failed push. */
    serverGone?: boolean;
  }) {
    fake = await startFakeGitea({
      tokens: { 'portal-token': { login: 'portal', scopes: SCOPES } },
      orgs: { 'golden-path': { portal: options.role ?? 'owner' } },
      repos: options.repo ? { 'golden-path/hello-web': options.repo } : {},
    });
    const integrations = ScmIntegrations.fromConfig(
      new ConfigReader({
        integrations: {
          gitea: [
            {
              host: HOST,
              baseUrl: fake.url,
              username: 'portal',
              password: options.password ?? 'portal-token',
            },
          ],
        },
      }),
    );
    if (options.serverGone) {
      await fake.close();
    }
    const { ctx, messages, outputs } = actionContext(
      {
        repoUrl: REPO_URL,
        createdAfter:
          'createdAfter' in options ? options.createdAfter : CHECKED_AT,
      },
      { isDryRun: options.dryRun },
    );
    return {
      promise: createPublishRollbackAction({ integrations }).handler(ctx),
      messages,
      outputs,
    };
  }

  const afterCheck = '2025-06-01T14:00:03+02:00';

  it('deletes the empty repository this task created after the preflight check', async () => {
    const { promise, messages, outputs } = await run({
      repo: { created_at: afterCheck, empty: true },
    });
    await expect(promise).resolves.toBeUndefined();
    expect(fake!.repos.has('golden-path/hello-web')).toBe(false);
    expect(fake!.requests).toEqual([
      'GET /api/v1/repos/golden-path/hello-web',
      'DELETE /api/v1/repos/golden-path/hello-web',
    ]);
    expect(outputs().deleted).toBe(true);
    expect(messages('info').at(-1)).toBe(
      'Deleted the empty repository golden-path/hello-web: nothing is left on Gitea. Fix the error above and run the template again; the name is free.',
    );
  });

  it("treats a repository created in the same second as the check as this task's", async () => {
    const { promise } = await run({
      repo: { created_at: giteaTime(new Date(CHECKED_AT)), empty: true },
    });
    await expect(promise).resolves.toBeUndefined();
    expect(fake!.repos.has('golden-path/hello-web')).toBe(false);
  });

  it('keeps a repository that existed before the check (an offset of the same instant counts)', async () => {
    const { promise, messages, outputs } = await run({
      repo: { created_at: '2025-06-01T13:59:59+02:00', empty: true },
    });
    await expect(promise).resolves.toBeUndefined();
    expect(fake!.repos.has('golden-path/hello-web')).toBe(true);
    expect(fake!.requests).not.toContain(
      'DELETE /api/v1/repos/golden-path/hello-web',
    );
    expect(outputs().deleted).toBe(false);
    expect(messages('warn')).toEqual([
      expect.stringMatching(
        /before this task checked that the name was free.*left untouched/,
      ),
    ]);
  });

  it('keeps a repository with commits (publish finished, a later step failed) and says what to do', async () => {
    const { promise, messages } = await run({
      repo: { created_at: afterCheck, empty: false },
    });
    await expect(promise).resolves.toBeUndefined();
    expect(fake!.repos.has('golden-path/hello-web')).toBe(true);
    expect(messages('warn')).toEqual([
      expect.stringMatching(
        /has its files.*complete and kept: register its catalog-info\.yaml.*or delete http:\/\/127\.0\.0\.1:\d+\/golden-path\/hello-web/,
      ),
    ]);
  });

  it('does nothing when the repository was never created', async () => {
    const { promise, messages } = await run({});
    await expect(promise).resolves.toBeUndefined();
    expect(fake!.requests).toEqual(['GET /api/v1/repos/golden-path/hello-web']);
    expect(messages('info')).toEqual([
      'golden-path/hello-web does not exist: nothing was created, nothing to roll back.',
    ]);
  });

  it('does nothing, without asking Gitea, when the preflight did not finish', async () => {
    const { promise, messages } = await run({
      repo: { created_at: afterCheck, empty: true },
      createdAfter: '',
    });
    await expect(promise).resolves.toBeUndefined();
    expect(fake!.requests).toEqual([]);
    expect(messages('info')).toEqual([
      'The preflight did not finish, so the publish step never ran: there is no repository to roll back.',
    ]);
  });

  it('fails, naming the repository to delete by hand and the rights, when Gitea refuses the delete', async () => {
    const { promise } = await run({
      repo: { created_at: afterCheck, empty: true },
      role: 'creator',
    });
    await expect(promise).rejects.toThrow(
      /could not delete the empty repository golden-path\/hello-web that this task created \(403 .*\)\. Delete http:\/\/127\.0\.0\.1:\d+\/golden-path\/hello-web by hand.*admin rights in golden-path/,
    );
    expect(fake!.repos.has('golden-path/hello-web')).toBe(true);
  });

  it('fails, saying what to delete by hand, when Gitea rejects the token', async () => {
    const { promise } = await run({
      repo: { created_at: afterCheck, empty: true },
      password: 'revoked',
    });
    await expect(promise).rejects.toThrow(
      /could not look at golden-path\/hello-web \(401 invalid username, password or token\)\. If http:\/\/127\.0\.0\.1:\d+\/golden-path\/hello-web exists and is empty, delete it by hand/,
    );
  });

  it('fails, saying what to delete by hand, when Gitea cannot be reached', async () => {
    const { promise } = await run({
      repo: { created_at: afterCheck, empty: true },
      serverGone: true,
    });
    await expect(promise).rejects.toThrow(
      /Rollback could not look at golden-path\/hello-web: Could not reach Gitea at http:\/\/127\.0\.0\.1:\d+ .*connection refused.*If http:\/\/127\.0\.0\.1:\d+\/golden-path\/hello-web exists and is empty, delete it by hand/,
    );
    fake = undefined;
  });

  it('sends nothing to Gitea in a dry run', async () => {
    const { promise, messages } = await run({
      repo: { created_at: afterCheck, empty: true },
      dryRun: true,
    });
    await expect(promise).resolves.toBeUndefined();
    expect(fake!.requests).toEqual([]);
    expect(messages('info')).toEqual([
      'Dry run: would delete golden-path/hello-web if this task had created it and left it empty; nothing was sent to Gitea.',
    ]);
  });
});
