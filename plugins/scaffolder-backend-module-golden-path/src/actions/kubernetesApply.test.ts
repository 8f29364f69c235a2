import {
  createMockDirectory,
  mockCredentials,
  mockServices,
} from '@backstage/backend-test-utils';
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import type { KubeObject } from '@golden-path/plugin-rollouts-common';
import { validate as validateJson } from 'jsonschema';
import { KubeApiError } from '../kubernetes/clusterClient';
import { goldenPathKubernetesApplyPermission } from '../permissions';
import { actionContext } from '../testUtils/actionContext';
import { writeAccessMocks } from '../testUtils/writeAccess';
import { checkpointStore, FakeKubeCluster } from '../testUtils/fakeKubeCluster';
import { fixtureManifests, WEB_IN_SHOP } from '../testUtils/kubeManifests';
import { createKubernetesApplyAction } from './kubernetesApply';

const ENTITY = 'component:default/web';
const USER = 'user:default/alice';

describe('golden-path:kubernetes:apply', () => {
  const workspace = createMockDirectory();
  let cluster: FakeKubeCluster;
  let access: ReturnType<typeof writeAccessMocks>;

  beforeEach(() => {
    workspace.setContent({
      k8s: fixtureManifests(WEB_IN_SHOP),
    });
    cluster = new FakeKubeCluster();
    access = writeAccessMocks();
  });

  const action = () =>
    createKubernetesApplyAction({
      connect: async () => cluster,
      auth: mockServices.auth(),
      permissions: access.permissions,
      auditor: access.auditor,
      settings: {
        fieldManager: 'backstage-golden-path',
        protectedNamespaces: ['default', 'kube-system'],
        dryRunNamespace: 'golden-path-dry-run',
        kubectl: process.env.KUBECTL || 'kubectl',
      },
    });

  function run(
    input: Partial<{ path: string; namespace: string; entityRef: string }> = {},
    options: {
      isDryRun?: boolean;
      checkpoints?: ReturnType<typeof checkpointStore>;
      credentials?: BackstageCredentials;
    } = {},
  ) {
    const credentials = options.credentials ?? mockCredentials.user(USER);
    const context = actionContext(
      { path: 'k8s', namespace: 'shop', entityRef: ENTITY, ...input },
      {
        workspacePath: workspace.path,
        isDryRun: options.isDryRun,
        getInitiatorCredentials: async () => credentials,
        ...(options.checkpoints && {
          checkpoint: options.checkpoints.checkpoint,
        }),
      },
    );
    return { ...context, promise: action().handler(context.ctx) };
  }

  it('applies the Namespace first, marked as the entity’s, then every object into it', async () => {
    const { promise, outputs } = run();
    await expect(promise).resolves.toBeUndefined();
    expect(cluster.requests()).toEqual([
      ['Namespace', undefined, false, 'backstage-golden-path'],
      ['Service', 'shop', false, 'backstage-golden-path'],
      ['Deployment', 'shop', false, 'backstage-golden-path'],
    ]);
    expect(cluster.applied[0].object.metadata?.annotations).toEqual({
      'rollouts.backstage.io/entity-ref': ENTITY,
    });
    expect(outputs()).toEqual({
      namespace: 'shop',
      objects: ['Namespace/shop', 'Service/web', 'Deployment/web'],
    });
  });

  it('authorizes the user who started the task, and audits the write', async () => {
    const credentials = mockCredentials.user(USER);
    await run({}, { credentials }).promise;
    expect(access.permissions.authorize).toHaveBeenCalledWith(
      [{ permission: goldenPathKubernetesApplyPermission }],
      { credentials },
    );
    expect(access.auditor.createEvent).toHaveBeenCalledWith({
      eventId: 'kubernetes-apply',
      severityLevel: 'medium',
      meta: {
        taskId: 'mock-task-id',
        actor: USER,
        namespace: 'shop',
        entityRef: ENTITY,
        fieldManager: 'backstage-golden-path',
        objects: ['Namespace/shop', 'Service/web', 'Deployment/web'],
      },
    });
    expect(access.auditEvent.success).toHaveBeenCalledWith({
      meta: { applied: ['Namespace/shop', 'Service/web', 'Deployment/web'] },
    });
  });

  it('denies a user the policy does not allow, before reading the manifests or the cluster', async () => {
    access.policy.decision = AuthorizeResult.DENY;
    const { promise } = run();
    await expect(promise).rejects.toThrow(
      `${USER} may not apply Kubernetes manifests: the portal's permission policy denies golden-path.kubernetes.apply. Nothing was applied; ask a portal administrator for access.`,
    );
    await expect(promise).rejects.toMatchObject({ name: 'NotAllowedError' });
    expect(cluster.applied).toEqual([]);
    expect(access.auditor.createEvent).not.toHaveBeenCalled();
  });

  it('refuses a task started by a service rather than a user', async () => {
    const { promise } = run(
      {},
      { credentials: mockCredentials.service('plugin:catalog') },
    );
    await expect(promise).rejects.toThrow(
      'golden-path:kubernetes:apply writes to the cluster only for a task started by a signed-in user; this task was started by the service plugin:catalog. Nothing was applied.',
    );
    expect(access.permissions.authorize).not.toHaveBeenCalled();
    expect(cluster.applied).toEqual([]);
  });

  it('writes nothing in a dry run, and says what it would apply', async () => {
    const { promise, messages, outputs } = run({}, { isDryRun: true });
    await expect(promise).resolves.toBeUndefined();
    expect(cluster.applied).toEqual([]);
    expect(access.auditor.createEvent).not.toHaveBeenCalled();
    expect(messages('info')).toEqual([
      `Dry run: would apply 3 objects into namespace shop as ${USER} (field manager backstage-golden-path): Namespace/shop, Service/web, Deployment/web. Nothing was sent to the cluster.`,
    ]);
    expect(outputs().objects).toEqual([
      'Namespace/shop',
      'Service/web',
      'Deployment/web',
    ]);
  });

  it('does not apply twice when the task is retried after the apply', async () => {
    const checkpoints = checkpointStore();
    await run({}, { checkpoints }).promise;
    expect(cluster.writes()).toHaveLength(3);

    const retry = run({}, { checkpoints });
    await expect(retry.promise).resolves.toBeUndefined();
    expect(cluster.writes()).toHaveLength(3);
    expect(access.auditor.createEvent).toHaveBeenCalledTimes(1);
    expect(retry.messages('info')).toEqual([
      expect.stringMatching(
        /^These manifests were applied by an earlier attempt of this task \(checkpoint kubernetes-apply-shop-[0-9a-f]{16}\): not applying them again\. Objects: Namespace\/shop, Service\/web, Deployment\/web$/,
      ),
    ]);
    expect(retry.outputs().objects).toEqual([
      'Namespace/shop',
      'Service/web',
      'Deployment/web',
    ]);
  });

  it('applies again when the manifests changed between attempts', async () => {
    const checkpoints = checkpointStore();
    await run({}, { checkpoints }).promise;
    workspace.setContent({
      k8s: fixtureManifests({ ...WEB_IN_SHOP, image: 'acme/web:1.0.1' }),
    });
    await run({}, { checkpoints }).promise;
    expect(cluster.writes()).toHaveLength(6);
    expect(checkpoints.state.size).toBe(2);
  });

  it('names the refused object and what was applied before it; a retry applies again', async () => {
    const checkpoints = checkpointStore();
    cluster.refuse = object =>
      object.kind === 'Deployment'
        ? new KubeApiError(
            403,
            { reason: 'Forbidden' },
            'deployments.apps "web" is forbidden: User "system:serviceaccount:backstage:scaffolder" cannot patch resource "deployments"',
          )
        : undefined;
    const failed = run({}, { checkpoints });
    await expect(failed.promise).rejects.toThrow(
      'The API server refused Deployment/web: deployments.apps "web" is forbidden: User "system:serviceaccount:backstage:scaffolder" cannot patch resource "deployments" [403 Forbidden]. Applied before it: Namespace/shop, Service/web.',
    );
    await expect(failed.promise).rejects.toMatchObject({
      name: 'NotAllowedError',
    });
    expect(access.auditEvent.fail).toHaveBeenCalledWith({
      error: expect.objectContaining({ name: 'NotAllowedError' }),
    });
    expect(checkpoints.state.size).toBe(0);

    cluster.refuse = () => undefined;
    await expect(run({}, { checkpoints }).promise).resolves.toBeUndefined();
    expect(cluster.writes()).toEqual([
      'Namespace/shop',
      'Service/web',
      'Namespace/shop',
      'Service/web',
      'Deployment/web',
    ]);
  });

  it.each([
    [409, 'ConflictError'],
    [422, 'InputError'],
  ])('reports a %i from the API server as %s', async (code, name) => {
    cluster.refuse = object =>
      object.kind === 'Service'
        ? new KubeApiError(code, undefined, 'refused')
        : undefined;
    await expect(run().promise).rejects.toMatchObject({ name });
  });

  it("writes into an existing namespace only when it is the entity's, pinned to the version checked", async () => {
    const existing = (ref: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'shop',
        resourceVersion: '42',
        annotations: { 'rollouts.backstage.io/entity-ref': ref },
      },
    });
    cluster.namespaces.set('shop', existing('component:default/payments'));
    const { promise } = run();
    await expect(promise).rejects.toThrow(
      /^Nothing was applied: namespace shop already exists and is not component:default\/web's: /,
    );
    await expect(promise).rejects.toMatchObject({ name: 'NotAllowedError' });
    expect(cluster.applied).toEqual([]);

    cluster.namespaces.set('shop', existing(ENTITY));
    await run().promise;
    expect(cluster.applied[0].object.metadata?.resourceVersion).toBe('42');
  });

  it('refuses manifests that reach outside the namespace, applying none of them', async () => {
    workspace.addContent({
      'k8s/clusterrole.yaml':
        'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: everything}\n',
      'k8s/kustomization.yaml':
        'namespace: shop\nresources: [namespace.yaml, deployment.yaml, service.yaml, clusterrole.yaml]\n',
    });
    const { promise } = run();
    await expect(promise).rejects.toThrow(
      'Nothing was applied: 1 object of k8s may not be applied:\n- ClusterRole/everything is cluster-scoped: the golden-path actions apply only objects inside namespace shop (and that Namespace itself)',
    );
    expect(cluster.applied).toEqual([]);
  });

  it.each([
    [{ namespace: 'kube-system' }, /namespace "kube-system" is protected/],
    [
      { namespace: 'golden-path-dry-run' },
      /namespace "golden-path-dry-run" is protected/,
    ],
    [
      { entityRef: 'component:web' },
      /entityRef "component:web" is not a full entity ref/,
    ],
    [
      { path: '../../etc' },
      /Manifests path \.\.\/\.\.\/etc is outside the task's workspace/,
    ],
  ])(
    'refuses bad input %# with a clear message, writing nothing',
    async (input, message) => {
      await expect(run(input).promise).rejects.toThrow(message);
      expect(cluster.applied).toEqual([]);
    },
  );

  it('has an input schema that names missing and malformed fields', () => {
    const errors = validateJson(
      { namespace: 'Shop', path: 3 },
      action().schema!.input!,
    ).errors.map(e => e.stack);
    expect(errors).toEqual([
      'instance.path is not of a type(s) string',
      expect.stringMatching(/^instance\.namespace does not match pattern/),
      'instance requires property "entityRef"',
    ]);
  });
});
