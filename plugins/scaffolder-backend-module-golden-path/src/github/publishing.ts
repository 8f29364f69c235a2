import { InputError, ServiceUnavailableError } from '@backstage/errors';
import {
  GithubCredentialsProvider,
  GithubIntegrationConfig,
  ScmIntegrationRegistry,
} from '@backstage/integration';
import type { LoggerService } from '@backstage/backend-plugin-api';
import { Octokit } from 'octokit';
import { ownerAndRepo } from '../publishing/provider';

/** Appended to every preflight failure: the user's first question is "what is left behind?". */
export const NOTHING_CREATED =
  'Nothing was created on GitHub: this check runs before the repository is created.';

/** Where `publish:github` will create the repository, resolved from the same `repoUrl`. */
export interface PublishTarget {
  host: string;
  owner: string;
  repo: string;
  config: GithubIntegrationConfig;
  /** The repository's page, for messages. */
  htmlUrl: string;
}

/**
 * Where the portal's credentials for `host` come from, in the words of its config.
 * app-config.yaml reads `GITHUB_TOKEN` into `integrations.github[].token` for github.com.
 */
export function tokenConfigHint(host: string): string {
  return host === 'github.com'
    ? "set the portal's GITHUB_TOKEN environment variable (app-config.yaml reads it into integrations.github[].token for host github.com)"
    : `set integrations.github[].token in the entry with host: ${host} of the portal's app-config`;
}

/** What each kind of credential needs for `publish:github` (create, then push). */
export const REQUIRED_RIGHTS =
  'A classic token needs the scopes repo and workflow (public_repo instead of repo for public repositories; delete_repo lets a failed run remove the empty repository). ' +
  'A fine-grained token needs the resource owner set to the repository owner, access to All repositories, and Administration, Contents and Workflows: Read and write. ' +
  'A GitHub App needs the same three permissions, installed on All repositories of the owner.';

/**
 * Parses `repoUrl` exactly as `publish:github` does and finds the GitHub integration for
 * its host; fails with what to configure when there is none.
 */
export function resolvePublishTarget(
  repoUrl: string,
  integrations: ScmIntegrationRegistry,
): PublishTarget {
  let host: string;
  try {
    host = new URL(`https://${repoUrl}`).host;
  } catch {
    throw new InputError(
      `repoUrl must look like github.com?owner=<owner>&repo=<name> (what the Repository location field produces); got "${repoUrl}". ${NOTHING_CREATED}`,
    );
  }
  const integration = integrations.github.byHost(host);
  if (!integration) {
    throw new InputError(
      `The portal has no GitHub integration for ${host}, so it cannot publish there. ` +
        `Add an entry to integrations.github in app-config.yaml with host: ${host}, its apiBaseUrl and a token ` +
        `(or pick a host the portal knows in the Repository location field). ${NOTHING_CREATED}`,
    );
  }
  if (!integration.config.apiBaseUrl) {
    throw new InputError(
      `The GitHub integration for ${host} has no apiBaseUrl; set integrations.github[].apiBaseUrl ` +
        `(for GitHub Enterprise Server: https://${host}/api/v3). ${NOTHING_CREATED}`,
    );
  }
  const { owner, repo } = ownerAndRepo(repoUrl, integrations);
  if (!owner || !repo) {
    throw new InputError(
      `repoUrl must name an owner and a repository, like ${host}?owner=<owner>&repo=<name> (what the Repository location field produces); got "${repoUrl}". ${NOTHING_CREATED}`,
    );
  }
  return {
    host,
    owner,
    repo,
    config: integration.config,
    htmlUrl: `https://${host}/${owner}/${repo}`,
  };
}

export interface PublishingCredentials {
  token?: string;
  /** `app`: a GitHub App installation token; `token`: a personal or user token. */
  type: 'app' | 'token';
  /** Where the token came from, for messages. */
  source: string;
}

/**
 * The credentials `publish:github` will use: the template's `token` input when given,
 * otherwise what the integration's credentials provider returns for this repository URL
 * (the same URL `publish:github` asks for, so a GitHub App installed on selected
 * repositories fails here exactly as it would there).
 */
export async function getPublishingCredentials(options: {
  target: PublishTarget;
  credentialsProvider: GithubCredentialsProvider;
  token?: string;
}): Promise<PublishingCredentials> {
  const { target, credentialsProvider, token } = options;
  if (token) {
    return { token, type: 'token', source: "the template's token input" };
  }
  const credentials = await credentialsProvider.getCredentials({
    url: `https://${target.host}/${encodeURIComponent(
      target.owner,
    )}/${encodeURIComponent(target.repo)}`,
  });
  return {
    token: credentials.token,
    type: credentials.type,
    source:
      credentials.type === 'app'
        ? `the GitHub App installation on ${target.owner}`
        : `the token configured for ${target.host} (integrations.github[].token)`,
  };
}

export function createGithubClient(options: {
  target: PublishTarget;
  token: string;
  logger: LoggerService;
  /** Retries on 5xx and network errors; 0 for read-only checks that fail fast and harmlessly. */
  retries?: number;
}): Octokit {
  return new Octokit({
    auth: options.token,
    baseUrl: options.target.config.apiBaseUrl,
    log: options.logger,
    request: {
      timeout: 30_000,
      ...(options.retries !== undefined && { retries: options.retries }),
    },
  });
}

export interface GithubResponse {
  status: number;
  data: any;
  headers: Record<string, string | number | undefined>;
}

/**
 * One GitHub API call that returns error statuses instead of throwing them, so each
 * check can say what a 401, 403 or 404 means for the user. Only "could not reach GitHub"
 * is thrown.
 */
export async function githubRequest(
  client: Octokit,
  target: PublishTarget,
  route: string,
  params: Record<string, unknown> = {},
): Promise<GithubResponse> {
  try {
    const res = await client.request(route, params);
    return { status: res.status, data: res.data, headers: res.headers };
  } catch (e) {
    const error = e as {
      status?: number;
      message?: string;
      response?: { data: any; headers: GithubResponse['headers'] };
    };
    if (typeof error.status === 'number' && error.response) {
      return {
        status: error.status,
        data: error.response.data,
        headers: error.response.headers,
      };
    }
    throw new ServiceUnavailableError(
      `Could not reach GitHub at ${target.config.apiBaseUrl} for ${route} (${error.message}). ` +
        `Check the portal's network access or proxy settings (HTTPS_PROXY) and try again.`,
    );
  }
}

/** GitHub's own `message` from an error response, for quoting in our messages. */
export function githubMessage(res: GithubResponse): string {
  const message =
    res.data && typeof res.data === 'object' ? res.data.message : undefined;
  return `${res.status}${message ? ` ${message}` : ''}`;
}
