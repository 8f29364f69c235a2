import net from 'node:net';
import { ConfigReader } from '@backstage/config';
import { ScmIntegrations } from '@backstage/integration';
import { FakeGitea, FakeGiteaOptions, startFakeGitea } from '../testUtils';
import { actionContext } from '../testUtils/actionContext';
import { createPublishPreflightAction } from './publishPreflight';

const HOST = 'git.example.test';

/** A loopback port nothing listens on (just released by a listener). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise(resolve => server.close(resolve));
  return port;
}
const REPO_URL = `${HOST}?owner=golden-path&repo=hello-web`;

/** The portal's token as platform/gitea/gitea.sh creates it, for the org's owner. */
const SETUP: FakeGiteaOptions = {
  tokens: {
    'portal-token': {
      login: 'golden-path-admin',
      scopes: ['write:organization', 'write:repository', 'read:user'],
    },
  },
  orgs: { 'golden-path': { 'golden-path-admin': 'owner' } },
};

describe('golden-path:publish:preflight for a Gitea host', () => {
  let fake: FakeGitea | undefined;

  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  async function run(
    options: {
      gitea?: FakeGiteaOptions;
      /** The integrations.gitea entry; baseUrl defaults to the fake's. */
      integration?:
        | Record<string, unknown>
        | ((fakeUrl: string) => Record<string, unknown>);
      input?: Record<string, unknown>;
      dryRun?: boolean;
    } = {},
  ) {
    fake = await startFakeGitea(options.gitea ?? SETUP);
    const integrations = ScmIntegrations.fromConfig(
      new ConfigReader({
        integrations: {
          github: [{ host: 'github.com' }],
          gitea: [
            {
              host: HOST,
              baseUrl: fake.url,
              username: 'golden-path-admin',
              password: 'portal-token',
              ...(typeof options.integration === 'function'
                ? options.integration(fake.url)
                : options.integration),
            },
          ],
        },
      }),
    );
    const { ctx, messages, outputs } = actionContext(
      { repoUrl: REPO_URL, ...options.input },
      { isDryRun: options.dryRun },
    );
    return {
      promise: createPublishPreflightAction({ integrations }).handler(ctx),
      messages,
      outputs,
    };
  }

  const sent = () => fake!.requests;

  it('passes when everything is in place, logging each check and writing nothing', async () => {
    const { promise, messages, outputs } = await run();
    await expect(promise).resolves.toBeUndefined();
    expect(messages('info')).toEqual([
      `Checking that ${HOST}/golden-path/hello-web can be published before anything is created`,
      `Gitea 1.26.0 answers at ${fake!.url}`,
      'Gitea accepts the token: it belongs to golden-path-admin',
      'golden-path is a Gitea organisation',
      'golden-path-admin may create repositories in golden-path',
      'The token has the scopes to create and push the repository (write:organization, write:repository)',
      'golden-path/hello-web does not exist yet: publishing can go ahead',
    ]);
    expect(messages('warn')).toEqual([]);
    expect(sent()).toEqual([
      'GET /api/v1/version',
      'GET /api/v1/user',
      'GET /api/v1/orgs/golden-path',
      'GET /api/v1/users/golden-path-admin/orgs/golden-path/permissions',
      // The scope probe: no name, so Gitea can only refuse it (403 or 422).
      'POST /api/v1/org/golden-path/repos',
      'GET /api/v1/repos/golden-path/hello-web',
    ]);
    const { checkedAt, ...rest } = outputs();
    expect(rest).toEqual({
      provider: 'gitea',
      owner: 'golden-path',
      repo: 'hello-web',
      htmlUrl: `${fake!.url}/golden-path/hello-web`,
      ownerType: 'Organization',
      login: 'golden-path-admin',
    });
    // Gitea's Date header: whole seconds, around now.
    expect(Date.now() - new Date(String(checkedAt)).getTime()).toBeLessThan(
      5_000,
    );
  });

  it('fails without a Gitea integration for the host, naming both kinds of integration', async () => {
    const { promise } = await run({
      input: { repoUrl: 'gitea.elsewhere.test?owner=golden-path&repo=x' },
    });
    await expect(promise).rejects.toThrow(
      /no GitHub or Gitea integration for gitea\.elsewhere\.test.*integrations\.gitea with host: gitea\.elsewhere\.test, its baseUrl, a username and a token as password.*Nothing was created/,
    );
    expect(sent()).toEqual([]);
  });

  it.each([
    ['no token', { password: undefined }, /no password \(the access token\)/],
    ['no username', { username: undefined }, /no username,/],
  ])(
    'fails with %s, saying where the credentials come from',
    async (_label, integration, missing) => {
      const { promise } = await run({ integration });
      await expect(promise).rejects.toThrow(missing);
      await expect(promise).rejects.toThrow(
        /publish:gitea needs both.*integrations\.gitea in app-config\.yaml.*platform\/gitea\/gitea\.sh env.*GITEA_TOKEN.*write:organization, write:repository, read:user.*Nothing was created on Gitea/,
      );
      expect(sent()).toEqual([]);
    },
  );

  it('fails when nothing listens at the URL (connection refused), naming it and how to start Gitea', async () => {
    const closed = await closedPort();
    const { promise } = await run({
      integration: { baseUrl: `http://127.0.0.1:${closed}` },
    });
    await expect(promise).rejects.toThrow(
      `Could not reach Gitea at http://127.0.0.1:${closed} (GET http://127.0.0.1:${closed}/api/v1/version: connection refused: nothing listens there). Is the Git server running? For the local one run \`make start\``,
    );
  });

  it('fails when something else answers at the URL', async () => {
    // The fake's API lives under /api/v1: one folder too deep, every answer is a 404.
    const { promise } = await run({
      integration: url => ({ baseUrl: `${url}/gitea` }),
    });
    await expect(promise).rejects.toThrow(
      /Something answers at http:\/\/127\.0\.0\.1:\d+\/gitea, but not as Gitea's API \(GET \/api\/v1\/version: 404 not found\)\. Check integrations\.gitea\[\]\.baseUrl/,
    );
  });

  it('fails when Gitea rejects the token (401), saying how to get a new one', async () => {
    const { promise } = await run({ integration: { password: 'revoked' } });
    await expect(promise).rejects.toThrow(
      /rejected the credentials of golden-path-admin \(401 invalid username, password or token\): the token is wrong, expired or deleted.*delete portal-token in its GITEA_HOME and run `platform\/gitea\/gitea\.sh start`.*Nothing was created on Gitea/,
    );
    expect(sent()).toEqual(['GET /api/v1/version', 'GET /api/v1/user']);
  });

  it("fails when the token may not say whose it is (no read:user), quoting Gitea's scopes", async () => {
    const { promise } = await run({
      gitea: {
        ...SETUP,
        tokens: {
          'portal-token': {
            login: 'golden-path-admin',
            scopes: ['write:organization', 'write:repository'],
          },
        },
      },
    });
    await expect(promise).rejects.toThrow(
      /Gitea refused to say whose token the portal uses \(GET \/api\/v1\/user: 403 token does not have at least one of required scope\(s\), required=\[read:user\].*The token needs the scopes write:organization, write:repository, read:user/,
    );
  });

  it('fails when the organisation does not exist, naming the local one', async () => {
    const { promise } = await run({
      input: { repoUrl: `${HOST}?owner=nobody&repo=hello-web` },
    });
    await expect(promise).rejects.toThrow(
      /no organisation named nobody, and publish:gitea creates repositories only in an existing organisation.*locally: golden-path.*Nothing was created on Gitea/,
    );
    expect(sent()).not.toContain('GET /api/v1/repos/nobody/hello-web');
  });

  it("fails when the token's user may not create repositories in the organisation", async () => {
    const { promise } = await run({
      gitea: {
        ...SETUP,
        orgs: { 'golden-path': { 'golden-path-admin': 'member' } },
      },
    });
    await expect(promise).rejects.toThrow(
      /golden-path-admin, the user of the portal's Gitea token, may not create repositories in the organisation golden-path\. Make golden-path-admin an owner.*Nothing was created on Gitea/,
    );
    expect(sent()).not.toContain('POST /api/v1/org/golden-path/repos');
  });

  it('accepts a team member allowed to create repositories', async () => {
    const { promise } = await run({
      gitea: {
        ...SETUP,
        orgs: { 'golden-path': { 'golden-path-admin': 'creator' } },
      },
    });
    await expect(promise).resolves.toBeUndefined();
  });

  it('lets a site administrator create anywhere without asking for org permissions', async () => {
    const { promise, messages } = await run({
      gitea: {
        ...SETUP,
        tokens: {
          'portal-token': { ...SETUP.tokens!['portal-token'], isAdmin: true },
        },
        orgs: { 'golden-path': {} },
      },
    });
    await expect(promise).resolves.toBeUndefined();
    expect(messages('info')).toContain(
      'golden-path-admin is a Gitea site administrator: it may create repositories in golden-path',
    );
    expect(sent()).not.toContain(
      'GET /api/v1/users/golden-path-admin/orgs/golden-path/permissions',
    );
  });

  it('fails when the token lacks the scopes to create and push, quoting what it has', async () => {
    const { promise } = await run({
      gitea: {
        ...SETUP,
        tokens: {
          'portal-token': {
            login: 'golden-path-admin',
            scopes: ['write:organization', 'read:repository', 'read:user'],
          },
        },
      },
    });
    await expect(promise).rejects.toThrow(
      /The portal's Gitea token may not create repositories in golden-path \(Gitea: 403 token does not have at least one of required scope\(s\), required=\[write:organization write:repository\], token scope=write:organization,read:repository,read:user\)\. The token needs the scopes.*Nothing was created on Gitea/,
    );
    expect(fake!.repos.size).toBe(0);
  });

  it('fails when the repository already exists, leaving it as it is', async () => {
    const existing = { created_at: '2025-01-01T00:00:00+00:00', empty: false };
    const { promise } = await run({
      gitea: { ...SETUP, repos: { 'golden-path/hello-web': existing } },
    });
    await expect(promise).rejects.toThrow(
      /The repository golden-path\/hello-web already exists on Gitea \(http:\/\/127\.0\.0\.1:\d+\/golden-path\/hello-web\): choose another name.*It was left as it is\. Nothing was created on Gitea/,
    );
    expect(fake!.repos.get('golden-path/hello-web')).toEqual(existing);
  });

  it('refuses internal visibility, which Gitea does not have, before asking Gitea', async () => {
    const { promise } = await run({ input: { repoVisibility: 'internal' } });
    await expect(promise).rejects.toThrow(
      /Gitea repositories are private or public; "internal" exists only on GitHub Enterprise.*Choose private or public/,
    );
    expect(sent()).toEqual([]);
  });

  describe('dry run', () => {
    it('validates the input and configuration and sends nothing to Gitea', async () => {
      const { promise, messages, outputs } = await run({ dryRun: true });
      await expect(promise).resolves.toBeUndefined();
      expect(sent()).toEqual([]);
      expect(messages('info')).toEqual([
        `Dry run: ${HOST}/golden-path/hello-web is a valid publishing target and the portal has a Gitea integration for ${HOST} (${
          fake!.url
        }).`,
        'Dry run: skipped the Gitea API checks (server, token, organisation, rights, existing repository); nothing was sent to Gitea.',
      ]);
      expect(outputs()).toMatchObject({
        provider: 'gitea',
        owner: 'golden-path',
        repo: 'hello-web',
      });
    });

    it('warns what a real run needs when no token is configured', async () => {
      const { promise, messages } = await run({
        dryRun: true,
        integration: { password: undefined },
      });
      await expect(promise).resolves.toBeUndefined();
      expect(messages('warn')).toEqual([
        expect.stringMatching(
          /A real run would stop here\. The Gitea integration for git\.example\.test has no password/,
        ),
      ]);
      expect(sent()).toEqual([]);
    });
  });
});
