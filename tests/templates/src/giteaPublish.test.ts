/*
 * Publishing to a real Gitea (platform/gitea/gitea.sh, in a throw-away GITEA_HOME on a
 * free port, without web assets): the real publish:gitea pushes a rendered template (the
 * fastapi-static-web typical example, through the real scaffolder's dry run) into the
 * organisation on main; golden-path:publish:preflight refuses each case it must before
 * anything is written (existing repository, missing organisation, bad token, a user
 * without rights, a token without scopes, a stopped server); the rollback deletes only
 * an empty repository created after the preflight. Gitea is stopped and its home removed
 * at the end.
 *
 * Runs when GITEA_INTEGRATION=1: scripts/test-templates.sh (make test) sets it after
 * building Gitea (platform/gitea/build.sh, ~5 min cold).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createServiceFactory } from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { ScmIntegrations } from '@backstage/integration';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import scaffolderPlugin from '@backstage/plugin-scaffolder-backend';
import scaffolderModuleGitea, {
  createPublishGiteaAction,
} from '@backstage/plugin-scaffolder-backend-module-gitea';
import scaffolderModuleGithub from '@backstage/plugin-scaffolder-backend-module-github';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import scaffolderModuleGoldenPath, {
  createPublishPreflightAction,
  createPublishRollbackAction,
} from '@golden-path/plugin-scaffolder-backend-module-golden-path';
import {
  discoverTemplateCases,
  LOCAL_GITEA_HOST,
  REPO_ROOT,
  scaffolderConfig,
  startScaffolder,
  writeFiles,
} from './scaffolderDryRun';
import { runScaffolderTask } from './scaffolderTasks';

const ENABLED = process.env.GITEA_INTEGRATION === '1';
if (!ENABLED) {
  // eslint-disable-next-line no-console
  console.warn(
    'Gitea publishing integration tests SKIPPED: GITEA_INTEGRATION is not 1 (scripts/test-templates.sh sets it).',
  );
}
const describeWithGitea = ENABLED ? describe : describe.skip;
const run = promisify(execFile);
const GITEA_SH = path.join(REPO_ROOT, 'platform/gitea/gitea.sh');

jest.setTimeout(180_000);

/** A free loopback port below the kernel's ephemeral range (gitea.sh refuses < 1024). */
async function freePort(): Promise<number> {
  const [low] = fs
    .readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
    .trim()
    .split(/\s+/)
    .map(Number);
  for (let i = 0; i < 50; i++) {
    const port = 20000 + Math.floor(Math.random() * (low - 20000));
    const free = await new Promise<boolean>(resolve => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port');
}

describeWithGitea('publishing to a real Gitea', () => {
  // Made in beforeAll: a skipped describe still runs its body.
  let home: string;
  let workspace: string;
  let port: number;
  let env: Record<string, string>;
  let adminPassword: string;
  const suffix = Math.random().toString(36).slice(2, 8);
  const repoName = `hello-web-${suffix}`;

  const gitea = (command: 'start' | 'stop' | 'env') =>
    run('bash', [GITEA_SH, command], {
      env: {
        ...process.env,
        GITEA_HOME: home,
        GITEA_PORT: String(port),
        GITEA_ASSETS: '0',
      },
      timeout: 150_000,
    });
  const host = () => `127.0.0.1:${port}`;
  const repoUrl = (owner: string, repo: string) =>
    `${host()}?owner=${owner}&repo=${repo}`;

  /** The integrations as app-config.yaml builds them from `gitea.sh env`. */
  const integrationsWith = (credentials: {
    username?: string;
    password?: string;
  }) =>
    ScmIntegrations.fromConfig(
      new ConfigReader({
        integrations: {
          gitea: [
            {
              host: host(),
              baseUrl: env.GITEA_URL,
              username: env.GITEA_USERNAME,
              password: env.GITEA_TOKEN,
              ...credentials,
            },
          ],
        },
      }),
    );

  /** Gitea's API as its administrator (basic auth with the password gitea.sh made). */
  async function admin(method: string, apiPath: string, body?: unknown) {
    const res = await fetch(`${env.GITEA_URL}/api/v1${apiPath}`, {
      method,
      headers: {
        Authorization: `Basic ${Buffer.from(
          `${env.GITEA_USERNAME}:${adminPassword}`,
        ).toString('base64')}`,
        'Content-Type': 'application/json',
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, data: text ? JSON.parse(text) : undefined };
  }

  async function preflight(
    input: { repoUrl: string; repoVisibility?: string },
    credentials: { username?: string; password?: string } = {},
  ) {
    const ctx = createMockActionContext({
      input,
      logger: mockServices.logger.mock(),
    });
    await createPublishPreflightAction({
      integrations: integrationsWith(credentials),
    }).handler(ctx as any);
    return Object.fromEntries((ctx.output as jest.Mock).mock.calls);
  }

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'gitea-it-'));
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gitea-it-ws-'));
    port = await freePort();
    await gitea('start');
    const { stdout } = await gitea('env');
    env = Object.fromEntries(
      [...stdout.matchAll(/(GITEA_\w+)=(\S+)/g)].map(m => [m[1], m[2]]),
    );
    adminPassword = fs
      .readFileSync(path.join(home, 'admin-password'), 'utf8')
      .trim();

    // The typical example, rendered as the Create page would, into the workspace.
    const testCase = discoverTemplateCases().find(
      c => c.template === 'fastapi-static-web' && c.example === 'typical',
    )!;
    const scaffolder = await startScaffolder();
    try {
      // The form accepts the local server's usual address only; the files are the same.
      const result = await scaffolder.dryRun(testCase.templateEntity, {
        ...testCase.values,
        name: repoName,
        repoUrl: `${LOCAL_GITEA_HOST}?owner=golden-path&repo=${repoName}`,
      });
      if (result.status !== 200) {
        throw new Error(
          `dry-run failed with ${result.status}: ${JSON.stringify(
            result.body,
          )}`,
        );
      }
      writeFiles(workspace, result.files, result.executables);
    } finally {
      await scaffolder.stop();
    }
  });

  afterAll(async () => {
    if (port) {
      await gitea('stop').catch(() => undefined);
    }
    for (const dir of [home, workspace]) {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('preflight passes, then the real publish:gitea pushes the rendered template to main in the organisation', async () => {
    const checked = await preflight({
      repoUrl: repoUrl('golden-path', repoName),
      repoVisibility: 'private',
    });
    expect(checked).toMatchObject({
      provider: 'gitea',
      owner: 'golden-path',
      repo: repoName,
      htmlUrl: `${env.GITEA_URL}/golden-path/${repoName}`,
      login: env.GITEA_USERNAME,
    });

    const ctx = createMockActionContext({
      input: {
        repoUrl: repoUrl('golden-path', repoName),
        description: 'Static landing page served by FastAPI from a ConfigMap',
        defaultBranch: 'main',
        repoVisibility: 'private' as const,
      },
      workspacePath: workspace,
      logger: mockServices.logger.mock(),
    });
    await createPublishGiteaAction({
      integrations: integrationsWith({}),
      config: new ConfigReader({}),
    }).handler(ctx);
    const outputs = Object.fromEntries((ctx.output as jest.Mock).mock.calls);
    expect(outputs.repoContentsUrl).toBe(
      `${env.GITEA_URL}/golden-path/${repoName}/src/branch/main/`,
    );

    const repo = await admin('GET', `/repos/golden-path/${repoName}`);
    expect(repo.status).toBe(200);
    expect(repo.data).toMatchObject({
      default_branch: 'main',
      empty: false,
      private: true,
    });
    // Every top-level entry of the workspace is on main, and a file has its content.
    const tree = await admin(
      'GET',
      `/repos/golden-path/${repoName}/contents?ref=main`,
    );
    expect(tree.data.map((entry: any) => entry.name).sort()).toEqual(
      fs
        .readdirSync(workspace)
        .filter(name => name !== '.git') // publish:gitea's own repository
        .sort(),
    );
    const catalogInfo = await fetch(
      `${env.GITEA_URL}/api/v1/repos/golden-path/${repoName}/raw/catalog-info.yaml?ref=main`,
      { headers: { Authorization: `token ${env.GITEA_TOKEN}` } },
    );
    expect(await catalogInfo.text()).toBe(
      fs.readFileSync(path.join(workspace, 'catalog-info.yaml'), 'utf8'),
    );
    // The rollback after a later failure keeps a repository that has its files.
    const rollback = createMockActionContext({
      input: {
        repoUrl: repoUrl('golden-path', repoName),
        createdAfter: checked.checkedAt,
      },
      logger: mockServices.logger.mock(),
    });
    await createPublishRollbackAction({
      integrations: integrationsWith({}),
    }).handler(rollback as any);
    expect((rollback.output as jest.Mock).mock.calls).toContainEqual([
      'deleted',
      false,
    ]);
    expect((await admin('GET', `/repos/golden-path/${repoName}`)).status).toBe(
      200,
    );
  });

  it('preflight refuses a repository that exists, and nothing is overwritten', async () => {
    const before = await admin(
      'GET',
      `/repos/golden-path/${repoName}/branches/main`,
    );
    expect(before.status).toBe(200);
    await expect(
      preflight({ repoUrl: repoUrl('golden-path', repoName) }),
    ).rejects.toThrow(
      `The repository golden-path/${repoName} already exists on Gitea (${env.GITEA_URL}/golden-path/${repoName}): choose another name`,
    );
    const after = await admin(
      'GET',
      `/repos/golden-path/${repoName}/branches/main`,
    );
    expect(after.data.commit.id).toBe(before.data.commit.id);
  });

  it('preflight refuses an organisation that does not exist', async () => {
    await expect(
      preflight({ repoUrl: repoUrl('no-such-org', 'x') }),
    ).rejects.toThrow(
      /has no organisation named no-such-org, and publish:gitea creates repositories only in an existing organisation/,
    );
  });

  it('preflight refuses a wrong token, saying how to get a new one', async () => {
    await expect(
      preflight(
        { repoUrl: repoUrl('golden-path', 'x') },
        { password: '0'.repeat(40) },
      ),
    ).rejects.toThrow(
      /rejected the credentials of golden-path-admin \(401 invalid username, password or token\): the token is wrong, expired or deleted/,
    );
  });

  it('preflight refuses a user who may not create repositories in the organisation', async () => {
    const password = `Dev-${suffix}-pass-1234!`;
    expect(
      (
        await admin('POST', '/admin/users', {
          username: `dev-${suffix}`,
          email: `dev-${suffix}@golden-path.invalid`,
          password,
          must_change_password: false,
        })
      ).status,
    ).toBe(201);
    const token = await fetch(
      `${env.GITEA_URL}/api/v1/users/dev-${suffix}/tokens`,
      {
        method: 'POST',
        headers: {
          Authorization: `Basic ${Buffer.from(
            `dev-${suffix}:${password}`,
          ).toString('base64')}`,
          'Content-Type': 'application/json',
        },
        body: JSON.stringify({
          name: 'portal',
          scopes: ['write:organization', 'write:repository', 'read:user'],
        }),
      },
    ).then(res => res.json());
    await expect(
      preflight(
        { repoUrl: repoUrl('golden-path', 'x') },
        { username: `dev-${suffix}`, password: token.sha1 },
      ),
    ).rejects.toThrow(
      `dev-${suffix}, the user of the portal's Gitea token, may not create repositories in the organisation golden-path`,
    );
  });

  it('preflight refuses a token without the scopes to create and push, quoting them', async () => {
    const token = await admin('POST', `/users/${env.GITEA_USERNAME}/tokens`, {
      name: `read-only-${suffix}`,
      scopes: ['read:user', 'write:organization', 'read:repository'],
    });
    expect(token.status).toBe(201);
    await expect(
      preflight(
        { repoUrl: repoUrl('golden-path', 'x') },
        { password: token.data.sha1 },
      ),
    ).rejects.toThrow(
      /may not create repositories in golden-path \(Gitea: 403 token does not have at least one of required scope\(s\), required=\[write:organization write:repository\]/,
    );
  });

  it('rollback deletes an empty repository created after the preflight, not one from before', async () => {
    const name = `failed-push-${suffix}`;
    const { checkedAt } = await preflight({
      repoUrl: repoUrl('golden-path', name),
    });
    // What publish:gitea leaves when its push fails: the repository, created and empty.
    expect(
      (await admin('POST', '/orgs/golden-path/repos', { name })).status,
    ).toBe(201);
    const rollback = (createdAfter: string) => {
      const ctx = createMockActionContext({
        input: { repoUrl: repoUrl('golden-path', name), createdAfter },
        logger: mockServices.logger.mock(),
      });
      return createPublishRollbackAction({
        integrations: integrationsWith({}),
      })
        .handler(ctx as any)
        .then(() => Object.fromEntries((ctx.output as jest.Mock).mock.calls));
    };
    // Checked a minute later than it was: the repository predates the check.
    const later = new Date(Date.parse(checkedAt) + 60_000).toISOString();
    expect(await rollback(later)).toEqual({ deleted: false });
    expect((await admin('GET', `/repos/golden-path/${name}`)).status).toBe(200);
    expect(await rollback(checkedAt)).toEqual({ deleted: true });
    expect((await admin('GET', `/repos/golden-path/${name}`)).status).toBe(404);
  });

  it('a real task of the template publishes to Gitea (publish-github skipped) and registers from Gitea', async () => {
    const name = `task-web-${suffix}`;
    const testCase = discoverTemplateCases().find(
      c => c.template === 'fastapi-static-web' && c.example === 'typical',
    )!;
    // The template as it is, with its local Git server moved to this test's port.
    const templateEntity = JSON.parse(
      JSON.stringify(testCase.templateEntity).split('3300').join(String(port)),
    );
    templateEntity.metadata.namespace = 'default';
    const registered: string[] = [];
    const catalog = catalogServiceMock({ entities: [templateEntity] });
    catalog.addLocation = async location => {
      // catalog:register adds the location, then asks again in a dry run for its entities.
      if (!location.dryRun) registered.push(location.target);
      return {
        location: {
          id: String(registered.length),
          type: 'url',
          target: location.target,
          entityRef: `location:default/generated-${registered.length}`,
        },
        entities: [],
        exists: false,
      };
    };
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gitea-it-task-'));
    const backend = await startTestBackend({
      features: [
        scaffolderPlugin,
        scaffolderModuleGithub,
        scaffolderModuleGitea,
        scaffolderModuleGoldenPath,
        createServiceFactory({
          service: catalogServiceRef,
          deps: {},
          factory: () => catalog,
        }),
        scaffolderConfig({
          workingDirectory: workDir,
          integrations: {
            github: [{ host: 'github.com' }],
            gitea: [
              {
                host: host(),
                baseUrl: env.GITEA_URL,
                username: env.GITEA_USERNAME,
                password: env.GITEA_TOKEN,
              },
            ],
          },
        }),
      ],
    });
    try {
      const { status, log, events } = await runScaffolderTask(backend.server, {
        templateRef: 'template:default/fastapi-static-web',
        values: {
          ...testCase.values,
          name,
          repoUrl: repoUrl('golden-path', name),
          // publish:gitea waits up to 20 s for a private repository's page, which it
          // fetches without credentials; public answers at once.
          repoVisibility: 'public',
        },
      });
      expect({
        status,
        tail: status === 'completed' ? [] : log.slice(-15),
      }).toEqual({ status: 'completed', tail: [] });
      expect(log).toContain(
        'Skipping step publish-github because its if condition was false',
      );
      expect(log).toContain(
        'Skipping step rollback because its if condition was false',
      );
      const contentsUrl = `${env.GITEA_URL}/golden-path/${name}/src/branch/main/`;
      expect(registered).toEqual([`${contentsUrl}catalog-info.yaml`]);
      const completion = events.find(event => event.type === 'completion');
      expect(completion.body.output.links[0]).toEqual({
        title: 'Repository',
        url: contentsUrl,
      });
      expect(
        (await admin('GET', `/repos/golden-path/${name}`)).data,
      ).toMatchObject({ empty: false, private: false, default_branch: 'main' });
    } finally {
      await backend.stop();
      fs.rmSync(workDir, { recursive: true, force: true });
    }
  });

  it('preflight says the server is unreachable, with its URL, once Gitea is stopped', async () => {
    await gitea('stop');
    await expect(
      preflight({ repoUrl: repoUrl('golden-path', 'x') }),
    ).rejects.toThrow(
      `Could not reach Gitea at ${env.GITEA_URL} (GET ${env.GITEA_URL}/api/v1/version: connection refused: nothing listens there). Is the Git server running?`,
    );
  });
});
