/*
 * golden-path:flux:register against the real Flux controllers (platform/flux/flux.sh) on
 * the local cluster and a real, throw-away Gitea (platform/gitea/gitea.sh in a temporary
 * home): a private repository is pushed, registered with the action under the
 * documented identity (rbac/golden-path-scaffolder.yaml + platform/flux/manifests.yaml),
 * and the action returns once the controllers' own conditions say the commit is
 * applied and healthy; then a pushed change reaches the cluster and the time from push
 * to applied is recorded. A repository Gitea does not have fails with source-controller's
 * own message.
 *
 * Runs only with KUBECONFIG and FLUX_INTEGRATION=1: scripts/test-kube-integration.sh
 * starts Flux on the local cluster and sets both (with KUBE_REAL_NODES, KUBE_TEST_IMAGE).
 * Names start with FLUX_IT_PREFIX (default flux-it).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { mockServices } from '@backstage/backend-test-utils';
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
} from '@kubernetes/client-node';
import yaml from 'yaml';
import { createFluxRegisterAction } from '../actions/fluxRegister';
import { clusterConnector, KubeCluster } from '../kubernetes/clusterClient';
import { SYSTEM_NAMESPACES } from '../kubernetes/settings';
import { FluxSettings } from '../flux/fluxSettings';
import { actionContext } from '../testUtils/actionContext';
import { checkpointStore } from '../testUtils/fakeKubeCluster';
import { fixtureManifests, writeFiles } from '../testUtils/kubeManifests';
import { createScaffolderIdentity } from './scaffolderIdentity';

const execFileAsync = promisify(execFile);
const KUBECONFIG = process.env.KUBECONFIG;
const enabled = Boolean(KUBECONFIG) && process.env.FLUX_INTEGRATION === '1';
const realNodes = Number(process.env.KUBE_REAL_NODES ?? '0');
const REPO_ROOT = path.resolve(__dirname, '../../../..');

if (!enabled) {
  // eslint-disable-next-line no-console
  console.warn(
    'golden-path:flux:register integration tests SKIPPED: they need KUBECONFIG and FLUX_INTEGRATION=1 (scripts/test-kube-integration.sh starts Flux on the local cluster and sets both).',
  );
}
const describeWithFlux = enabled ? describe : describe.skip;

/** A free port outside the kernel's ephemeral range (platform/lib.sh's rule). */
async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const free = await new Promise<boolean>(resolve => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port between 20000 and 32000');
}

describeWithFlux('golden-path:flux:register with real Flux and Gitea', () => {
  const id = `${process.env.FLUX_IT_PREFIX ?? 'flux-it'}-${randomBytes(
    3,
  ).toString('hex')}`;
  const identityNs = `${id}-identity`;
  const appNs = `${id}-app`;
  const secretName = `${id}-gitea`;
  const entityRef = `component:default/${id}`;
  // Made in beforeAll: a skipped suite (no cluster) creates nothing.
  let giteaHome = '';
  let checkout = '';
  let giteaPort = 0;
  let giteaEnv: NodeJS.ProcessEnv = {};
  let gitEnv: NodeJS.ProcessEnv = {};
  let flux: FluxSettings;
  let connect: () => Promise<KubeCluster>;
  const kc = new KubeConfig();
  let core: CoreV1Api;
  let identity: Awaited<ReturnType<typeof createScaffolderIdentity>>;
  let custom: CustomObjectsApi;

  const script = (file: string, args: string[], env: NodeJS.ProcessEnv) =>
    execFileAsync('bash', [path.join(REPO_ROOT, file), ...args], {
      env: { ...process.env, ...env },
      maxBuffer: 16 * 1024 * 1024,
    });
  const git = (...args: string[]) =>
    execFileAsync('git', args, { cwd: checkout, env: gitEnv });

  /** Writes the repository's overlay: the fixture service and a ConfigMap page. */
  async function writeRepository(page: string) {
    const files = fixtureManifests({
      name: 'web',
      namespace: appNs,
      image:
        process.env.KUBE_TEST_IMAGE ?? 'localhost/golden-path/busybox:1.35.0',
      ...(realNodes > 0 && {
        nodeSelector: { 'golden-path.dev/node': 'real' },
      }),
    });
    const kustomization = JSON.parse(files['kustomization.yaml']);
    kustomization.resources.push('configmap.yaml');
    await writeFiles(path.join(checkout, 'overlays/local'), {
      ...files,
      'kustomization.yaml': JSON.stringify(kustomization, null, 2),
      'configmap.yaml': yaml.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'web-page' },
        data: { 'index.html': page },
      }),
    });
  }

  async function commitAndPush(message: string): Promise<string> {
    await git('add', '-A');
    await git('commit', '-q', '-m', message);
    await git('push', '-q', 'origin', 'main');
    return (await git('rev-parse', 'HEAD')).stdout.trim();
  }

  const register = (url: string, name: string, namespace: string) => {
    const { ctx, outputs, messages } = actionContext(
      {
        url,
        branch: 'main',
        path: 'overlays/local',
        namespace,
        entityRef,
        name,
        intervalSeconds: 10,
        timeoutSeconds: 120,
        prune: true,
        waitFor: 'ready' as const,
        waitTimeoutSeconds: 240,
      },
      { checkpoint: checkpointStore().checkpoint },
    );
    const action = createFluxRegisterAction({
      connect,
      auth: mockServices.auth(),
      permissions: mockServices.permissions(),
      auditor: mockServices.auditor.mock(),
      settings: {
        ...flux,
        fieldManager: 'backstage-golden-path',
        protectedNamespaces: SYSTEM_NAMESPACES,
        dryRunNamespace: 'golden-path-dry-run',
      },
      pollIntervalMs: 500,
    });
    return { promise: action.handler(ctx), outputs, messages };
  };

  beforeAll(async () => {
    giteaHome = fs.mkdtempSync(path.join(os.tmpdir(), 'flux-it-gitea-'));
    checkout = fs.mkdtempSync(path.join(os.tmpdir(), 'flux-it-repo-'));
    kc.loadFromFile(KUBECONFIG!);
    core = kc.makeApiClient(CoreV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);

    // A throw-away Gitea with a private repository holding the overlay.
    giteaPort = await freePort();
    giteaEnv = {
      GITEA_HOME: giteaHome,
      GITEA_PORT: String(giteaPort),
      GITEA_ASSETS: '0',
    };
    await script('platform/gitea/gitea.sh', ['start'], giteaEnv);
    const admin = 'golden-path-admin';
    const password = fs
      .readFileSync(path.join(giteaHome, 'admin-password'), 'utf8')
      .trim();
    const giteaUrl = `http://127.0.0.1:${giteaPort}`;
    const created = await fetch(`${giteaUrl}/api/v1/orgs/golden-path/repos`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${admin}:${password}`).toString(
          'base64',
        )}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({ name: id, private: true, default_branch: 'main' }),
    });
    if (created.status !== 201) {
      throw new Error(
        `Gitea did not create the repository: ${
          created.status
        } ${await created.text()}`,
      );
    }
    // The credentials reach git through its environment, never its command line.
    gitEnv = {
      ...process.env,
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraHeader',
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(
        `${admin}:${password}`,
      ).toString('base64')}`,
      GIT_AUTHOR_NAME: 'flux-it',
      GIT_AUTHOR_EMAIL: 'flux-it@golden-path.invalid',
      GIT_COMMITTER_NAME: 'flux-it',
      GIT_COMMITTER_EMAIL: 'flux-it@golden-path.invalid',
    };
    await git('init', '-q', '-b', 'main');
    await git('remote', 'add', 'origin', `${giteaUrl}/golden-path/${id}.git`);
    await writeRepository('<h1>first</h1>');
    await commitAndPush('first');

    // The Secret GitRepositories of this Gitea name: its read-only token.
    await script('platform/flux/flux.sh', ['connect-gitea'], {
      ...giteaEnv,
      FLUX_GITEA_SECRET: secretName,
    });
    flux = {
      namespace: 'flux-system',
      serviceAccountName: 'golden-path-gitops',
      gitCredentials: [{ host: `127.0.0.1:${giteaPort}`, secretName }],
    };

    // The documented identity: the scaffolder's ClusterRole, and its Role in
    // flux-system (platform/flux/manifests.yaml).
    identity = await createScaffolderIdentity({
      kc,
      name: id,
      namespace: identityNs,
      roles: [['flux-system', 'golden-path-scaffolder-flux']],
    });
    connect = clusterConnector({ connection: identity.connection });
  }, 180_000);

  afterAll(async () => {
    if (custom) {
      // Deleting the Kustomization prunes what it applied (the namespace too). Both
      // kinds carry Flux's finalizer: wait until the controllers have let them go,
      // before the test script stops them.
      const fluxObjects = [
        ['kustomize.toolkit.fluxcd.io', 'kustomizations'],
        ['source.toolkit.fluxcd.io', 'gitrepositories'],
      ].flatMap(([group, plural]) =>
        [id, `${id}-missing`].map(name => ({
          group,
          version: 'v1',
          namespace: 'flux-system',
          plural,
          name,
        })),
      );
      for (const object of fluxObjects) {
        await custom
          .deleteNamespacedCustomObject(object)
          .catch(() => undefined);
      }
      for (const object of fluxObjects) {
        for (let i = 0; i < 120; i++) {
          const gone = await custom
            .getNamespacedCustomObject(object)
            .then(() => false)
            .catch(e => e.code === 404);
          if (gone) break;
          await new Promise(resolve => setTimeout(resolve, 500));
        }
      }
      await Promise.allSettled([
        identity?.remove(),
        core.deleteNamespace({ name: appNs }),
        core.deleteNamespacedSecret({
          name: secretName,
          namespace: 'flux-system',
        }),
      ]);
    }
    // Only this suite's own Gitea: without GITEA_HOME, gitea.sh stops the portal's.
    if (giteaEnv.GITEA_HOME) {
      await script('platform/gitea/gitea.sh', ['stop'], giteaEnv).catch(
        () => undefined,
      );
    }
    for (const dir of [giteaHome, checkout].filter(Boolean)) {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("registers the private repository and returns when the controllers' conditions say its commit is applied and healthy; a push then reaches the cluster", async () => {
    const url = `http://127.0.0.1:${giteaPort}/golden-path/${id}.git`;
    const first = (await git('rev-parse', 'HEAD')).stdout.trim();
    const started = Date.now();
    const { promise, outputs, messages } = register(url, id, appNs);
    await promise;
    const registered = (Date.now() - started) / 1000;
    expect(outputs().revision).toBe(`main@sha1:${first}`);
    expect(messages('info')).toContain(
      `Flux: kustomize-controller applied revision main@sha1:${first} and every object is healthy`,
    );

    // What kustomize-controller applied, as the cluster has it: in the forced
    // namespace, marked as the entity's.
    const page = await core.readNamespacedConfigMap({
      name: 'web-page',
      namespace: appNs,
    });
    expect(page.data).toEqual({ 'index.html': '<h1>first</h1>' });
    expect(
      page.metadata?.annotations?.['rollouts.backstage.io/entity-ref'],
    ).toBe(entityRef);
    expect(page.metadata?.labels?.['kustomize.toolkit.fluxcd.io/name']).toBe(
      id,
    );
    const kustomization = (await custom.getNamespacedCustomObject({
      group: 'kustomize.toolkit.fluxcd.io',
      version: 'v1',
      namespace: 'flux-system',
      plural: 'kustomizations',
      name: id,
    })) as any;
    expect(kustomization.status.lastAppliedRevision).toBe(`main@sha1:${first}`);
    expect(
      kustomization.status.conditions.find((c: any) => c.type === 'Ready'),
    ).toMatchObject({ status: 'True', reason: 'ReconciliationSucceeded' });

    // A pushed change: measured from the push to the ConfigMap in the cluster.
    await writeRepository('<h1>second</h1>');
    const pushed = Date.now();
    await commitAndPush('second');
    let applied = 0;
    while (Date.now() - pushed < 120_000) {
      const now = await core.readNamespacedConfigMap({
        name: 'web-page',
        namespace: appNs,
      });
      if (now.data?.['index.html'] === '<h1>second</h1>') {
        applied = (Date.now() - pushed) / 1000;
        break;
      }
      await new Promise(resolve => setTimeout(resolve, 250));
    }
    expect(applied).toBeGreaterThan(0);
    const line = `flux: register → applied and healthy ${registered.toFixed(
      1,
    )} s; push → ConfigMap applied ${applied.toFixed(
      1,
    )} s (GitRepository interval 10 s)`;
    // eslint-disable-next-line no-console
    console.log(line);
    if (process.env.KUBE_TIMINGS_FILE) {
      fs.appendFileSync(process.env.KUBE_TIMINGS_FILE, `${line}\n`);
    }
  }, 300_000);

  it("fails with source-controller's own message for a repository Gitea does not have", async () => {
    const url = `http://127.0.0.1:${giteaPort}/golden-path/${id}-missing.git`;
    const { promise } = register(url, `${id}-missing`, `${id}-missing`);
    const error = await promise.catch(e => e);
    expect(error.name).toBe('FluxNotReconciledError');
    expect(error.message).toMatch(
      /^Flux could not reconcile flux-system\/Kustomization\/.*-missing: source-controller cannot fetch the repository: GitOperationFailed: /,
    );
  }, 120_000);
});
