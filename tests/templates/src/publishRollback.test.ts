import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import scaffolderPlugin from '@backstage/plugin-scaffolder-backend';
import scaffolderModuleGithub from '@backstage/plugin-scaffolder-backend-module-github';
import scaffolderModuleGoldenPath from '@golden-path/plugin-scaffolder-backend-module-golden-path';
import {
  FakeGithub,
  FakeGithubOptions,
  startFakeGithub,
} from '@golden-path/plugin-scaffolder-backend-module-golden-path/testUtils';
import { discoverTemplateCases, scaffolderConfig } from './scaffolderDryRun';
import { runScaffolderTask, TaskRun } from './scaffolderTasks';

/*
 * Real tasks (not dry runs) of a real template through the real scaffolder and the real
 * publish:github, against a local stand-in for GitHub: what a user gets when they press
 * Create with a token that cannot push, or that fails the preflight.
 */

jest.setTimeout(120_000);

const TEMPLATE = 'fastapi-static-web';
const GITHUB: FakeGithubOptions = {
  tokens: {
    'ghp-full': { login: 'dev', scopes: ['repo', 'workflow', 'delete_repo'] },
    'ghp-no-workflow': { login: 'dev', scopes: ['repo', 'delete_repo'] },
  },
  accounts: { acme: 'Organization', dev: 'User' },
  memberships: { 'acme/dev': { state: 'active', role: 'admin' } },
  repos: {
    'acme/taken': { created_at: '2024-01-01T00:00:00Z', branches: ['main'] },
  },
};

describe('publishing a template for real, against a fake GitHub', () => {
  const testCase = discoverTemplateCases().find(
    c => c.template === TEMPLATE && c.example === 'typical',
  )!;
  let github: FakeGithub;
  let workDir: string;

  beforeEach(async () => {
    github = await startFakeGithub(GITHUB);
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'publish-rollback-'));
  });

  afterEach(async () => {
    await github.close();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  async function runTask(token: string, repo: string): Promise<TaskRun> {
    const templateEntity = {
      ...testCase.templateEntity,
      metadata: { ...testCase.templateEntity.metadata, namespace: 'default' },
    };
    const backend = await startTestBackend({
      features: [
        scaffolderPlugin,
        scaffolderModuleGithub,
        scaffolderModuleGoldenPath,
        catalogServiceMock.factory({ entities: [templateEntity] }),
        scaffolderConfig({
          workingDirectory: workDir,
          integrations: {
            github: [{ host: 'github.com', apiBaseUrl: github.url, token }],
          },
        }),
      ],
    });
    try {
      return await runScaffolderTask(backend.server, {
        templateRef: `template:default/${TEMPLATE}`,
        values: {
          ...testCase.values,
          repoUrl: `github.com?owner=acme&repo=${repo}`,
        },
      });
    } finally {
      await backend.stop();
    }
  }

  const writes = () =>
    github.requests
      .filter(r => r.method !== 'GET')
      .map(r => `${r.method} ${r.path}`);

  it('push refused after publish:github created the repository: the rollback step deletes it', async () => {
    const { status, log } = await runTask('ghp-full', 'hello-web');

    expect(status).toBe('failed');
    // publish:github created the repository, then its push was refused...
    expect(writes()).toEqual([
      'POST /orgs/acme/repos',
      'DELETE /repos/acme/hello-web',
    ]);
    expect(github.requests).toContainEqual({
      method: 'GET',
      path: '/acme/hello-web.git/info/refs',
    });
    // ...and the rollback step, run because a step failed, removed it.
    expect(github.repos.has('acme/hello-web')).toBe(false);
    expect(log).toContainEqual(
      expect.stringContaining(
        'acme/hello-web does not exist yet: publishing can go ahead',
      ),
    );
    expect(log).toContainEqual(
      expect.stringContaining(
        'Deleted the empty repository acme/hello-web: nothing is left on GitHub.',
      ),
    );
    expect(log).toContainEqual(
      expect.stringContaining(
        'Skipping step register because a previous step failed',
      ),
    );
  });

  it('token without the workflow scope: the preflight stops the task before anything is rendered or created', async () => {
    const { status, log } = await runTask('ghp-no-workflow', 'hello-web');

    expect(status).toBe('failed');
    expect(writes()).toEqual([]);
    expect(github.repos.has('acme/hello-web')).toBe(false);
    expect(log).toContainEqual(
      expect.stringMatching(
        /lacks the scope\(s\) workflow.*Nothing was created on GitHub/,
      ),
    );
    expect(log).toContainEqual(
      expect.stringContaining(
        'Skipping step fetch because a previous step failed',
      ),
    );
    expect(log).toContainEqual(
      expect.stringContaining(
        'The preflight did not finish, so the publish step never ran',
      ),
    );
  });

  it('name already taken: the preflight stops the task and the rollback leaves the existing repository alone', async () => {
    const { status, log } = await runTask('ghp-full', 'taken');

    expect(status).toBe('failed');
    expect(writes()).toEqual([]);
    expect(github.repos.has('acme/taken')).toBe(true);
    expect(log).toContainEqual(
      expect.stringContaining(
        'The repository acme/taken already exists (https://github.com/acme/taken): choose another name',
      ),
    );
  });
});
