import { Entity } from '@backstage/catalog-model';
import { mockCredentials } from '@backstage/backend-test-utils';
import { ENTITY_REF_ANNOTATION } from '@golden-path/plugin-rollouts-common';
import {
  demoCluster,
  demoEntity,
  NAMESPACE,
  OWNER,
} from '../../testUtils/demoCluster';
import {
  asOwner,
  BASE,
  startRolloutsBackend as start,
} from '../../testUtils/startRolloutsBackend';

const MALLORY = 'user:default/mallory';
const asMallory = mockCredentials.user.header(MALLORY);

/** A Component anyone could register: owned by its author, pointing at someone else's objects. */
function entityOwnedBy(
  name: string,
  owner: string,
  annotations: Record<string, string>,
): Entity {
  return {
    ...demoEntity,
    metadata: { name, namespace: 'default', annotations },
    spec: { ...demoEntity.spec, owner },
  };
}

const writes = [
  [
    'traffic/switch',
    {
      cluster: 'local',
      namespace: NAMESPACE,
      service: 'demo-api',
      targetSlot: 'green',
    },
  ],
  [
    'traffic/rollback',
    { cluster: 'local', namespace: NAMESPACE, service: 'demo-api' },
  ],
  [
    'deployments/restart',
    { cluster: 'local', namespace: NAMESPACE, deployment: 'demo-api-blue' },
  ],
  [
    'deployments/undo',
    { cluster: 'local', namespace: NAMESPACE, deployment: 'demo-api-blue' },
  ],
] as const;

const patches = (calls: { method: string }[]) =>
  calls.filter(c => c.method.startsWith('patch'));

describe('WriteGuard', () => {
  it('refuses a spoofed Component that points at another entity’s objects, writing nothing', async () => {
    const spoof = entityOwnedBy('evil', MALLORY, {
      'backstage.io/kubernetes-id': 'fastapi-demo',
    });
    const { post, cluster } = await start({ entities: [spoof] });
    for (const [path, body] of writes) {
      const res = await post(
        `/api/rollouts/entity/component/default/evil/${path}`,
        asMallory,
        body,
      );
      expect(res.status).toBe(403);
      expect(res.body.error.name).toBe('NotAllowedError');
      expect(res.body.error.message).toMatch(
        /belongs to 'component:default\/fastapi-demo'/,
      );
    }
    expect(patches(cluster.apiCalls)).toEqual([]);
    // The legitimate owner still can.
    const own = await post(
      `${BASE}/deployments/restart`,
      asOwner,
      writes[2][1],
    );
    expect(own.status).toBe(200);
    expect(patches(cluster.apiCalls)).toHaveLength(1);
  });

  it('refuses an object whose deployer did not name an owning entity, and says how to fix it', async () => {
    const cluster = demoCluster();
    const svc = cluster.get('services', NAMESPACE, 'demo-api')!;
    delete svc.metadata!.annotations![ENTITY_REF_ANNOTATION];
    cluster.put('services', svc, false);
    const { post } = await start({ cluster });
    const res = await post(`${BASE}/traffic/switch`, asOwner, writes[0][1]);
    expect(res.status).toBe(403);
    expect(res.body.error.message).toBe(
      `Service ${NAMESPACE}/demo-api has no '${ENTITY_REF_ANNOTATION}' annotation, so the cluster does not say which entity may change it. Whoever deploys it must set the annotation to component:default/fastapi-demo.`,
    );
    expect(patches(cluster.apiCalls)).toEqual([]);
  });

  it.each([
    [' '],
    ['!legacy'],
    ['app!=other'],
    ['app.kubernetes.io/name'],
    ['tier notin (db)'],
  ])(
    'refuses writes through an entity whose selector %j does not pin a label',
    async selector => {
      const wide = entityOwnedBy('wide', OWNER, {
        'backstage.io/kubernetes-label-selector': selector,
      });
      const { post, cluster } = await start({ entities: [wide] });
      const res = await post(
        '/api/rollouts/entity/component/default/wide/deployments/restart',
        asOwner,
        writes[2][1],
      );
      expect(res.status).toBe(400);
      expect(res.body.error.name).toBe('InputError');
      expect(cluster.apiCalls).toEqual([]);
    },
  );

  it("writes with the user's own Kubernetes token where the cluster signs users in", async () => {
    const cluster = demoCluster();
    cluster.access = {
      mode: 'user',
      authProvider: 'oidc',
      oidcTokenProvider: 'okta',
    };
    const { post } = await start({ cluster });
    const without = await post(
      `${BASE}/deployments/restart`,
      asOwner,
      writes[2][1],
    );
    expect(without.status).toBe(401);
    expect(without.body.error.message).toMatch(
      /use your own Kubernetes credentials \(auth provider oidc\)/,
    );
    expect(cluster.apiCalls).toEqual([]);

    const res = await post(
      `${BASE}/deployments/restart`,
      asOwner,
      writes[2][1],
      {
        'Backstage-Kubernetes-Authorization-oidc-okta': 'users-own-token',
      },
    );
    expect(res.status).toBe(200);
    expect(cluster.writerTokens).toEqual(['users-own-token']);
  });

  it('refuses writes where no write identity is configured, with the reason', async () => {
    const cluster = demoCluster();
    cluster.access = {
      mode: 'disabled',
      reason: 'Writes are disabled in cluster local: set rollouts.clusters',
    };
    const { post } = await start({ cluster });
    const res = await post(
      `${BASE}/deployments/restart`,
      asOwner,
      writes[2][1],
    );
    expect(res.status).toBe(403);
    expect(res.body.error.message).toMatch(/set rollouts.clusters/);
    expect(cluster.apiCalls).toEqual([]);
  });

  it('is 503 while the cluster is down or loading, and 404 for a cluster the entity is not in', async () => {
    for (const health of [
      { state: 'error' as const, error: 'unreachable', unavailable: [] },
      { state: 'syncing' as const, unavailable: [] },
    ]) {
      const cluster = demoCluster();
      cluster.currentHealth = health;
      const { post } = await start({ cluster });
      const res = await post(
        `${BASE}/deployments/restart`,
        asOwner,
        writes[2][1],
      );
      expect(res.status).toBe(503);
      expect(cluster.apiCalls).toEqual([]);
    }
    const { post, cluster } = await start();
    const res = await post(`${BASE}/deployments/restart`, asOwner, {
      ...writes[2][1],
      cluster: 'prod',
    });
    expect(res.status).toBe(404);
    expect(cluster.apiCalls).toEqual([]);
  });
});
