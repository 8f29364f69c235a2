/*
 * Write authority comes from the cluster, not from the catalog: a Component
 * anyone can register (owned by its author, pointing at someone else's
 * labels) is refused, and a write is pinned to the object it was planned for.
 * Counted in the real API server's audit log.
 */
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  ENTITY_REF_ANNOTATION,
  KubeService,
  pinnedPatch,
} from '@golden-path/plugin-rollouts-common';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { InformerClusterRegistry } from '../services/clusters/ClusterRegistry';
import { toUserError } from '../services/clusters/kubeErrors';
import {
  AdminClients,
  adminClients,
  audit,
  createBlueGreenPair,
  createNamespace,
  describeWithCluster,
  fresh,
  identity,
  ROLLOUTS_READ_RULES,
  ROLLOUTS_WRITE_RULES,
  writesSince,
  rolloutsPluginFeatures,
  syncedRegistry,
} from './fixture';

const OWNER = 'user:default/owner';
const MALLORY = 'user:default/mallory';

describeWithCluster('write authority is bound to what the cluster says', () => {
  const id = `rollouts-own-${randomBytes(3).toString('hex')}`;
  const ns = id;
  const victimRef = `component:default/${id}`;
  let admin: AdminClients;
  let plugin: Awaited<ReturnType<typeof identity>>;
  let registry: InformerClusterRegistry;
  let server: any;

  /** The victim's Component, and one Mallory registered pointing at its labels. */
  const entities: Entity[] = [
    {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: {
        name: id,
        namespace: 'default',
        annotations: { 'backstage.io/kubernetes-id': id },
      },
      spec: { type: 'service', owner: OWNER, lifecycle: 'production' },
    },
    {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: {
        name: 'evil',
        namespace: 'default',
        annotations: { 'backstage.io/kubernetes-id': id },
      },
      spec: { type: 'service', owner: MALLORY, lifecycle: 'production' },
    },
  ];

  const resourceVersions = async () => ({
    service: (
      await fresh<KubeService>(
        admin,
        `/api/v1/namespaces/${ns}/services/demo-api`,
      )
    ).metadata?.resourceVersion,
    blue: (
      await fresh(
        admin,
        `/apis/apps/v1/namespaces/${ns}/deployments/demo-api-blue`,
      )
    ).metadata?.resourceVersion,
  });

  beforeAll(async () => {
    admin = adminClients();
    await createNamespace(admin, ns);
    await createBlueGreenPair(admin, ns, id, victimRef, 1);
    plugin = await identity(admin, ns, 'rollouts-plugin', {
      clusterRules: ROLLOUTS_READ_RULES,
      namespaceRules: ROLLOUTS_WRITE_RULES,
    });
    registry = await syncedRegistry(plugin.kubeConfig);
    // As the portal policy decides: a write only for the entity's owner, and
    // Mallory does own the Component she registered.
    const ownerOf = new Map(
      entities.map(e => [stringifyEntityRef(e), e.spec!.owner]),
    );
    const permissions = mockServices.permissions.mock({
      authorize: jest.fn(async (requests: any[], { credentials }: any) =>
        requests.map(r => ({
          result:
            r.permission.name === 'rollouts.status.read' ||
            ownerOf.get(r.resourceRef) === credentials.principal.userEntityRef
              ? AuthorizeResult.ALLOW
              : AuthorizeResult.DENY,
        })),
      ),
    } as any);
    ({ server } = await startTestBackend({
      features: [
        ...rolloutsPluginFeatures(registry),
        permissions.factory,
        catalogServiceMock.factory({ entities }),
      ],
    }));
  }, 300_000);

  afterAll(async () => {
    await registry?.stop();
    await admin?.core.deleteNamespace({ name: ns }).catch(() => undefined);
    await plugin?.cleanup();
  }, 60_000);

  const writes = (namespace: string) =>
    [
      [
        'traffic/switch',
        { cluster: 'it', namespace, service: 'demo-api', targetSlot: 'green' },
      ],
      ['traffic/rollback', { cluster: 'it', namespace, service: 'demo-api' }],
      [
        'deployments/restart',
        { cluster: 'it', namespace, deployment: 'demo-api-blue' },
      ],
      [
        'deployments/undo',
        { cluster: 'it', namespace, deployment: 'demo-api-blue' },
      ],
    ] as const;

  it('refuses a spoofed Component with 403, and the API server sees zero writes', async () => {
    const before = await resourceVersions();
    const mark = audit?.mark();
    for (const [path, body] of writes(ns)) {
      const res = await request(server)
        .post(`/api/rollouts/entity/component/default/evil/${path}`)
        .set('Authorization', mockCredentials.user.header(MALLORY))
        .send(body);
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
      expect(res.body.error.message).toContain(`belongs to '${victimRef}'`);
    }
    if (audit) {
      // eslint-disable-next-line jest/no-conditional-expect -- only clusters with an audit log can count
      expect(await writesSince(plugin.username, mark!, 1000)).toEqual([]);
    }
    expect(await resourceVersions()).toEqual(before);
  }, 60_000);

  it('lets the legitimate owner write (one patch at the API server)', async () => {
    const mark = audit?.mark();
    const res = await request(server)
      .post(`/api/rollouts/entity/component/default/${id}/deployments/restart`)
      .set('Authorization', mockCredentials.user.header(OWNER))
      .send(writes(ns)[2][1]);
    expect(res.status).toBe(200);
    if (audit) {
      // eslint-disable-next-line jest/no-conditional-expect -- only clusters with an audit log can count
      expect(await writesSince(plugin.username, mark!, 500)).toEqual([
        `patch deployments ${ns}/demo-api-blue 200`,
      ]);
    }
  }, 60_000);

  it.each(['re-created', 're-labelled'] as const)(
    'the API server rejects a patch pinned to a Service that was %s since it was read; nothing is written',
    async change => {
      const writer = registry.get('it')!.writer();
      const read = await writer.getService(ns, 'demo-api');
      if (change === 're-created') {
        await admin.core.deleteNamespacedService({
          name: 'demo-api',
          namespace: ns,
        });
        const { metadata, spec } = read;
        await admin.core.createNamespacedService({
          namespace: ns,
          body: {
            metadata: {
              name: metadata!.name,
              labels: metadata!.labels,
              annotations: metadata!.annotations,
            },
            spec: { selector: spec!.selector, ports: spec!.ports as any },
          },
        });
      } else {
        await admin.core.patchNamespacedService(
          {
            name: 'demo-api',
            namespace: ns,
            body: {
              metadata: {
                annotations: {
                  [ENTITY_REF_ANNOTATION]: 'component:default/other',
                },
              },
            },
          },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      }
      const now = await writer.getService(ns, 'demo-api');
      const patch = pinnedPatch(
        read,
        { annotationValue: read.metadata!.annotations![ENTITY_REF_ANNOTATION] },
        [
          {
            op: 'replace',
            path: '/spec/selector/app.kubernetes.io~1slot',
            value: 'green',
          },
        ],
      );
      const error = await writer.patchService(ns, 'demo-api', patch).then(
        () => undefined,
        e => e,
      );
      expect(error?.code).toBe(422);
      const userError = toUserError(error, 'Switching', {
        logger: mockServices.logger.mock(),
        identity: 'plugin',
      });
      expect(userError.name).toBe('ConflictError');
      const after = await writer.getService(ns, 'demo-api');
      expect(after.metadata!.resourceVersion).toBe(
        now.metadata!.resourceVersion,
      );
      expect(after.spec!.selector!['app.kubernetes.io/slot']).toBe('blue');
    },
    60_000,
  );
});
