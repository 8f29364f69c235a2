import type http from 'node:http';
import { JsonAnswer, startJsonServer } from './jsonServer';

/** An access token the fake Gitea accepts (as the password of basic auth, as the portal sends it). @public */
export interface FakeGiteaToken {
  login: string;
  /** Gitea scopes such as write:organization; write:x includes read:x. */
  scopes: string[];
  /** A site administrator may create repositories in any organisation. */
  isAdmin?: boolean;
}

/** @public */
export interface FakeGiteaRepo {
  /** RFC 3339 with whole seconds, as Gitea sends it. */
  created_at: string;
  /** Gitea's flag: no commit was ever pushed. */
  empty: boolean;
}

/** @public */
export interface FakeGiteaOptions {
  tokens?: Record<string, FakeGiteaToken>;
  /** Organisations by name: each member's role (owner, or a team that may or may not create repositories). */
  orgs?: Record<string, Record<string, 'owner' | 'creator' | 'member'>>;
  /** Existing repositories by `owner/name`. */
  repos?: Record<string, FakeGiteaRepo>;
}

/** @public */
export interface FakeGitea {
  /** The server's root: `integrations.gitea[].baseUrl`. */
  url: string;
  /** Every request received, in order (`GET /api/v1/user`). */
  requests: string[];
  repos: Map<string, FakeGiteaRepo>;
  close(): Promise<void>;
}

/** Gitea's `created_at` format: RFC 3339, whole seconds (in UTC: `Z`). @public */
export function giteaTime(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * A local stand-in for the Gitea API endpoints the golden-path publishing actions call,
 * with the status codes and messages of Gitea 1.26 (checked against a real one by
 * tests/templates/src/giteaPublish.test.ts): token scopes checked before the request
 * body, as Gitea does.
 *
 * @public
 */
export async function startFakeGitea(
  options: FakeGiteaOptions = {},
): Promise<FakeGitea> {
  const tokens = options.tokens ?? {};
  const orgs = options.orgs ?? {};
  const repos = new Map(Object.entries(options.repos ?? {}));
  const requests: string[] = [];
  let url = '';

  const notFound: JsonAnswer = {
    status: 404,
    json: { errors: null, message: 'not found' },
  };

  function handle(req: http.IncomingMessage, body: any): JsonAnswer {
    const { pathname } = new URL(req.url!, url);
    const method = req.method!;
    requests.push(`${method} ${pathname}`);
    if (!pathname.startsWith('/api/v1/')) {
      return notFound;
    }
    if (method === 'GET' && pathname === '/api/v1/version') {
      return { status: 200, json: { version: '1.26.0' } };
    }
    const [scheme, encoded] = (req.headers.authorization ?? '').split(' ');
    const password =
      scheme?.toLowerCase() === 'basic'
        ? Buffer.from(encoded ?? '', 'base64')
            .toString()
            .split(':')[1]
        : undefined;
    const token = password ? tokens[password] : undefined;
    if (!token) {
      return {
        status: 401,
        json: { message: 'invalid username, password or token' },
      };
    }
    // Gitea checks the token's scopes by category and method before anything else.
    const requireScopes = (...categories: string[]): JsonAnswer | undefined => {
      const level = method === 'GET' ? 'read' : 'write';
      const required = categories.map(c => `${level}:${c}`);
      const has = (scope: string) =>
        token.scopes.includes('all') ||
        token.scopes.includes(scope) ||
        token.scopes.includes(scope.replace(/^read:/, 'write:'));
      return required.every(has)
        ? undefined
        : {
            status: 403,
            json: {
              message: `token does not have at least one of required scope(s), required=[${required.join(
                ' ',
              )}], token scope=${token.scopes.join(',')}`,
            },
          };
    };

    if (method === 'GET' && pathname === '/api/v1/user') {
      return (
        requireScopes('user') ?? {
          status: 200,
          json: { login: token.login, is_admin: token.isAdmin === true },
        }
      );
    }
    let m = /^\/api\/v1\/users\/([^/]+)\/orgs\/([^/]+)\/permissions$/.exec(
      pathname,
    );
    if (method === 'GET' && m) {
      const role = orgs[m[2]]?.[m[1]];
      return (
        requireScopes('user', 'organization') ??
        (orgs[m[2]]
          ? {
              status: 200,
              json: {
                is_owner: role === 'owner',
                can_create_repository: role === 'owner' || role === 'creator',
              },
            }
          : notFound)
      );
    }
    m = /^\/api\/v1\/orgs\/([^/]+)$/.exec(pathname);
    if (method === 'GET' && m) {
      return (
        requireScopes('organization') ??
        (orgs[m[1]]
          ? { status: 200, json: { username: m[1], visibility: 'public' } }
          : notFound)
      );
    }
    m = /^\/api\/v1\/org\/([^/]+)\/repos$/.exec(pathname);
    if (method === 'POST' && m) {
      return (
        requireScopes('organization', 'repository') ??
        (body?.name
          ? { status: 500, json: { message: 'the fake creates nothing' } }
          : {
              status: 422,
              json: { message: '[Name]: Required' },
            })
      );
    }
    m = /^\/api\/v1\/repos\/([^/]+)\/([^/]+)$/.exec(pathname);
    if (m) {
      const full = `${m[1]}/${m[2]}`;
      const denied = requireScopes('repository');
      if (denied) return denied;
      const repo = repos.get(full);
      if (!repo) return notFound;
      if (method === 'GET') {
        return { status: 200, json: { full_name: full, ...repo } };
      }
      if (method === 'DELETE') {
        if (!token.isAdmin && orgs[m[1]]?.[token.login] !== 'owner') {
          return {
            status: 403,
            json: { message: 'user should be the owner of the repo' },
          };
        }
        repos.delete(full);
        return { status: 204 };
      }
    }
    return notFound;
  }

  const server = await startJsonServer(handle);
  url = server.url;

  return { url, requests, repos, close: server.close };
}
