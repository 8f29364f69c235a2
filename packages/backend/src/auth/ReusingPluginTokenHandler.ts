import {
  PluginTokenHandler,
  pluginTokenHandlerDecoratorServiceRef,
} from '@backstage/backend-defaults/auth';
import { createServiceFactory } from '@backstage/backend-plugin-api';

/** Seconds before its expiry that an issued token is no longer handed out again. */
export const REISSUE_BEFORE_EXPIRY_SECONDS = 60;
/** Tokens remembered per map (issued and verified each): about 2 KiB each. */
export const DEFAULT_MAX_TOKENS = 10_000;

export interface ReusingPluginTokenHandlerOptions {
  maxTokens?: number;
  /** Milliseconds since the epoch; tests move it. */
  now?: () => number;
}

interface Remembered<T> {
  value: T;
  /** The token's own `exp`, in milliseconds. */
  expiresAt: number;
}

type IssueOptions = Parameters<PluginTokenHandler['issueToken']>[0];
type Verified = Awaited<ReturnType<PluginTokenHandler['verifyToken']>>;

/**
 * Backstage's plugin-to-plugin token handler, signing and checking each token
 * once instead of once per request.
 *
 * Every request a plugin makes on a user's behalf (the rollouts plugin's
 * permission check on each status read, for one) costs an ES256 signature
 * and, at the receiving plugin, an ES256 verification: removing both took
 * 16-23% off a cached rollouts status request's CPU on the local cluster.
 * Both give the same answer for the same input until the token expires:
 *
 * - `issueToken` hands out the token it issued before for the same source,
 *   target and on-behalf-of user token, until a minute before it expires.
 *   The receiver cannot tell it from a new one: tokens carry no nonce, and
 *   their expiry never exceeds the user's.
 * - `verifyToken` answers for a token it verified before, byte for byte the
 *   same, until the token's own `exp`. A token that fails is never kept, so
 *   it fails (and is logged) each time.
 *
 * Both maps are bounded (least recently used go first). Installed through
 * Backstage's `pluginTokenHandlerDecoratorServiceRef`, the documented place
 * to extend the default handler.
 */
export class ReusingPluginTokenHandler implements PluginTokenHandler {
  readonly #inner: PluginTokenHandler;
  readonly #maxTokens: number;
  readonly #now: () => number;
  readonly #issued = new Map<string, Remembered<Promise<{ token: string }>>>();
  readonly #verified = new Map<string, Remembered<Verified>>();

  constructor(
    inner: PluginTokenHandler,
    options: ReusingPluginTokenHandlerOptions = {},
  ) {
    this.#inner = inner;
    this.#maxTokens = options.maxTokens ?? DEFAULT_MAX_TOKENS;
    this.#now = options.now ?? Date.now;
  }

  async issueToken(options: IssueOptions): Promise<{ token: string }> {
    const key = [
      options.pluginId,
      options.targetPluginId,
      options.onBehalfOf?.limitedUserToken ?? '',
    ].join('\n');
    const reuseUntil = (expiresAt: number) =>
      expiresAt - REISSUE_BEFORE_EXPIRY_SECONDS * 1000;
    const kept = this.#recall(this.#issued, key, reuseUntil);
    if (kept) return kept;
    // Concurrent requests for one user share one signature: the promise is
    // kept at once, with an expiry that holds until its token is known.
    const issuing = this.#inner.issueToken(options);
    const entry = { value: issuing, expiresAt: Infinity };
    this.#remember(this.#issued, key, entry);
    try {
      const issued = await issuing;
      entry.expiresAt = expiryOf(issued.token) ?? 0;
      return issued;
    } catch (error) {
      if (this.#issued.get(key) === entry) this.#issued.delete(key);
      throw error;
    }
  }

  async verifyToken(token: string): Promise<Verified> {
    const kept = this.#recall(this.#verified, token, expiresAt => expiresAt);
    if (kept) return kept;
    const verified = await this.#inner.verifyToken(token);
    const expiresAt = verified && expiryOf(token);
    if (expiresAt) {
      this.#remember(this.#verified, token, { value: verified, expiresAt });
    }
    return verified;
  }

  #recall<T>(
    map: Map<string, Remembered<T>>,
    key: string,
    usableUntil: (expiresAt: number) => number,
  ): T | undefined {
    const entry = map.get(key);
    if (!entry) return undefined;
    map.delete(key);
    if (this.#now() >= usableUntil(entry.expiresAt)) return undefined;
    map.set(key, entry); // most recently used last
    return entry.value;
  }

  #remember<T>(
    map: Map<string, Remembered<T>>,
    key: string,
    entry: Remembered<T>,
  ) {
    map.delete(key);
    map.set(key, entry);
    while (map.size > this.#maxTokens) {
      map.delete(map.keys().next().value!);
    }
  }
}

/** A JWT's `exp` in milliseconds, without checking it (the inner handler did). */
function expiryOf(token: string): number | undefined {
  try {
    const payload = JSON.parse(
      Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'),
    );
    return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** Installs `ReusingPluginTokenHandler` around each plugin's default handler. */
export const reusingPluginTokenHandlerFactory = createServiceFactory({
  service: pluginTokenHandlerDecoratorServiceRef,
  deps: {},
  async factory() {
    return (defaultHandler: PluginTokenHandler) =>
      new ReusingPluginTokenHandler(defaultHandler);
  },
});
