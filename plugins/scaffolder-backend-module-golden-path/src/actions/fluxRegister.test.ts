import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import type { KubeObject } from '@golden-path/plugin-rollouts-common';
import { KubeApiError } from '../kubernetes/clusterClient';
import type { FluxStatusObject } from '../flux/fluxProgress';
import { goldenPathKubernetesApplyPermission } from '../permissions';
import { actionContext } from '../testUtils/actionContext';
import { writeAccessMocks } from '../testUtils/writeAccess';
import {
  checkpointStore,
  FakeKubeCluster,
  objectKey,
} from '../testUtils/fakeKubeCluster';
import { createFluxRegisterAction } from './fluxRegister';

const ENTITY = 'component:default/hello-web';
const USER = 'user:default/alice';
const URL = 'http://127.0.0.1:3300/golden-path/hello-web.git';
const REVISION = 'main@sha1:0123456789abcdef0123456789abcdef01234567';
const GIT_REPOSITORY = objectKey({
  apiVersion: 'source.toolkit.fluxcd.io/v1',
  kind: 'GitRepository',
  namespace: 'flux-system',
  name: 'hello-web',
});
const KUSTOMIZATION = objectKey({
  apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
  kind: 'Kustomization',
  namespace: 'flux-system',
  name: 'hello-web',
});

/** The input as the scaffolder hands it over: the schema's defaults filled in. */
type Input = {
  url: string;
  namespace: string;
  entityRef: string;
  branch: string;
  path: string;
  name?: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  prune: boolean;
  waitFor: 'none' | 'applied' | 'ready';
  waitTimeoutSeconds: number;
};

const DEFAULTS = {
  branch: 'main',
  path: 'overlays/local',
  intervalSeconds: 10,
  timeoutSeconds: 180,
  prune: true,
  waitFor: 'applied',
  waitTimeoutSeconds: 300,
} as const;

/**
 * Plays source-controller and kustomize-controller on the fake cluster: each poll moves
 * the registered objects one step (fetched, then applied with health checks running,
 * then healthy), or sets the conditions a test gives.
 */
function fakeFlux(cluster: FakeKubeCluster) {
  const steps: Record<string, FluxStatusObject['status']>[] = [
    {},
    {
      [GIT_REPOSITORY]: {
        artifact: { revision: REVISION },
        conditions: [{ type: 'Ready', status: 'True', reason: 'Succeeded' }],
      },
    },
    {
      [KUSTOMIZATION]: {
        lastAttemptedRevision: REVISION,
        conditions: [
          { type: 'Ready', status: 'Unknown', reason: 'Progressing' },
          {
            type: 'Healthy',
            status: 'Unknown',
            reason: 'Progressing',
            message: `Running health checks for revision ${REVISION}`,
          },
        ],
      },
    },
    {
      [KUSTOMIZATION]: {
        lastAttemptedRevision: REVISION,
        lastAppliedRevision: REVISION,
        conditions: [
          { type: 'Ready', status: 'True', reason: 'ReconciliationSucceeded' },
        ],
      },
    },
  ];
  const flux = { steps, polls: 0 };
  cluster.onGetObject = () => {
    // Before both are registered the action only checks who owns the names.
    if (
      !cluster.objects.has(GIT_REPOSITORY) ||
      !cluster.objects.has(KUSTOMIZATION)
    ) {
      return;
    }
    // Two getObject calls (GitRepository, Kustomization) make one poll.
    const step = steps[Math.min(Math.floor(flux.polls / 2), steps.length - 1)];
    flux.polls += 1;
    for (const [key, status] of Object.entries(step)) {
      const object = cluster.objects.get(key);
      if (object) {
        cluster.objects.set(key, {
          ...object,
          status: { observedGeneration: 1, ...status },
        } as KubeObject);
      }
    }
  };
  return flux;
}

describe('golden-path:flux:register', () => {
  let cluster: FakeKubeCluster;
  let access: ReturnType<typeof writeAccessMocks>;
  let clock: number;
  let connect: () => Promise<FakeKubeCluster>;

  beforeEach(() => {
    connect = async () => cluster;
    cluster = new FakeKubeCluster();
    access = writeAccessMocks();
    clock = 0;
  });

  const action = () =>
    createFluxRegisterAction({
      connect: () => connect(),
      auth: mockServices.auth(),
      permissions: access.permissions,
      auditor: access.auditor,
      settings: {
        namespace: 'flux-system',
        serviceAccountName: 'golden-path-gitops',
        gitCredentials: [
          { host: '127.0.0.1:3300', secretName: 'golden-path-gitea' },
        ],
        fieldManager: 'backstage-golden-path',
        protectedNamespaces: ['default', 'kube-system'],
        dryRunNamespace: 'golden-path-dry-run',
      },
      pollIntervalMs: 1,
      // Each reading of the clock is 10 s later: timeouts come quickly.
      now: () => (clock += 10_000),
    });

  function run(
    input: Partial<Input> = {},
    options: {
      isDryRun?: boolean;
      checkpoints?: ReturnType<typeof checkpointStore>;
      credentials?: BackstageCredentials;
      signal?: AbortSignal;
    } = {},
  ) {
    const credentials = options.credentials ?? mockCredentials.user(USER);
    const context = actionContext<Input>(
      {
        url: URL,
        namespace: 'hello-web',
        entityRef: ENTITY,
        ...DEFAULTS,
        ...input,
      },
      {
        isDryRun: options.isDryRun,
        getInitiatorCredentials: async () => credentials,
        ...(options.signal && { signal: options.signal }),
        ...(options.checkpoints && {
          checkpoint: options.checkpoints.checkpoint,
        }),
      },
    );
    return { ...context, promise: action().handler(context.ctx) };
  }

  it('applies the GitRepository, then the Kustomization, and waits until Flux applied the revision', async () => {
    fakeFlux(cluster);
    const { promise, outputs, messages } = run({ waitTimeoutSeconds: 600 });
    await expect(promise).resolves.toBeUndefined();
    expect(cluster.requests()).toEqual([
      ['GitRepository', 'flux-system', false, 'backstage-golden-path'],
      ['Kustomization', 'flux-system', false, 'backstage-golden-path'],
    ]);
    const [gitRepository, kustomization] = cluster.applied.map(
      a => a.object as KubeObject & { spec: any },
    );
    expect(gitRepository.spec).toEqual({
      url: URL,
      ref: { branch: 'main' },
      interval: '10s',
      timeout: '60s',
      secretRef: { name: 'golden-path-gitea' },
    });
    expect(kustomization.spec).toMatchObject({
      sourceRef: { kind: 'GitRepository', name: 'hello-web' },
      path: './overlays/local',
      targetNamespace: 'hello-web',
      serviceAccountName: 'golden-path-gitops',
      prune: true,
      wait: true,
    });
    expect(outputs()).toEqual({
      gitRepository: 'flux-system/hello-web',
      kustomization: 'flux-system/hello-web',
      revision: REVISION,
    });
    expect(messages('info')).toEqual([
      'Applied GitRepository/hello-web in flux-system',
      'Applied Kustomization/hello-web in flux-system',
      `Registered ${URL} (branch main, ./overlays/local) into namespace hello-web, credentials from Secret flux-system/golden-path-gitea`,
      'Flux: source-controller has not fetched the repository yet',
      `Flux: source-controller has revision ${REVISION}; kustomize-controller has not started on it`,
      `Flux: kustomize-controller applied revision ${REVISION} (Progressing: Running health checks for revision ${REVISION})`,
    ]);
  });

  it('waits for every object to be healthy with waitFor: ready, and not at all with none', async () => {
    const flux = fakeFlux(cluster);
    await run({ waitFor: 'ready', waitTimeoutSeconds: 600 }).promise;
    expect(flux.polls).toBe(8);

    cluster = new FakeKubeCluster();
    const none = fakeFlux(cluster);
    const { promise, outputs } = run({ waitFor: 'none' });
    await expect(promise).resolves.toBeUndefined();
    expect(none.polls).toBe(0);
    expect(outputs().revision).toBeUndefined();
  });

  it("fails with source-controller's message when it cannot fetch, keeping the objects", async () => {
    const flux = fakeFlux(cluster);
    flux.steps[1] = {
      [GIT_REPOSITORY]: {
        conditions: [
          {
            type: 'Ready',
            status: 'False',
            reason: 'GitOperationFailed',
            message: 'authentication required',
          },
        ],
      },
    };
    const { promise } = run({ waitTimeoutSeconds: 600 });
    await expect(promise).rejects.toThrow(
      'Flux could not reconcile flux-system/Kustomization/hello-web: source-controller cannot fetch the repository: GitOperationFailed: authentication required. The objects stay registered and Flux retries: fix the cause and push, or delete them (kubectl -n flux-system delete kustomization,gitrepository hello-web).',
    );
    await expect(promise).rejects.toMatchObject({
      name: 'FluxNotReconciledError',
    });
    expect(cluster.writes()).toEqual([
      'GitRepository/hello-web',
      'Kustomization/hello-web',
    ]);
  });

  it('gives up after waitTimeoutSeconds, saying where Flux stands', async () => {
    fakeFlux(cluster).steps.splice(1);
    const { promise } = run({ waitTimeoutSeconds: 30 });
    await expect(promise).rejects.toThrow(
      'Flux did not reconcile flux-system/Kustomization/hello-web within 30 s: source-controller has not fetched the repository yet. The objects stay registered and Flux keeps trying.',
    );
  });

  it('stops waiting when the task is cancelled', async () => {
    fakeFlux(cluster).steps.splice(1);
    const controller = new AbortController();
    cluster.onGetObject = () => controller.abort();
    const { promise } = run(
      { waitTimeoutSeconds: 3600 },
      { signal: controller.signal },
    );
    await expect(promise).rejects.toThrow(
      'The task was cancelled while waiting for Flux',
    );
  });

  it('authorizes the user who started the task, and audits the registration', async () => {
    fakeFlux(cluster);
    const credentials = mockCredentials.user(USER);
    await run({ waitFor: 'none' }, { credentials }).promise;
    expect(access.permissions.authorize).toHaveBeenCalledWith(
      [{ permission: goldenPathKubernetesApplyPermission }],
      { credentials },
    );
    expect(access.auditor.createEvent).toHaveBeenCalledWith({
      eventId: 'flux-register',
      severityLevel: 'medium',
      meta: {
        taskId: 'mock-task-id',
        actor: USER,
        entityRef: ENTITY,
        url: URL,
        branch: 'main',
        path: './overlays/local',
        targetNamespace: 'hello-web',
        objects: [
          'flux-system/GitRepository/hello-web',
          'flux-system/Kustomization/hello-web',
        ],
      },
    });
    expect(access.auditEvent.success).toHaveBeenCalled();
  });

  it('denies a user the policy does not allow, and a task no user started, before touching the cluster', async () => {
    access.policy.decision = AuthorizeResult.DENY;
    const denied = run();
    await expect(denied.promise).rejects.toThrow(
      `${USER} may not register repositories with Flux: the portal's permission policy denies golden-path.kubernetes.apply. Nothing was registered; ask a portal administrator for access.`,
    );
    const service = run(
      {},
      { credentials: mockCredentials.service('plugin:catalog') },
    );
    await expect(service.promise).rejects.toThrow(
      'golden-path:flux:register writes to the cluster only for a task started by a signed-in user; this task was started by the service plugin:catalog. Nothing was registered.',
    );
    expect(cluster.applied).toEqual([]);
  });

  it('refuses a GitRepository or Kustomization of that name that belongs to another entity, overwriting nothing', async () => {
    cluster.objects.set(GIT_REPOSITORY, {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'GitRepository',
      metadata: {
        name: 'hello-web',
        namespace: 'flux-system',
        annotations: {
          'rollouts.backstage.io/entity-ref': 'component:team-b/hello-web',
        },
      },
    });
    const { promise } = run();
    await expect(promise).rejects.toThrow(
      "Nothing was registered: flux-system/GitRepository/hello-web already exists and is not component:default/hello-web's: GitRepository flux-system/hello-web belongs to 'component:team-b/hello-web'",
    );
    await expect(promise).rejects.toMatchObject({ name: 'NotAllowedError' });
    expect(cluster.applied).toEqual([]);
  });

  it("refuses a namespace that exists and is not the entity's", async () => {
    cluster.namespaces.set('hello-web', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'hello-web' },
    });
    const { promise } = run();
    await expect(promise).rejects.toThrow(
      'namespace hello-web already exists and is not component:default/hello-web',
    );
    expect(cluster.applied).toEqual([]);
  });

  it('updates its own registration, pinned to the resourceVersion it checked', async () => {
    cluster.objects.set(KUSTOMIZATION, {
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: {
        name: 'hello-web',
        namespace: 'flux-system',
        resourceVersion: '42',
        annotations: { 'rollouts.backstage.io/entity-ref': ENTITY },
      },
    });
    await run({ waitFor: 'none' }).promise;
    expect(
      cluster.applied.map(a => a.object.metadata?.resourceVersion),
    ).toEqual([undefined, '42']);
  });

  it('says the API server refused, naming the object', async () => {
    cluster.refuse = object =>
      object.kind === 'Kustomization'
        ? new KubeApiError(
            403,
            { reason: 'Forbidden' },
            'kustomizations.kustomize.toolkit.fluxcd.io is forbidden',
          )
        : undefined;
    const { promise } = run();
    await expect(promise).rejects.toThrow(
      'The API server refused Kustomization/hello-web: kustomizations.kustomize.toolkit.fluxcd.io is forbidden [403 Forbidden]. Applied before it: GitRepository/hello-web.',
    );
    await expect(promise).rejects.toMatchObject({ name: 'NotAllowedError' });
    expect(access.auditEvent.fail).toHaveBeenCalled();
  });

  it('explains that Flux is not installed when the cluster does not serve its kinds', async () => {
    cluster.kindInfo = async apiVersion => {
      throw new KubeApiError(
        404,
        undefined,
        `the cluster does not serve apiVersion ${apiVersion} (a custom resource whose CRD is not installed, or a removed API version)`,
      );
    };
    const { promise } = run();
    await expect(promise).rejects.toThrow(
      'Flux is not installed in the cluster (the cluster does not serve apiVersion source.toolkit.fluxcd.io/v1 (a custom resource whose CRD is not installed, or a removed API version) [404]). Nothing was registered. Locally: platform/flux/flux.sh start',
    );
  });

  it('does not register twice when the task is retried', async () => {
    fakeFlux(cluster);
    const checkpoints = checkpointStore();
    await run({ waitFor: 'none' }, { checkpoints }).promise;
    const retry = run({ waitFor: 'none' }, { checkpoints });
    await expect(retry.promise).resolves.toBeUndefined();
    expect(cluster.writes()).toHaveLength(2);
    expect(access.auditor.createEvent).toHaveBeenCalledTimes(1);
    expect(retry.messages('info')).toEqual([
      expect.stringMatching(
        /^An earlier attempt of this task registered .* \(checkpoint flux-register-flux-system-hello-web-[0-9a-f]{16}\): not applying it again$/,
      ),
    ]);
  });

  it('fetches a host without configured credentials without a secretRef, and says the repository must be public', async () => {
    const url = 'https://github.com/acme/hello-web.git';
    const { promise, messages } = run({ url, waitFor: 'none' });
    await promise;
    expect(cluster.applied[0].object).not.toHaveProperty('spec.secretRef');
    expect(messages('info')).toContain(
      `Registered ${url} (branch main, ./overlays/local) into namespace hello-web, no credentials (no goldenPath.flux.gitCredentials entry for github.com: the repository must be public)`,
    );
  });

  it('writes nothing in a dry run, showing the objects, even for a placeholder URL', async () => {
    const { promise, messages, outputs } = run(
      { url: '<example>' },
      { isDryRun: true },
    );
    await expect(promise).resolves.toBeUndefined();
    expect(cluster.applied).toEqual([]);
    expect(access.auditor.createEvent).not.toHaveBeenCalled();
    const [placeholder, plan] = messages('info');
    expect(placeholder).toBe(
      'Dry run: the repository URL "<example>" is a placeholder (its publish step does not run in a dry run); showing the objects for http://git.invalid/owner/repository.git.',
    );
    expect(plan).toMatch(
      /^Dry run: would register http:\/\/git\.invalid\/owner\/repository\.git .* Nothing was sent to the cluster\.\n\[/,
    );
    expect(outputs()).toEqual({
      gitRepository: 'flux-system/hello-web',
      kustomization: 'flux-system/hello-web',
    });
  });

  it('shows the objects in a dry run where the portal has no cluster, and refuses a real run', async () => {
    const missing =
      'goldenPath.kubernetes.url is not set: the Kubernetes actions do not know which cluster to use.';
    connect = async () => {
      throw new Error(missing);
    };
    const dryRun = run({}, { isDryRun: true });
    await expect(dryRun.promise).resolves.toBeUndefined();
    expect(dryRun.messages('warn')).toEqual([
      `Dry run: the cluster was not checked (a real run would stop here): ${missing}`,
    ]);
    expect(dryRun.messages('info')[0]).toMatch(
      /^Dry run: would register http:\/\/127\.0\.0\.1:3300\/golden-path\/hello-web\.git /,
    );
    await expect(run().promise).rejects.toThrow(missing);
    expect(access.auditor.createEvent).not.toHaveBeenCalled();
  });

  it.each([
    [{ namespace: 'kube-system' }, 'namespace "kube-system" is protected'],
    [{ namespace: 'flux-system' }, 'namespace "flux-system" is protected'],
    [{ entityRef: 'hello-web' }, 'is not a full entity ref'],
    [{ url: 'http://alice:pw@127.0.0.1:3300/o/r.git' }, 'carries credentials'],
    [{ url: 'ssh://git@127.0.0.1/o/r.git' }, 'http(s) clone URLs only'],
    [{ branch: 'main..x' }, 'not a valid git branch name'],
    [{ path: '../elsewhere' }, 'must be a folder inside the repository'],
    [
      { entityRef: 'component:default/Hello_Web' },
      'cannot name a GitRepository and Kustomization',
    ],
  ])('refuses %j before anything else', async (input, message) => {
    const { promise } = run(input);
    await expect(promise).rejects.toThrow(message);
    await expect(promise).rejects.toMatchObject({ name: 'InputError' });
    expect(access.permissions.authorize).not.toHaveBeenCalled();
    expect(cluster.applied).toEqual([]);
  });
});
