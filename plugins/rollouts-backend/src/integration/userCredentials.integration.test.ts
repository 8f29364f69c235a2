/*
 * A cluster that signs users in (authProvider oidc, google, aks): the plugin
 * caches with its own read-only identity and writes with the token the user's
 * page sends, so the API server authorizes and records the real user. Here a
 * ServiceAccount token stands in for the user's OIDC token: the API server
 * treats both as a bearer token of one user.
 */
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { KubeService } from '@golden-path/plugin-rollouts-common';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { InformerClusterRegistry } from '../services/clusters/ClusterRegistry';
import {
  AdminClients,
  adminClients,
  audit,
  createBlueGreenPair,
  createNamespace,
  describeWithCluster,
  eventually,
  fresh,
  identity,
  ROLLOUTS_READ_RULES,
  ROLLOUTS_WRITE_RULES,
  waitForRollout,
  writesSince,
  rolloutsPluginFeatures,
} from './fixture';

const OWNER = 'user:default/owner';
const HEADER = 'Backstage-Kubernetes-Authorization-oidc-test';

describeWithCluster('writes with the user’s own Kubernetes credentials', () => {
  const id = `rollouts-user-${randomBytes(3).toString('hex')}`;
  const ns = id;
  let admin: AdminClients;
  let reader: Awaited<ReturnType<typeof identity>>;
  let alice: Awaited<ReturnType<typeof identity>>;
  let bob: Awaited<ReturnType<typeof identity>>;
  let registry: InformerClusterRegistry;
  let server: any;

  const selector = async () =>
    (
      await fresh<KubeService>(
        admin,
        `/api/v1/namespaces/${ns}/services/demo-api`,
      )
    ).spec!.selector!['app.kubernetes.io/slot'];
  const switchTo = (slot: string, token?: string) => {
    const r = request(server)
      .post(`/api/rollouts/entity/component/default/${id}/traffic/switch`)
      .set('Authorization', mockCredentials.user.header(OWNER));
    return (token ? r.set(HEADER, token) : r).send({
      cluster: 'oidc-cluster',
      namespace: ns,
      service: 'demo-api',
      targetSlot: slot,
    });
  };

  beforeAll(async () => {
    admin = adminClients();
    await createNamespace(admin, ns);
    await createBlueGreenPair(admin, ns, id, `component:default/${id}`, 1);
    await waitForRollout(admin, ns, 'demo-api-green');
    // The plugin may only read; alice may patch in the namespace; bob may not.
    reader = await identity(admin, ns, 'rollouts-reader', {
      clusterRules: ROLLOUTS_READ_RULES,
    });
    alice = await identity(admin, ns, 'alice', {
      namespaceRules: ROLLOUTS_WRITE_RULES,
    });
    bob = await identity(admin, ns, 'bob', {});
    const cluster = admin.kc.getCurrentCluster()!;
    registry = InformerClusterRegistry.fromKubeConfigs(
      [
        {
          name: 'oidc-cluster',
          kubeConfig: reader.kubeConfig,
          write: {
            mode: 'user',
            authProvider: 'oidc',
            oidcTokenProvider: 'test',
            connection: {
              name: 'oidc-cluster',
              url: cluster.server,
              caData: cluster.caData,
              skipTLSVerify: false,
            },
          },
        },
      ],
      mockServices.logger.mock(),
    );
    await registry.start();
    await eventually(
      () => {
        const state = registry.get('oidc-cluster')!.health().state;
        if (state !== 'ok') throw new Error(`cluster is ${state}`);
      },
      30_000,
      'informers to sync',
    );
    const permissions = mockServices.permissions.mock({
      authorize: jest.fn(async (requests: any[], { credentials }: any) =>
        requests.map(() => ({
          result:
            credentials.principal.userEntityRef === OWNER
              ? AuthorizeResult.ALLOW
              : AuthorizeResult.DENY,
        })),
      ),
    } as any);
    ({ server } = await startTestBackend({
      features: [
        ...rolloutsPluginFeatures(registry),
        permissions.factory,
        catalogServiceMock.factory({
          entities: [
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
          ],
        }),
      ],
    }));
  }, 300_000);

  afterAll(async () => {
    await registry?.stop();
    await admin?.core.deleteNamespace({ name: ns }).catch(() => undefined);
    await reader?.cleanup();
  }, 60_000);

  it('records the real user at the API server, not the plugin', async () => {
    const mark = audit?.mark();
    const res = await switchTo('green', alice.token);
    expect(res.status).toBe(200);
    expect(await selector()).toBe('green');
    if (audit) {
      /* eslint-disable jest/no-conditional-expect -- only clusters with an audit log can count */
      expect(await writesSince(alice.username, mark!, 500)).toEqual([
        `patch services ${ns}/demo-api 200`,
      ]);
      expect(await writesSince(reader.username, mark!)).toEqual([]);
      /* eslint-enable jest/no-conditional-expect */
    }
  }, 60_000);

  it('is 403 when the user’s own credentials do not allow the write, and nothing changes', async () => {
    const res = await switchTo('blue', bob.token);
    expect(res.status).toBe(403);
    expect(res.body.error.message).toMatch(
      /your own Kubernetes credentials do not allow it/,
    );
    expect(await selector()).toBe('green');
  }, 60_000);

  it('is 401 without the user’s credentials, before any request to the cluster', async () => {
    const mark = audit?.mark();
    const res = await switchTo('blue');
    expect(res.status).toBe(401);
    if (audit) {
      const requests = await audit.requestsSince(mark!, { settleMs: 500 });
      // eslint-disable-next-line jest/no-conditional-expect -- only clusters with an audit log can count
      expect(
        requests.filter(r => r.namespace === ns && r.verb !== 'watch'),
      ).toEqual([]);
    }
    expect(await selector()).toBe('green');
  }, 60_000);
});
