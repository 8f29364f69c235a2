import { generateKeyPairSync } from 'node:crypto';
import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { ScmIntegrations } from '@backstage/integration';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import {
  FakeGithub,
  FakeGithubOptions,
  FakeInstallation,
  startFakeGithub,
} from '../testUtils';
import { createPublishPreflightAction } from './publishPreflight';

const ORG_REPO = 'github.com?owner=acme&repo=hello-web';

/** A classic token with what publishing needs, in an org where the user is an owner. */
const ORG_SETUP: FakeGithubOptions = {
  tokens: {
    'ghp-good': { login: 'dev', scopes: ['repo', 'workflow', 'delete_repo'] },
  },
  accounts: { acme: 'Organization', dev: 'User', other: 'User' },
  memberships: { 'acme/dev': { state: 'active', role: 'admin' } },
};

describe('golden-path:publish:preflight', () => {
  let fake: FakeGithub | undefined;

  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  async function run(options: {
    github?: FakeGithubOptions;
    /** The integration entry; apiBaseUrl defaults to the fake. */
    integration?: Record<string, unknown>;
    input?: Record<string, unknown>;
    dryRun?: boolean;
    requireScmUserCredentials?: boolean;
  }) {
    fake = await startFakeGithub(options.github ?? ORG_SETUP);
    const integrations = ScmIntegrations.fromConfig(
      new ConfigReader({
        integrations: {
          github: [
            {
              host: 'github.com',
              apiBaseUrl: fake.url,
              token: 'ghp-good',
              ...options.integration,
            },
          ],
        },
      }),
    );
    const logger = mockServices.logger.mock();
    const ctx = {
      ...createMockActionContext({
        input: { repoUrl: ORG_REPO, ...options.input } as any,
        logger,
      }),
      isDryRun: options.dryRun,
    };
    const action = createPublishPreflightAction({
      integrations,
      requireScmUserCredentials: options.requireScmUserCredentials,
    });
    const messages = (level: 'info' | 'warn') =>
      (logger[level] as jest.Mock).mock.calls.map(call => String(call[0]));
    return {
      promise: action.handler(ctx as any),
      ctx,
      messages,
      outputs: () =>
        Object.fromEntries(
          (ctx.output as jest.Mock).mock.calls.map(([k, v]) => [k, v]),
        ),
    };
  }

  const sent = () => fake!.requests.map(r => `${r.method} ${r.path}`);

  describe('input and configuration, before any request', () => {
    it('fails without an integration for the host, naming the config to add', async () => {
      const { promise } = await run({
        input: { repoUrl: 'ghe.example.com?owner=acme&repo=hello-web' },
      });
      await expect(promise).rejects.toThrow(
        /no GitHub or Gitea integration for ghe\.example\.com.*integrations\.github in app-config\.yaml with host: ghe\.example\.com.*Nothing was created/,
      );
      expect(sent()).toEqual([]);
    });

    it('fails when an integration has no apiBaseUrl, naming the key', async () => {
      const { promise } = await run({
        integration: { host: 'ghe.example.com', apiBaseUrl: undefined },
        input: { repoUrl: 'ghe.example.com?owner=acme&repo=hello-web' },
      });
      await expect(promise).rejects.toThrow(
        /integrations\.github\[\]\.apiBaseUrl \(for GitHub Enterprise Server: https:\/\/ghe\.example\.com\/api\/v3\)/,
      );
    });

    it.each([
      ['no repository', 'github.com?owner=acme'],
      ['no owner', 'github.com?repo=hello-web'],
      ['an unparseable host', 'github.com:99999?owner=acme&repo=x'],
    ])(
      'fails on a repoUrl with %s, showing the expected format',
      async (_label, repoUrl) => {
        const { promise } = await run({ input: { repoUrl } });
        await expect(promise).rejects.toThrow(
          /repoUrl must .*github\.com\?owner=<owner>&repo=<name>.*Nothing was created/,
        );
        expect(sent()).toEqual([]);
      },
    );

    it('fails without a token or app for the host, saying to set GITHUB_TOKEN / integrations.github[].token', async () => {
      const { promise } = await run({ integration: { token: undefined } });
      await expect(promise).rejects.toThrow(
        /needs a GitHub token or a GitHub App.*set the portal's GITHUB_TOKEN environment variable \(app-config\.yaml reads it into integrations\.github\[\]\.token for host github\.com\) and restart the portal.*repo and workflow.*Nothing was created/,
      );
      expect(sent()).toEqual([]);
    });

    it('names the config key of another host', async () => {
      const { promise } = await run({
        integration: { host: 'ghe.example.com', token: undefined },
        input: { repoUrl: 'ghe.example.com?owner=acme&repo=hello-web' },
      });
      await expect(promise).rejects.toThrow(
        /set integrations\.github\[\]\.token in the entry with host: ghe\.example\.com/,
      );
    });

    it('enforces scaffolder.requireScmUserCredentials like publish:github', async () => {
      const { promise } = await run({ requireScmUserCredentials: true });
      await expect(promise).rejects.toThrow(
        /requireScmUserCredentials is enabled.*add token: \$\{\{ secrets\.USER_OAUTH_TOKEN \}\}.*Nothing was created/,
      );
      expect(sent()).toEqual([]);
    });
  });

  describe('the token', () => {
    it('fails when GitHub rejects it (401), saying it is expired, revoked or mistyped', async () => {
      const { promise } = await run({ integration: { token: 'ghp-revoked' } });
      await expect(promise).rejects.toThrow(
        /GitHub rejected the token configured for github\.com \(integrations\.github\[\]\.token\) \(401 Bad credentials\): it is expired, revoked or mistyped.*GITHUB_TOKEN.*Nothing was created/,
      );
      expect(sent()).toEqual(['GET /user']);
    });

    it('fails without the repo scope (and the workflow scope), listing what it has', async () => {
      const { promise } = await run({
        github: {
          ...ORG_SETUP,
          tokens: { 'ghp-good': { login: 'dev', scopes: ['read:user'] } },
        },
      });
      await expect(promise).rejects.toThrow(
        /classic token of dev lacks the scope\(s\) repo, workflow \(it has: read:user\).*settings\/tokens.*Nothing was created/,
      );
    });

    it('fails without the workflow scope when the files include workflows', async () => {
      const { promise } = await run({
        github: {
          ...ORG_SETUP,
          tokens: { 'ghp-good': { login: 'dev', scopes: ['repo'] } },
        },
      });
      await expect(promise).rejects.toThrow(
        /lacks the scope\(s\) workflow \(it has: repo\).*workflow to push its \.github\/workflows files/,
      );
    });

    it('fails on a classic token with no scopes at all', async () => {
      const { promise } = await run({
        github: {
          ...ORG_SETUP,
          tokens: { 'ghp-good': { login: 'dev', scopes: [] } },
        },
      });
      await expect(promise).rejects.toThrow(/\(it has: no scopes\)/);
    });

    it('accepts public_repo for a public repository without workflows, warning that rollback cannot delete', async () => {
      const { promise, messages } = await run({
        github: {
          ...ORG_SETUP,
          tokens: { 'ghp-good': { login: 'dev', scopes: ['public_repo'] } },
        },
        input: { repoVisibility: 'public', workflows: false },
      });
      await expect(promise).resolves.toBeUndefined();
      expect(messages('warn')).toEqual([
        expect.stringMatching(/lacks the delete_repo scope.*delete it by hand/),
      ]);
    });

    it('cannot read the permissions of a fine-grained token and says what it needs', async () => {
      const { promise, messages } = await run({
        github: {
          ...ORG_SETUP,
          tokens: { 'ghp-good': { login: 'dev' } },
        },
      });
      await expect(promise).resolves.toBeUndefined();
      expect(messages('warn')).toEqual([
        expect.stringMatching(
          /does not report the permissions of this token.*All repositories.*Administration, Contents and Workflows: Read and write/,
        ),
      ]);
    });

    it('uses the token input instead of the configured credentials', async () => {
      const { promise, outputs } = await run({
        integration: { token: undefined },
        input: { token: 'ghp-good' },
      });
      await expect(promise).resolves.toBeUndefined();
      expect(outputs().login).toBe('dev');
    });

    it('fails when GitHub cannot be reached, saying so', async () => {
      const { promise } = await run({
        integration: { apiBaseUrl: 'http://127.0.0.1:1' },
      });
      await expect(promise).rejects.toThrow(
        /Could not reach GitHub at http:\/\/127\.0\.0\.1:1 for GET \/user.*network access or proxy/,
      );
    });
  });

  describe('rights on the owner', () => {
    it('fails when the owner does not exist', async () => {
      const { promise } = await run({
        input: { repoUrl: 'github.com?owner=nobody&repo=hello-web' },
      });
      await expect(promise).rejects.toThrow(
        /GitHub has no user or organization named nobody: correct the owner in the Repository location field.*Nothing was created/,
      );
    });

    it("fails for another user's account: GitHub creates user repositories only in the token's own account", async () => {
      const { promise } = await run({
        input: { repoUrl: 'github.com?owner=other&repo=hello-web' },
      });
      await expect(promise).rejects.toThrow(
        /other is a user account other than the token's user \(dev\).*Choose dev or an organization.*Nothing was created/,
      );
    });

    it('refuses internal visibility for a user account, where publish:github would make it public', async () => {
      const { promise } = await run({
        input: {
          repoUrl: 'github.com?owner=dev&repo=hello-web',
          repoVisibility: 'internal',
        },
      });
      await expect(promise).rejects.toThrow(
        /Internal repositories exist only in organizations.*would create a public repository there\. Choose private or public visibility.*Nothing was created/,
      );
      expect(sent()).not.toContain('GET /repos/dev/hello-web');
    });

    it("passes for the token's own account", async () => {
      const { promise, outputs } = await run({
        input: { repoUrl: 'github.com?owner=dev&repo=hello-web' },
      });
      await expect(promise).resolves.toBeUndefined();
      expect(outputs().ownerType).toBe('User');
    });

    it('fails when the user is not a member of the org (token can read memberships)', async () => {
      const { promise } = await run({
        github: {
          ...ORG_SETUP,
          tokens: {
            'ghp-good': {
              login: 'dev',
              scopes: ['repo', 'workflow', 'read:org'],
            },
          },
          memberships: {},
        },
      });
      await expect(promise).rejects.toThrow(
        /dev is not a member of the organization acme.*invite dev.*Nothing was created/,
      );
    });

    it('warns and goes on when the token cannot read memberships (GitHub checks at creation)', async () => {
      const { promise, messages } = await run({
        github: { ...ORG_SETUP, memberships: {} },
      });
      await expect(promise).resolves.toBeUndefined();
      expect(messages('warn')).toEqual([
        expect.stringMatching(
          /Could not read dev's membership in acme \(404 Not Found; a classic token needs read:org/,
        ),
      ]);
    });

    it('fails on a pending invitation, linking to it', async () => {
      const { promise } = await run({
        github: {
          ...ORG_SETUP,
          memberships: { 'acme/dev': { state: 'pending', role: 'member' } },
        },
      });
      await expect(promise).rejects.toThrow(
        /pending invitation to acme: accept it at https:\/\/github\.com\/orgs\/acme\/invitation/,
      );
    });

    it('fails when the org enforces SAML SSO and the token is not authorized, with the URL', async () => {
      const { promise } = await run({
        github: { ...ORG_SETUP, memberships: { 'acme/dev': 'sso' } },
      });
      await expect(promise).rejects.toThrow(
        /acme enforces SAML single sign-on.*authorize the token for acme at http:\/\/127\.0\.0\.1:\d+\/orgs\/acme\/sso/,
      );
    });

    it('fails when members may not create private repositories in the org', async () => {
      const { promise } = await run({
        github: {
          ...ORG_SETUP,
          memberships: { 'acme/dev': { state: 'active', role: 'member' } },
          orgs: { acme: { members_can_create_private_repositories: false } },
        },
      });
      await expect(promise).rejects.toThrow(
        /Members of acme may not create private repositories.*Member privileges.*Nothing was created/,
      );
    });

    it('passes a member when the org allows the visibility', async () => {
      const { promise, messages } = await run({
        github: {
          ...ORG_SETUP,
          memberships: { 'acme/dev': { state: 'active', role: 'member' } },
          orgs: {
            acme: {
              members_can_create_repositories: true,
              members_can_create_private_repositories: true,
            },
          },
        },
      });
      await expect(promise).resolves.toBeUndefined();
      expect(messages('info')).toContain(
        'dev is a member of acme, and members may create private repositories',
      );
    });

    it('warns when a member cannot see the org policy', async () => {
      const { promise, messages } = await run({
        github: {
          ...ORG_SETUP,
          memberships: { 'acme/dev': { state: 'active', role: 'member' } },
        },
      });
      await expect(promise).resolves.toBeUndefined();
      expect(messages('warn')).toEqual([
        expect.stringMatching(
          /does not show members the organization's repository creation policy/,
        ),
      ]);
    });
  });

  describe('the repository name', () => {
    it('fails when the repository already exists: choose another name', async () => {
      const { promise } = await run({
        github: {
          ...ORG_SETUP,
          repos: {
            'acme/hello-web': {
              created_at: '2024-01-01T00:00:00Z',
              branches: ['main'],
            },
          },
        },
      });
      await expect(promise).rejects.toThrow(
        /The repository acme\/hello-web already exists \(https:\/\/github\.com\/acme\/hello-web\): choose another name in the Repository location field.*Nothing was created/,
      );
    });
  });

  it('passes when everything is in place, logging each check and sending only reads', async () => {
    const before = Date.now();
    const { promise, messages, outputs } = await run({});
    await expect(promise).resolves.toBeUndefined();
    expect(messages('info')).toEqual([
      'Checking that github.com/acme/hello-web can be published before anything is created',
      'Credentials: the token configured for github.com (integrations.github[].token)',
      'GitHub accepts the token: it belongs to dev',
      'acme is a GitHub organization',
      'The classic token has the scopes publishing needs (repo, workflow, delete_repo)',
      'dev is an owner of acme',
      'acme/hello-web does not exist yet: publishing can go ahead',
    ]);
    expect(messages('warn')).toEqual([]);
    expect(sent()).toEqual([
      'GET /user',
      'GET /users/acme',
      'GET /user/memberships/orgs/acme',
      'GET /repos/acme/hello-web',
    ]);
    const { checkedAt, ...rest } = outputs();
    expect(rest).toEqual({
      provider: 'github',
      owner: 'acme',
      repo: 'hello-web',
      htmlUrl: 'https://github.com/acme/hello-web',
      login: 'dev',
      ownerType: 'Organization',
    });
    // GitHub's Date header: whole seconds, around now.
    const checked = new Date(checkedAt).getTime();
    expect(checked).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(checked).toBeLessThanOrEqual(Date.now());
  });

  describe('dry run', () => {
    it('validates the input and sends nothing to GitHub, saying so', async () => {
      const { promise, messages, outputs } = await run({ dryRun: true });
      await expect(promise).resolves.toBeUndefined();
      expect(sent()).toEqual([]);
      expect(messages('info')).toEqual([
        'Dry run: github.com/acme/hello-web is a valid publishing target and the portal has a GitHub integration for github.com.',
        'Dry run: skipped the GitHub API checks (token, rights on the owner, existing repository); nothing was sent to GitHub.',
      ]);
      expect(outputs()).toMatchObject({ owner: 'acme', repo: 'hello-web' });
    });

    it('passes without a token but warns what a real run needs', async () => {
      const { promise, messages } = await run({
        dryRun: true,
        integration: { token: undefined },
      });
      await expect(promise).resolves.toBeUndefined();
      expect(messages('warn')).toEqual([
        expect.stringMatching(
          /No token or GitHub App is configured for github\.com: a real run would stop here.*GITHUB_TOKEN/,
        ),
      ]);
    });

    it('still fails on invalid input', async () => {
      const { promise } = await run({
        dryRun: true,
        input: { repoUrl: 'ghe.example.com?owner=acme&repo=x' },
      });
      await expect(promise).rejects.toThrow(/no GitHub or Gitea integration/);
      expect(sent()).toEqual([]);
    });
  });

  describe('GitHub App credentials', () => {
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const app = {
      appId: 1,
      clientId: 'client',
      clientSecret: 'secret',
      privateKey,
    };
    const installation = (
      overrides: Partial<FakeInstallation> = {},
    ): FakeInstallation => ({
      id: 7,
      account: { login: 'acme', type: 'Organization' },
      permissions: {
        administration: 'write',
        contents: 'write',
        workflows: 'write',
        metadata: 'read',
      },
      repository_selection: 'all',
      token: 'ghs-installation',
      ...overrides,
    });
    const withApp = (inst: FakeInstallation) => ({
      github: { ...ORG_SETUP, installations: [inst] },
      integration: { token: undefined, apps: [app] },
    });

    it('passes with an installation on all repositories that has the permissions', async () => {
      const { promise, messages, outputs } = await run(withApp(installation()));
      await expect(promise).resolves.toBeUndefined();
      expect(messages('info')).toContain(
        'The GitHub App installation on acme has administration: write, contents: write, workflows: write',
      );
      expect(outputs().login).toBeUndefined();
      expect(sent()).toContain('GET /installation/repositories');
    });

    it('fails when the installation lacks a permission, listing what it has', async () => {
      const { promise } = await run(
        withApp(
          installation({
            permissions: {
              administration: 'write',
              contents: 'write',
              metadata: 'read',
            },
          }),
        ),
      );
      await expect(promise).rejects.toThrow(
        /installation on acme lacks workflows: write \(it has: administration: write, contents: write, metadata: read\).*accept the new permissions.*Nothing was created/,
      );
    });

    it('fails when installed on selected repositories only: the new one is never among them', async () => {
      const { promise } = await run(
        withApp(installation({ repository_selection: 'selected' })),
      );
      await expect(promise).rejects.toThrow(
        /GitHub App configured for github\.com cannot give a token for acme\/hello-web.*install the app on All repositories of acme.*Nothing was created/,
      );
    });

    it('fails for a user account: installation tokens cannot create user repositories', async () => {
      const { promise } = await run({
        ...withApp(installation({ account: { login: 'dev', type: 'User' } })),
        input: { repoUrl: 'github.com?owner=dev&repo=hello-web' },
      });
      await expect(promise).rejects.toThrow(
        /dev is a user account, and a GitHub App installation cannot create repositories in a user account.*Nothing was created/,
      );
    });

    it('names the apps when none is installed on the owner and there is no token', async () => {
      const { promise } = await run(
        withApp(
          installation({
            account: { login: 'elsewhere', type: 'Organization' },
          }),
        ),
      );
      await expect(promise).rejects.toThrow(
        /The GitHub App\(s\) in integrations\.github\[\]\.apps have no installation on acme.*GITHUB_TOKEN/,
      );
    });
  });
});
