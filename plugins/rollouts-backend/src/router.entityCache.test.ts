/*
 * The status route's shared entity cache: what it may serve to whom, and
 * that writes never read from it.
 */
import { Entity } from '@backstage/catalog-model';
import request from 'supertest';
import { demoEntity, NAMESPACE } from './testUtils/demoCluster';
import {
  asOwner,
  asStranger,
  BASE,
  STRANGER,
  startRolloutsBackend as start,
} from './testUtils/startRolloutsBackend';

/** A copy of the demo entity the test may change, as the catalog would. */
const changeableEntity = (): Entity => structuredClone(demoEntity);

describe('status route entity cache', () => {
  it('never serves an entity it loaded for one user to a user the catalog hides it from', async () => {
    const { server, authorize, getEntityByRef } = await start({
      hiddenFrom: [STRANGER],
    });
    const owner = await request(server)
      .get(`${BASE}/status`)
      .set('Authorization', asOwner);
    expect(owner.status).toBe(200);
    const stranger = await request(server)
      .get(`${BASE}/status`)
      .set('Authorization', asStranger);
    // As the catalog answers an entity the user may not read.
    expect(stranger.status).toBe(404);
    expect(stranger.body.error.name).toBe('NotFoundError');
    // The catalog was asked once, with the plugin's own credentials...
    expect(getEntityByRef).toHaveBeenCalledTimes(1);
    expect(getEntityByRef.mock.calls[0][1].credentials.principal).toMatchObject(
      { type: 'service', subject: 'plugin:rollouts' },
    );
    // ...and each request asked for its own user's decisions, in one batch.
    expect(
      authorize.mock.calls.map(([requests, { credentials }]) => ({
        user: credentials.principal.userEntityRef,
        permissions: requests.map((r: any) =>
          `${r.permission.name} ${r.resourceRef ?? ''}`.trim(),
        ),
      })),
    ).toEqual([
      {
        user: 'user:default/owner',
        permissions: [
          'rollouts.status.read',
          'catalog.entity.read component:default/fastapi-demo',
        ],
      },
      {
        user: STRANGER,
        permissions: [
          'rollouts.status.read',
          'catalog.entity.read component:default/fastapi-demo',
        ],
      },
    ]);
  });

  it('does not read an entity for a user who may not see it', async () => {
    const { server, getEntityByRef } = await start({ hiddenFrom: [STRANGER] });
    const res = await request(server)
      .get(`${BASE}/status`)
      .set('Authorization', asStranger);
    // The same answer as for an entity that does not exist.
    expect(res.status).toBe(404);
    expect(res.body.error.message).toBe(
      'Entity component:default/fastapi-demo not found',
    );
    expect(getEntityByRef).not.toHaveBeenCalled();
  });

  it('serves a changed entity until its entry expires, and fresh with Cache-Control: no-cache', async () => {
    const entity = changeableEntity();
    const { server } = await start({ entities: [entity] });
    const status = (headers: Record<string, string> = {}) =>
      request(server)
        .get(`${BASE}/status`)
        .set({ Authorization: asStranger, ...headers });
    expect((await status()).status).toBe(200);
    delete entity.metadata.annotations;
    // Within rollouts.entityCacheSeconds (5 s by default) the cached entity
    // still selects the workloads...
    expect((await status()).status).toBe(200);
    // ...while a fresh read sees the change at once.
    const fresh = await status({ 'Cache-Control': 'no-cache' });
    expect(fresh.status).toBe(400);
    expect(fresh.body.error.message).toMatch(/backstage.io\/kubernetes-id/);
  });

  it('reads the entity fresh on every request when entityCacheSeconds is 0', async () => {
    const entity = changeableEntity();
    const { server } = await start({
      entities: [entity],
      config: { entityCacheSeconds: 0 },
    });
    const status = () =>
      request(server).get(`${BASE}/status`).set('Authorization', asStranger);
    expect((await status()).status).toBe(200);
    delete entity.metadata.annotations;
    expect((await status()).status).toBe(400);
  });

  it('lets writes read the entity fresh while the status still serves it cached', async () => {
    const entity = changeableEntity();
    const { server, post, cluster } = await start({ entities: [entity] });
    const status = () =>
      request(server).get(`${BASE}/status`).set('Authorization', asOwner);
    expect((await status()).status).toBe(200);
    delete entity.metadata.annotations;
    expect((await status()).status).toBe(200);
    const write = await post(`${BASE}/deployments/restart`, asOwner, {
      cluster: 'local',
      namespace: NAMESPACE,
      deployment: 'demo-api-blue',
    });
    expect(write.status).toBe(400);
    expect(write.body.error.message).toMatch(/backstage.io\/kubernetes-id/);
    expect(cluster.apiCalls).toEqual([]);
  });
});
