import request from 'supertest';
import { demoCluster, ENTITY_REF } from './testUtils/demoCluster';
import {
  asStranger,
  BASE,
  startRolloutsBackend as start,
} from './testUtils/startRolloutsBackend';

describe('GET /entity/:kind/:namespace/:name/status', () => {
  it('answers from the cache with rollouts, probes, quotas, HPAs and blue-green state', async () => {
    const { server, cluster } = await start();
    const res = await request(server)
      .get(`${BASE}/status`)
      .set('Authorization', asStranger);
    expect(res.status).toBe(200);
    expect(cluster.apiCalls).toEqual([]);
    expect(res.body.entityRef).toBe(ENTITY_REF);
    expect(res.body.slotLabel).toBe('app.kubernetes.io/slot');
    const [c] = res.body.clusters;
    expect(c).toMatchObject({
      cluster: 'local',
      state: 'ok',
      writes: { mode: 'plugin' },
    });
    expect(c.stale).toBeUndefined();
    expect(c.unavailable).toBeUndefined();
    expect(res.body.skippedClusters).toEqual([]);
    expect(res.body.liveUpdates).toEqual({ keepaliveIntervalMs: 15000 });
    // other-app is in the namespace but not the entity's
    expect(c.deployments.map((d: any) => d.name)).toEqual([
      'demo-api-blue',
      'demo-api-green',
    ]);
    const blue = c.deployments[0];
    expect(blue.status).toMatchObject({ phase: 'complete', revision: '2' });
    expect(blue.hpa).toBe('demo-api-blue');
    expect(blue.history.map((h: any) => h.revision)).toEqual(['2', '1']);
    expect(blue.pods).toHaveLength(2);
    expect(blue.probes[0].probes.map((p: any) => p.kind)).toEqual([
      'liveness',
      'readiness',
    ]);
    expect(c.blueGreen[0]).toMatchObject({
      service: 'demo-api',
      liveSlot: 'blue',
      trafficSlots: ['blue'],
    });
    expect(c.quotas[0].usages[0]).toMatchObject({
      resource: 'requests.cpu',
      percent: 20,
    });
    expect(c.limitRanges[0].entries[0]).toMatchObject({
      resource: 'memory',
      defaultLimit: '512Mi',
    });
    expect(c.hpas[0]).toMatchObject({ name: 'demo-api-blue', maxReplicas: 4 });
    expect(c.warningEvents).toEqual([
      expect.objectContaining({ reason: 'Unhealthy', count: 4 }),
    ]);
  });

  it('reports a cluster that never synced as down without failing the request', async () => {
    const cluster = demoCluster();
    cluster.currentHealth = {
      state: 'error',
      error: "The cluster's API server cannot be reached (listing pods).",
      unavailable: [],
    };
    const { server } = await start({ cluster });
    const res = await request(server).get(`${BASE}/status`);
    expect(res.status).toBe(200);
    expect(res.body.clusters[0]).toMatchObject({
      state: 'error',
      error: "The cluster's API server cannot be reached (listing pods).",
      deployments: [],
    });
    expect(res.body.clusters[0].stale).toBeUndefined();
  });

  it('shows the last known state of a cluster that dropped, marked stale', async () => {
    const cluster = demoCluster();
    cluster.currentHealth = {
      state: 'error',
      error: "The cluster's API server cannot be reached (listing pods).",
      staleSince: Date.parse('2026-11-29T10:00:00Z'),
      unavailable: [],
    };
    const { server } = await start({ cluster });
    const res = await request(server).get(`${BASE}/status`);
    const [c] = res.body.clusters;
    expect(c).toMatchObject({
      state: 'error',
      stale: { since: '2026-11-29T10:00:00.000Z' },
    });
    expect(c.deployments.map((d: any) => d.name)).toEqual([
      'demo-api-blue',
      'demo-api-green',
    ]);
    expect(c.blueGreen[0].liveSlot).toBe('blue');
  });

  it('says which optional kinds it cannot read, which clusters it skips and how writes authenticate', async () => {
    const cluster = demoCluster();
    cluster.currentHealth = {
      state: 'ok',
      unavailable: [{ kind: 'events', state: 'forbidden' }],
    };
    cluster.access = {
      mode: 'user',
      authProvider: 'oidc',
      oidcTokenProvider: 'okta',
    };
    const skipped = [{ name: 'catalog locator', reason: 'not read' }];
    const { server } = await start({ cluster, skipped });
    const res = await request(server).get(`${BASE}/status`);
    expect(res.body.clusters[0]).toMatchObject({
      state: 'ok',
      unavailable: [{ kind: 'events', state: 'forbidden' }],
      writes: { mode: 'user', authProvider: 'oidc', oidcTokenProvider: 'okta' },
    });
    expect(res.body.skippedClusters).toEqual(skipped);
  });

  it('is 403 when the read permission is denied', async () => {
    const { server } = await start({ canRead: false });
    const res = await request(server).get(`${BASE}/status`);
    expect(res.status).toBe(403);
    expect(res.body.error.name).toBe('NotAllowedError');
    // The catalog is asked at the same time; the denial still wins, so a
    // denied user cannot tell which entities exist.
    const unknown = await request(server).get(
      '/api/rollouts/entity/component/default/nope/status',
    );
    expect(unknown.status).toBe(403);
  });

  it('is 404 for an unknown entity and 400 for an entity without Kubernetes annotations', async () => {
    const { server } = await start();
    expect(
      (
        await request(server).get(
          '/api/rollouts/entity/component/default/nope/status',
        )
      ).status,
    ).toBe(404);
    const res = await request(server).get(
      '/api/rollouts/entity/component/default/no-kube/status',
    );
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/backstage.io\/kubernetes-id/);
  });

  it('signals the open page when one of its objects changes', async () => {
    const { server, cluster, signals } = await start();
    await request(server).get(`${BASE}/status`).expect(200);
    const pod = cluster.list('pods')[0];
    cluster.put('pods', { ...pod, status: { ...pod.status, phase: 'Failed' } });
    await new Promise(r => setTimeout(r, 1300));
    const changed = cluster
      .list('pods')
      .find(p => p.metadata?.name === pod.metadata?.name);
    expect(signals.publish).toHaveBeenCalledTimes(1);
    expect(signals.publish).toHaveBeenCalledWith({
      recipients: { type: 'broadcast' },
      channel: `rollouts:${ENTITY_REF}`,
      message: {
        type: 'changed',
        cluster: 'local',
        resourceVersion: changed?.metadata?.resourceVersion,
      },
    });
    expect(changed?.metadata?.resourceVersion).not.toBe(
      pod.metadata?.resourceVersion,
    );
  });
});

describe('the scheduled scale-down task', () => {
  it('is registered with the scheduler at the configured interval', async () => {
    const { scheduler } = await start({
      config: { scaleDownCheckSeconds: 15 },
    });
    expect(scheduler.scheduleTask).toHaveBeenCalledWith(
      expect.objectContaining({
        id: 'rollouts-scheduled-scale-down',
        frequency: { seconds: 15 },
        timeout: { minutes: 2 },
      }),
    );
  });
});
