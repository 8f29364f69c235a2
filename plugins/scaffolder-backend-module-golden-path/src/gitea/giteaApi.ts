import { InputError, ServiceUnavailableError } from '@backstage/errors';
import {
  getGiteaRequestOptions,
  GiteaIntegrationConfig,
  ScmIntegrationRegistry,
} from '@backstage/integration';
import { ownerAndRepo } from '../publishing/provider';

/** Appended to every preflight failure for Gitea. */
export const NOTHING_CREATED_ON_GITEA =
  'Nothing was created on Gitea: this check runs before the repository is created.';

/** Where `publish:gitea` will create the repository, resolved from the same `repoUrl`. */
export interface GiteaTarget {
  host: string;
  owner: string;
  repo: string;
  config: GiteaIntegrationConfig;
  /** The server's web and API root, without a trailing slash (`integrations.gitea[].baseUrl`). */
  baseUrl: string;
  /** The repository's page, for messages and links. */
  htmlUrl: string;
}

/** Where the portal's Gitea settings live, in the words of its config. */
export function giteaConfigHint(host: string): string {
  return (
    `set them in the entry with host: ${host} under integrations.gitea in app-config.yaml (baseUrl, username, and an access token as password); ` +
    '`make start` fills them for its local Gitea from `platform/gitea/gitea.sh env` (GITEA_URL, GITEA_USERNAME, GITEA_TOKEN)'
  );
}

/**
 * The token scopes `publish:gitea` needs: create the repository in the organisation
 * (write:organization), push to it and let a failed run delete it (write:repository), and
 * say whose it is (read:user). platform/gitea/gitea.sh creates the portal's token with these.
 */
export const GITEA_TOKEN_SCOPES = [
  'write:organization',
  'write:repository',
  'read:user',
];

/**
 * Parses `repoUrl` as `publish:gitea` does and finds the Gitea integration for its host;
 * fails with what to configure when there is none.
 */
export function resolveGiteaTarget(
  repoUrl: string,
  integrations: ScmIntegrationRegistry,
): GiteaTarget {
  const host = new URL(`https://${repoUrl}`).host;
  const integration = integrations.gitea.byHost(host);
  if (!integration) {
    throw new InputError(
      `The portal has no Gitea integration for ${host}, so publish:gitea cannot publish there: add one under integrations.gitea in app-config.yaml with host: ${host}, its baseUrl, a username and a token as password. ${NOTHING_CREATED_ON_GITEA}`,
    );
  }
  const { owner, repo } = ownerAndRepo(repoUrl, integrations);
  if (!owner || !repo) {
    throw new InputError(
      `repoUrl must name an organisation and a repository, like ${host}?owner=<organisation>&repo=<name> (what the Repository location field produces); got "${repoUrl}". ${NOTHING_CREATED_ON_GITEA}`,
    );
  }
  // readGiteaConfig trims the trailing slash and defaults to https://<host>.
  const baseUrl = integration.config.baseUrl ?? `https://${host}`;
  return {
    host,
    owner,
    repo,
    config: integration.config,
    baseUrl,
    htmlUrl: `${baseUrl}/${owner}/${repo}`,
  };
}

export interface GiteaResponse {
  status: number;
  data: any;
  /** The server's clock (`Date` header), when it sent one. */
  date?: Date;
}

/** Why a request did not get an answer, in words: refused, timed out, unknown host. */
export function networkReason(error: unknown): string {
  const e = error as { name?: string; message?: string; cause?: any };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') {
    return 'no answer in time (timeout)';
  }
  const code = e.cause?.code ?? e.cause?.errors?.[0]?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused: nothing listens there';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve';
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return 'connection timed out';
    default:
      return `${e.cause?.message ?? e.message ?? String(error)}${
        code ? ` (${code})` : ''
      }`;
  }
}

/**
 * One Gitea API call (`/api/v1` + `path`) with the integration's credentials. Returns
 * error statuses instead of throwing them, so each check can say what a 401, 403 or 404
 * means; only "could not reach Gitea" is thrown, naming the URL and how to start it.
 */
export async function giteaRequest(
  target: GiteaTarget,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  options: {
    body?: unknown;
    timeoutMs?: number;
    /** Without the integration's credentials: a wrong token would turn any answer into a 401. */
    anonymous?: boolean;
  } = {},
): Promise<GiteaResponse> {
  const url = `${target.baseUrl}/api/v1${path}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: {
        ...(!options.anonymous &&
          getGiteaRequestOptions(target.config).headers),
        Accept: 'application/json',
        ...(options.body !== undefined && {
          'Content-Type': 'application/json',
        }),
      },
      body:
        options.body === undefined ? undefined : JSON.stringify(options.body),
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  } catch (e) {
    throw new ServiceUnavailableError(
      `Could not reach Gitea at ${
        target.baseUrl
      } (${method} ${url}: ${networkReason(
        e,
      )}). Is the Git server running? For the local one run \`make start\` (or \`platform/gitea/gitea.sh start\`); ` +
        `otherwise check integrations.gitea[].baseUrl for ${target.host} in app-config.yaml.`,
    );
  }
  const text = await res.text();
  let data: any = text;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (a proxy's error page, another server on the port): keep the text.
  }
  const dateHeader = res.headers.get('date');
  const date = dateHeader ? new Date(dateHeader) : undefined;
  return {
    status: res.status,
    data,
    date: date && !Number.isNaN(date.getTime()) ? date : undefined,
  };
}

/** Gitea's own `message` from an error response, for quoting in our messages. */
export function giteaMessage(res: GiteaResponse): string {
  const message =
    res.data && typeof res.data === 'object'
      ? res.data.message
      : String(res.data ?? '')
          .trim()
          .slice(0, 200);
  return `${res.status}${message ? ` ${message}` : ''}`;
}
