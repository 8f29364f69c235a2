import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { ScmIntegrations } from '@backstage/integration';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import {
  FakeGithub,
  FakeGithubOptions,
  FakeRepo,
  githubTime,
  startFakeGithub,
} from '../testUtils';
import { createPublishRollbackAction } from './publishRollback';

const REPO_URL = 'github.com?owner=acme&repo=hello-web';
const CHECKED_AT = '2025-06-01T12:00:00.000Z';
const TOKENS: FakeGithubOptions['tokens'] = {
  'ghp-good': { login: 'dev', scopes: ['repo', 'workflow', 'delete_repo'] },
  'ghp-no-delete': { login: 'dev', scopes: ['repo', 'workflow'] },
};

describe('golden-path:publish:rollback', () => {
  let fake: FakeGithub | undefined;

  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  async function run(options: {
    repo?: FakeRepo;
    token?: string;
    createdAfter?: string;
    dryRun?: boolean;
  }) {
    fake = await startFakeGithub({
      tokens: TOKENS,
      repos: options.repo ? { 'acme/hello-web': options.repo } : {},
    });
    const integrations = ScmIntegrations.fromConfig(
      new ConfigReader({
        integrations: {
          github: [
            {
              host: 'github.com',
              apiBaseUrl: fake.url,
              token: options.token ?? 'ghp-good',
            },
          ],
        },
      }),
    );
    const logger = mockServices.logger.mock();
    const ctx = {
      ...createMockActionContext({
        input: {
          repoUrl: REPO_URL,
          createdAfter:
            'createdAfter' in options ? options.createdAfter : CHECKED_AT,
        } as any,
        logger,
      }),
      isDryRun: options.dryRun,
    };
    const messages = (level: 'info' | 'warn') =>
      (logger[level] as jest.Mock).mock.calls.map(call => String(call[0]));
    return {
      promise: createPublishRollbackAction({ integrations }).handler(
        ctx as any,
      ),
      messages,
      deleted: () => (ctx.output as jest.Mock).mock.calls.at(-1),
    };
  }

  const sent = () => fake!.requests.map(r => `${r.method} ${r.path}`);
  const afterCheck = '2025-06-01T12:00:03Z';

  it('deletes the empty repository this task created after the preflight check', async () => {
    const { promise, messages, deleted } = await run({
      repo: { created_at: afterCheck, branches: [] },
    });
    await expect(promise).resolves.toBeUndefined();
    expect(fake!.repos.has('acme/hello-web')).toBe(false);
    expect(sent()).toEqual([
      'GET /repos/acme/hello-web',
      'GET /repos/acme/hello-web/branches',
      'DELETE /repos/acme/hello-web',
    ]);
    expect(deleted()).toEqual(['deleted', true]);
    expect(messages('info').at(-1)).toMatch(
      /Deleted the empty repository acme\/hello-web: nothing is left on GitHub\. Fix the error above and run the template again; the name is free\./,
    );
  });

  it("treats a repository created in the same second as the check as this task's", async () => {
    const { promise } = await run({
      repo: { created_at: githubTime(new Date(CHECKED_AT)), branches: [] },
    });
    await expect(promise).resolves.toBeUndefined();
    expect(fake!.repos.has('acme/hello-web')).toBe(false);
  });

  it('keeps a repository that existed before the check', async () => {
    const { promise, messages, deleted } = await run({
      repo: { created_at: '2025-05-31T08:00:00Z', branches: [] },
    });
    await expect(promise).resolves.toBeUndefined();
    expect(fake!.repos.has('acme/hello-web')).toBe(true);
    expect(sent()).not.toContain('DELETE /repos/acme/hello-web');
    expect(deleted()).toEqual(['deleted', false]);
    expect(messages('warn')).toEqual([
      expect.stringMatching(
        /before this task checked that the name was free.*left untouched/,
      ),
    ]);
  });

  it('keeps a repository with commits (publish finished, a later step failed) and says what to do', async () => {
    const { promise, messages } = await run({
      repo: { created_at: afterCheck, branches: ['main'] },
    });
    await expect(promise).resolves.toBeUndefined();
    expect(fake!.repos.has('acme/hello-web')).toBe(true);
    expect(sent()).not.toContain('DELETE /repos/acme/hello-web');
    expect(messages('warn')).toEqual([
      expect.stringMatching(
        /has its files.*complete and kept: register its catalog-info\.yaml.*or delete https:\/\/github\.com\/acme\/hello-web/,
      ),
    ]);
  });

  it('does nothing when the repository was never created', async () => {
    const { promise, messages } = await run({});
    await expect(promise).resolves.toBeUndefined();
    expect(sent()).toEqual(['GET /repos/acme/hello-web']);
    expect(messages('info')).toEqual([
      'acme/hello-web does not exist: nothing was created, nothing to roll back.',
    ]);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['unrendered', "${{ steps['preflight'].output.checkedAt }}"],
  ])(
    'does nothing, without asking GitHub, when createdAfter is %s (the preflight did not finish)',
    async (_label, createdAfter) => {
      const { promise, messages } = await run({
        repo: { created_at: afterCheck, branches: [] },
        createdAfter,
      });
      await expect(promise).resolves.toBeUndefined();
      expect(sent()).toEqual([]);
      expect(messages('info')).toEqual([
        'The preflight did not finish, so the publish step never ran: there is no repository to roll back.',
      ]);
    },
  );

  it('fails, naming the repository to delete by hand and the missing right, when GitHub refuses the delete', async () => {
    const { promise } = await run({
      repo: { created_at: afterCheck, branches: [] },
      token: 'ghp-no-delete',
    });
    await expect(promise).rejects.toThrow(
      /could not delete the empty repository acme\/hello-web that this task created \(403 Must have admin rights to Repository\.\)\. Delete https:\/\/github\.com\/acme\/hello-web by hand.*delete_repo scope/,
    );
    expect(fake!.repos.has('acme/hello-web')).toBe(true);
  });

  it('fails, saying what to delete by hand, when it cannot look at the repository', async () => {
    const { promise } = await run({
      repo: { created_at: afterCheck, branches: [] },
      token: 'ghp-revoked',
    });
    await expect(promise).rejects.toThrow(
      /could not look at acme\/hello-web \(401 Bad credentials\)\. If https:\/\/github\.com\/acme\/hello-web exists and is empty, delete it by hand/,
    );
  });

  it('sends nothing to GitHub in a dry run', async () => {
    const { promise, messages } = await run({
      repo: { created_at: afterCheck, branches: [] },
      dryRun: true,
    });
    await expect(promise).resolves.toBeUndefined();
    expect(sent()).toEqual([]);
    expect(messages('info')).toEqual([
      'Dry run: would delete acme/hello-web if this task had created it and left it empty; nothing was sent to GitHub.',
    ]);
  });
});
