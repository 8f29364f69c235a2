import fs from 'node:fs';
import path from 'node:path';
import {
  createMockDirectory,
  mockCredentials,
  mockServices,
} from '@backstage/backend-test-utils';
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { actionContext } from '../testUtils/actionContext';
import { writeAccessMocks } from '../testUtils/writeAccess';
import {
  BuildLocalImages,
  localImagesBuilder,
  LocalImagesSettings,
} from '../localImages/localImages';
import { createLocalImagesAction } from './localImages';

const USER = 'user:default/alice';
const KUBECONFIG = '/tmp/golden-path-platform/kubeconfig';

describe('golden-path:local:build-images', () => {
  const workspace = createMockDirectory();
  let build: jest.MockedFunction<BuildLocalImages>;
  let access: ReturnType<typeof writeAccessMocks>;
  let settings: LocalImagesSettings;

  beforeEach(() => {
    workspace.setContent({ 'overlays/local/kustomization.yaml': 'x' });
    build = jest.fn(async ({ onLine }) => {
      onLine('[platform] localhost/hello-web:dev: building Dockerfile');
      return { images: ['localhost/hello-web:dev'] };
    });
    access = writeAccessMocks();
    settings = {
      cluster: { kubeconfig: KUBECONFIG },
      script: '/repo/platform/local-repo.sh',
    };
  });

  function run(
    input: { path?: string } = {},
    options: { isDryRun?: boolean; credentials?: BackstageCredentials } = {},
  ) {
    const credentials = options.credentials ?? mockCredentials.user(USER);
    const context = actionContext(
      { path: '.', ...input },
      {
        workspacePath: workspace.path,
        isDryRun: options.isDryRun,
        getInitiatorCredentials: async () => credentials,
      },
    );
    const action = createLocalImagesAction({
      build,
      auth: mockServices.auth(),
      permissions: access.permissions,
      settings,
    });
    return { ...context, promise: action.handler(context.ctx) };
  }

  it("builds the workspace's images for the local cluster and streams the script's lines", async () => {
    const { promise, outputs, messages } = run();
    await expect(promise).resolves.toBeUndefined();
    expect(build).toHaveBeenCalledWith(
      expect.objectContaining({
        repoDir: workspace.path,
        kubeconfig: KUBECONFIG,
      }),
    );
    expect(outputs()).toEqual({ images: ['localhost/hello-web:dev'] });
    expect(messages('info')).toEqual([
      "Building the images of ./overlays/local on the portal's machine for the local cluster (/repo/platform/local-repo.sh images)",
      '[platform] localhost/hello-web:dev: building Dockerfile',
      'On every node of the local cluster: localhost/hello-web:dev',
    ]);
  });

  it('refuses when the portal has no local cluster, saying what sets it', async () => {
    settings.cluster = {
      missing: 'goldenPath.localImages.kubeconfig is not set: ...',
    };
    const { promise } = run();
    await expect(promise).rejects.toThrow(
      "golden-path:local:build-images builds images for the portal's local cluster only. goldenPath.localImages.kubeconfig is not set: ... Nothing was built.",
    );
    await expect(promise).rejects.toMatchObject({ name: 'InputError' });
    expect(build).not.toHaveBeenCalled();
  });

  it('in a dry run without a local cluster, warns that a real run would stop there', async () => {
    settings.cluster = {
      missing: 'goldenPath.localImages.kubeconfig is not set: ...',
    };
    const { promise, messages } = run({}, { isDryRun: true });
    await expect(promise).resolves.toBeUndefined();
    expect(messages('warn')).toEqual([
      "Dry run: golden-path:local:build-images builds images for the portal's local cluster only, and a real run would stop here: goldenPath.localImages.kubeconfig is not set: ...",
    ]);
    expect(build).not.toHaveBeenCalled();
  });

  it('refuses a path outside the workspace', async () => {
    const { promise } = run({ path: '../../etc' });
    await expect(promise).rejects.toThrow(
      'path "../../etc" is outside the workspace',
    );
    expect(build).not.toHaveBeenCalled();
  });

  it('builds nothing for a user the policy does not allow', async () => {
    access.policy.decision = AuthorizeResult.DENY;
    const { promise } = run();
    await expect(promise).rejects.toThrow(
      `${USER} may not load images into the local cluster's nodes: the portal's permission policy denies golden-path.kubernetes.apply. Nothing was built`,
    );
    expect(build).not.toHaveBeenCalled();
  });

  it('builds nothing in a dry run, and says what it would do', async () => {
    const { promise, messages, outputs } = run({}, { isDryRun: true });
    await expect(promise).resolves.toBeUndefined();
    expect(build).not.toHaveBeenCalled();
    expect(messages('info')).toEqual([
      `Dry run: would build the localhost/ images of ./overlays/local and import them into the local cluster's nodes as ${USER} (/repo/platform/local-repo.sh images). Nothing was built.`,
    ]);
    expect(outputs()).toEqual({ images: [] });
  });
});

describe('localImagesBuilder', () => {
  const dir = createMockDirectory();

  /** A stand-in for platform/local-repo.sh with the given body. */
  function script(body: string): string {
    dir.setContent({ 'local-repo.sh': `set -eu\n${body}\n` });
    return path.join(dir.path, 'local-repo.sh');
  }

  it('runs "<script> images <repo>" with KUBECONFIG, streams stderr lines and returns the references it prints', async () => {
    const lines: string[] = [];
    const result = await localImagesBuilder(
      script(
        'echo "[platform] $1 $2 with $KUBECONFIG" >&2\nprintf "building\\n\\n" >&2\necho localhost/a:dev\necho localhost/b:dev',
      ),
    )({
      repoDir: '/ws/repo',
      kubeconfig: '/k/config',
      onLine: l => lines.push(l),
    });
    expect(result).toEqual({ images: ['localhost/a:dev', 'localhost/b:dev'] });
    expect(lines).toEqual([
      '[platform] images /ws/repo with /k/config',
      'building',
    ]);
  });

  it('fails with the exit code and the last lines the script logged', async () => {
    await expect(
      localImagesBuilder(
        script(
          'echo "[platform] ERROR: the local cluster has no real nodes" >&2\nexit 3',
        ),
      )({ repoDir: '/r', kubeconfig: '/k', onLine: () => {} }),
    ).rejects.toThrow(
      /local-repo\.sh images failed \(exit 3\): \[platform\] ERROR: the local cluster has no real nodes$/,
    );
  });

  it('stops the script and what it started when the task is cancelled', async () => {
    const marker = path.join(dir.path, 'still-running');
    const controller = new AbortController();
    const promise = localImagesBuilder(
      script(`echo started >&2\n(sleep 2; touch '${marker}') &\nwait`),
    )({
      repoDir: '/r',
      kubeconfig: '/k',
      onLine: () => controller.abort(),
      signal: controller.signal,
    });
    await expect(promise).rejects.toThrow(
      'The task was cancelled while the images were built',
    );
    await new Promise(resolve => setTimeout(resolve, 2500));
    expect(fs.existsSync(marker)).toBe(false);
  });
});
