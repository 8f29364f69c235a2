import {
  authServiceFactory,
  PluginTokenHandler,
} from '@backstage/backend-defaults/auth';
import { httpAuthServiceFactory } from '@backstage/backend-defaults/httpAuth';
import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { startTestBackend } from '@backstage/backend-test-utils';
import {
  REISSUE_BEFORE_EXPIRY_SECONDS,
  reusingPluginTokenHandlerFactory,
  ReusingPluginTokenHandler,
} from './ReusingPluginTokenHandler';

const NOW = Date.UTC(2026, 10, 30, 12);
const HOUR = 3600_000;

/** An unsigned JWT with the claims given (the fake handler "signs" nothing). */
function jwt(claims: Record<string, unknown>, signature = 'sig') {
  const part = (o: object) =>
    Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ typ: 'vnd.backstage.plugin' })}.${part(
    claims,
  )}.${signature}`;
}

/** Counts its calls; issues tokens valid for an hour, verifies "sig" signatures. */
class CountingHandler implements PluginTokenHandler {
  issued = 0;
  verified = 0;
  failNextIssue = false;
  constructor(private readonly clock: { now: number }) {}

  async issueToken(options: Parameters<PluginTokenHandler['issueToken']>[0]) {
    this.issued += 1;
    if (this.failNextIssue) {
      this.failNextIssue = false;
      throw new Error('key store unavailable');
    }
    const exp = Math.floor((this.clock.now + HOUR) / 1000);
    return {
      token: jwt({
        sub: options.pluginId,
        aud: options.targetPluginId,
        obo: options.onBehalfOf?.limitedUserToken,
        exp,
        n: this.issued,
      }),
    };
  }

  async verifyToken(token: string) {
    this.verified += 1;
    if (!token.startsWith('ey')) return undefined; // not a plugin token
    const [, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    if (signature !== 'sig')
      throw new Error('Failed plugin token verification');
    if (claims.exp * 1000 <= this.clock.now) throw new Error('token expired');
    return { subject: `plugin:${claims.sub}`, limitedUserToken: claims.obo };
  }
}

function setup(maxTokens?: number) {
  const clock = { now: NOW };
  const inner = new CountingHandler(clock);
  const handler = new ReusingPluginTokenHandler(inner, {
    maxTokens,
    now: () => clock.now,
  });
  return { clock, inner, handler };
}

const forAlice = {
  pluginId: 'rollouts',
  targetPluginId: 'permission',
  onBehalfOf: { limitedUserToken: 'alice', expiresAt: new Date(NOW + HOUR) },
};

describe('ReusingPluginTokenHandler', () => {
  describe('issueToken', () => {
    it('signs once per source, target and user, and hands that token out again', async () => {
      const { inner, handler } = setup();
      const first = await handler.issueToken(forAlice);
      expect(await handler.issueToken(forAlice)).toEqual(first);
      expect(inner.issued).toBe(1);

      const bob = {
        ...forAlice,
        onBehalfOf: { ...forAlice.onBehalfOf, limitedUserToken: 'bob' },
      };
      const forBob = await handler.issueToken(bob);
      const toCatalog = await handler.issueToken({
        ...forAlice,
        targetPluginId: 'catalog',
      });
      const asService = await handler.issueToken({
        ...forAlice,
        onBehalfOf: undefined,
      });
      expect(
        new Set([first.token, forBob.token, toCatalog.token, asService.token])
          .size,
      ).toBe(4);
      expect(inner.issued).toBe(4);
    });

    it('signs once for concurrent requests', async () => {
      const { inner, handler } = setup();
      const tokens = await Promise.all(
        Array.from({ length: 20 }, () => handler.issueToken(forAlice)),
      );
      expect(new Set(tokens.map(t => t.token)).size).toBe(1);
      expect(inner.issued).toBe(1);
    });

    it('signs a new token when the last one is within a minute of expiring', async () => {
      const { clock, inner, handler } = setup();
      const first = await handler.issueToken(forAlice);
      clock.now = NOW + HOUR - REISSUE_BEFORE_EXPIRY_SECONDS * 1000 - 1;
      expect(await handler.issueToken(forAlice)).toEqual(first);
      clock.now += 1;
      expect(await handler.issueToken(forAlice)).not.toEqual(first);
      expect(inner.issued).toBe(2);
    });

    it('keeps no failure: the next request signs again', async () => {
      const { inner, handler } = setup();
      inner.failNextIssue = true;
      await expect(handler.issueToken(forAlice)).rejects.toThrow(
        'key store unavailable',
      );
      await expect(handler.issueToken(forAlice)).resolves.toHaveProperty(
        'token',
      );
      expect(inner.issued).toBe(2);
    });
  });

  describe('verifyToken', () => {
    it('verifies a token once and answers the same until it expires', async () => {
      const { clock, inner, handler } = setup();
      const { token } = await inner.issueToken(forAlice);
      const expected = {
        subject: 'plugin:rollouts',
        limitedUserToken: 'alice',
      };
      expect(await handler.verifyToken(token)).toEqual(expected);
      expect(await handler.verifyToken(token)).toEqual(expected);
      expect(inner.verified).toBe(1);

      clock.now = NOW + HOUR; // its exp: verified again, and refused
      await expect(handler.verifyToken(token)).rejects.toThrow('token expired');
      expect(inner.verified).toBe(2);
    });

    it('refuses a token each time it is sent, even one differing only in its signature from a verified one', async () => {
      const { inner, handler } = setup();
      const { token } = await inner.issueToken(forAlice);
      await handler.verifyToken(token);
      const forged = `${token.slice(0, token.lastIndexOf('.'))}.forged`;
      await expect(handler.verifyToken(forged)).rejects.toThrow('verification');
      await expect(handler.verifyToken(forged)).rejects.toThrow('verification');
      expect(inner.verified).toBe(3);
    });

    it('keeps nothing for a token that is not a plugin token', async () => {
      const { inner, handler } = setup();
      expect(await handler.verifyToken('user-token')).toBeUndefined();
      expect(await handler.verifyToken('user-token')).toBeUndefined();
      expect(inner.verified).toBe(2);
    });

    it('keeps at most maxTokens, dropping the least recently used', async () => {
      const { inner, handler } = setup(2);
      const tokens = await Promise.all(
        ['a', 'b', 'c'].map(user =>
          inner.issueToken({
            ...forAlice,
            onBehalfOf: { ...forAlice.onBehalfOf, limitedUserToken: user },
          }),
        ),
      );
      const [a, b, c] = tokens.map(t => t.token);
      await handler.verifyToken(a);
      await handler.verifyToken(b);
      await handler.verifyToken(a); // a is now the most recent
      await handler.verifyToken(c); // b goes
      expect(inner.verified).toBe(3);
      await handler.verifyToken(a);
      expect(inner.verified).toBe(3);
      await handler.verifyToken(b);
      expect(inner.verified).toBe(4);
    });
  });
});

describe("reusingPluginTokenHandlerFactory, around Backstage's own handler", () => {
  // Real ES256 tokens: the default handler's keys (in the test database) and its
  // JWKS endpoint, served by the test backend.
  function plugins() {
    const target = createBackendPlugin({
      pluginId: 'target',
      register(env) {
        env.registerInit({
          deps: {
            httpRouter: coreServices.httpRouter,
            httpAuth: coreServices.httpAuth,
          },
          async init({ httpRouter, httpAuth }) {
            httpRouter.use(async (req, res, next) => {
              try {
                const credentials = await httpAuth.credentials(req, {
                  allow: ['service'],
                });
                res.json({ subject: credentials.principal.subject });
              } catch (error) {
                next(error);
              }
            });
          },
        });
      },
    });
    const caller = createBackendPlugin({
      pluginId: 'caller',
      register(env) {
        env.registerInit({
          deps: {
            httpRouter: coreServices.httpRouter,
            auth: coreServices.auth,
            discovery: coreServices.discovery,
          },
          async init({ httpRouter, auth, discovery }) {
            httpRouter.use(async (_req, res) => {
              const { token } = await auth.getPluginRequestToken({
                onBehalfOf: await auth.getOwnServiceCredentials(),
                targetPluginId: 'target',
              });
              const url = `${await discovery.getBaseUrl('target')}/whoami`;
              const answer = await fetch(url, {
                headers: { authorization: `Bearer ${token}` },
              });
              res.json({
                token,
                status: answer.status,
                body: await answer.json(),
              });
            });
            httpRouter.addAuthPolicy({
              path: '/call',
              allow: 'unauthenticated',
            });
          },
        });
      },
    });
    return [target, caller];
  }

  /** Asks the caller plugin to call the target; answers what it saw. */
  const callerOf = (port: number) => async () => {
    const answer = await fetch(`http://localhost:${port}/api/caller/call`);
    expect(answer.status).toBe(200);
    return (await answer.json()) as {
      token: string;
      status: number;
      body: unknown;
    };
  };

  it('reuses a signed token, and the target still verifies each token it is sent', async () => {
    const { server } = await startTestBackend({
      features: [
        authServiceFactory,
        httpAuthServiceFactory,
        reusingPluginTokenHandlerFactory,
        ...plugins(),
      ],
    });
    const call = callerOf(server.port());
    const first = await call();
    const second = await call();
    expect(first).toMatchObject({
      status: 200,
      body: { subject: 'plugin:caller' },
    });
    expect(second).toEqual(first);

    // A token the target has verified, with its signature changed: refused.
    const [header, payload, signature] = first.token.split('.');
    const flipped = signature.startsWith('A')
      ? `B${signature.slice(1)}`
      : `A${signature.slice(1)}`;
    for (const token of [
      `${header}.${payload}.${flipped}`,
      `${header}.${payload}.`,
    ]) {
      const refused = await fetch(
        `http://localhost:${server.port()}/api/target/whoami`,
        {
          headers: { authorization: `Bearer ${token}` },
        },
      );
      expect(refused.status).toBe(401);
    }
  });

  it('without it, each request signs a new token (what the factory changes)', async () => {
    const { server } = await startTestBackend({
      features: [authServiceFactory, httpAuthServiceFactory, ...plugins()],
    });
    const call = callerOf(server.port());
    const first = await call();
    const second = await call();
    expect(second.status).toBe(200);
    expect(second.token).not.toBe(first.token);
  });
});
