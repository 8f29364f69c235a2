import type http from 'node:http';
import { JsonAnswer, startJsonServer } from './jsonServer';

/** A token the fake GitHub accepts, and what `GET /user` says about it. @public */
export interface FakeToken {
  login: string;
  /** Classic token scopes, sent as `x-oauth-scopes`; leave out for a fine-grained token. */
  scopes?: string[];
}

/** @public */
export interface FakeRepo {
  /** ISO 8601, second precision like GitHub's. */
  created_at: string;
  branches: string[];
}

/** @public */
export interface FakeInstallation {
  id: number;
  account: { login: string; type: 'Organization' | 'User' };
  permissions: Record<string, string>;
  repository_selection: 'all' | 'selected';
  /** The installation token the fake hands out and accepts. */
  token: string;
}

/** @public */
export interface FakeGithubOptions {
  tokens?: Record<string, FakeToken>;
  /** Users and organizations by login. */
  accounts?: Record<string, 'User' | 'Organization'>;
  /** `<org>/<login>` → membership, or `sso` for a token not authorized for SAML SSO. */
  memberships?: Record<
    string,
    { state: 'active' | 'pending'; role: 'admin' | 'member' } | 'sso'
  >;
  /** `GET /orgs/{org}` fields, such as `members_can_create_private_repositories`. */
  orgs?: Record<string, Record<string, unknown>>;
  /** Existing repositories by `owner/name`. */
  repos?: Record<string, FakeRepo>;
  installations?: FakeInstallation[];
}

/** @public */
export interface FakeRequest {
  method: string;
  path: string;
}

/** @public */
export interface FakeGithub {
  /** Base URL for both the REST API (`apiBaseUrl`) and git (`clone_url`). */
  url: string;
  /** Every request received, in order. */
  requests: FakeRequest[];
  /** The repositories as they are now (created and deleted ones included). */
  repos: Map<string, FakeRepo>;
  close(): Promise<void>;
}

/** GitHub's `created_at` format: ISO 8601 without milliseconds. @public */
export function githubTime(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * A local stand-in for api.github.com (GitHub cannot be reached from the test
 * machines): the few REST endpoints `publish:github` and the golden-path publishing
 * actions call, with GitHub's status codes and headers. Git pushes to its `clone_url`s
 * are refused with 403, as GitHub does for a token without push rights.
 *
 * @public
 */
export async function startFakeGithub(
  options: FakeGithubOptions = {},
): Promise<FakeGithub> {
  const tokens = options.tokens ?? {};
  const accounts = options.accounts ?? {};
  const installations = options.installations ?? [];
  const repos = new Map(Object.entries(options.repos ?? {}));
  const requests: FakeRequest[] = [];
  let url = '';

  const repoJson = (full: string, repo: FakeRepo) => ({
    name: full.split('/')[1],
    full_name: full,
    created_at: repo.created_at,
    html_url: `${url}/${full}`,
    clone_url: `${url}/${full}.git`,
  });

  function handle(req: http.IncomingMessage, body: any): JsonAnswer {
    const { pathname, searchParams } = new URL(req.url!, url);
    const method = req.method!;
    requests.push({ method, path: pathname });
    const [scheme, credential] = (req.headers.authorization ?? '').split(' ');
    const notFound = { status: 404, json: { message: 'Not Found' } };

    if (pathname.endsWith('.git/info/refs') || pathname.includes('.git/git-')) {
      return { status: 403, json: { message: 'Permission denied' } };
    }

    // GitHub App endpoints authenticate with the app's JWT.
    if (pathname.startsWith('/app/')) {
      if (
        scheme?.toLowerCase() !== 'bearer' ||
        credential.split('.').length !== 3
      ) {
        return {
          status: 401,
          json: { message: 'A JSON web token could not be decoded' },
        };
      }
      if (method === 'GET' && pathname === '/app/installations') {
        return {
          status: 200,
          json: installations.map(
            ({ token: _token, ...installation }) => installation,
          ),
        };
      }
      const match = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(
        pathname,
      );
      const installation = installations.find(i => String(i.id) === match?.[1]);
      if (method === 'POST' && installation) {
        return {
          status: 201,
          json: {
            token: installation.token,
            expires_at: new Date(Date.now() + 3600_000).toISOString(),
            permissions: installation.permissions,
            repository_selection: installation.repository_selection,
          },
        };
      }
      return notFound;
    }

    const installation = installations.find(i => i.token === credential);
    const user = tokens[credential];
    if (!installation && !user) {
      return { status: 401, json: { message: 'Bad credentials' } };
    }
    const headers: Record<string, string> =
      user?.scopes !== undefined
        ? { 'x-oauth-scopes': user.scopes.join(', ') }
        : {};
    const has = (scope: string) => user?.scopes?.includes(scope) ?? true;

    if (method === 'GET' && pathname === '/user') {
      if (!user) {
        return {
          status: 403,
          json: { message: 'Resource not accessible by integration' },
        };
      }
      return {
        status: 200,
        json: { login: user.login, type: 'User' },
        headers,
      };
    }
    if (method === 'GET' && pathname === '/installation/repositories') {
      if (!installation) {
        return {
          status: 403,
          json: {
            message: 'You must authenticate with an installation access token',
          },
        };
      }
      return { status: 200, json: { total_count: 0, repositories: [] } };
    }
    let m = /^\/users\/([^/]+)$/.exec(pathname);
    if (method === 'GET' && m) {
      const type = accounts[m[1]];
      return type
        ? { status: 200, json: { login: m[1], type }, headers }
        : { ...notFound, headers };
    }
    m = /^\/user\/memberships\/orgs\/([^/]+)$/.exec(pathname);
    if (method === 'GET' && m && user) {
      const membership = options.memberships?.[`${m[1]}/${user.login}`];
      if (membership === 'sso') {
        return {
          status: 403,
          json: {
            message: 'Resource protected by organization SAML enforcement.',
          },
          headers: {
            ...headers,
            'x-github-sso': `required; url=${url}/orgs/${m[1]}/sso?authorization_request=1`,
          },
        };
      }
      return membership
        ? {
            status: 200,
            json: { ...membership, organization: { login: m[1] } },
            headers,
          }
        : { ...notFound, headers };
    }
    m = /^\/orgs\/([^/]+)$/.exec(pathname);
    if (method === 'GET' && m) {
      return accounts[m[1]] === 'Organization'
        ? {
            status: 200,
            json: { login: m[1], ...options.orgs?.[m[1]] },
            headers,
          }
        : { ...notFound, headers };
    }
    const create = (owner: string) => {
      const full = `${owner}/${body?.name}`;
      if (repos.has(full)) {
        return {
          status: 422,
          json: {
            message: 'Repository creation failed.',
            errors: [{ message: 'name already exists on this account' }],
          },
          headers,
        };
      }
      const repo = { created_at: githubTime(), branches: [] };
      repos.set(full, repo);
      return { status: 201, json: repoJson(full, repo), headers };
    };
    m = /^\/orgs\/([^/]+)\/repos$/.exec(pathname);
    if (method === 'POST' && m) {
      return create(m[1]);
    }
    if (method === 'POST' && pathname === '/user/repos' && user) {
      return create(user.login);
    }
    m = /^\/repos\/([^/]+)\/([^/]+)(\/branches)?$/.exec(pathname);
    if (m) {
      const full = `${m[1]}/${m[2]}`;
      const repo = repos.get(full);
      if (!repo) {
        return { ...notFound, headers };
      }
      if (method === 'GET' && m[3]) {
        const perPage = Number(searchParams.get('per_page') ?? 30);
        return {
          status: 200,
          json: repo.branches.slice(0, perPage).map(name => ({ name })),
          headers,
        };
      }
      if (method === 'GET') {
        return { status: 200, json: repoJson(full, repo), headers };
      }
      if (method === 'DELETE') {
        if (!has('delete_repo')) {
          return {
            status: 403,
            json: { message: 'Must have admin rights to Repository.' },
            headers,
          };
        }
        repos.delete(full);
        return { status: 204, headers };
      }
    }
    return { ...notFound, headers };
  }

  const server = await startJsonServer(handle);
  url = server.url;

  return { url, requests, repos, close: server.close };
}
