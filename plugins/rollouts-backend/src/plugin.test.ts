import { createServiceFactory } from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { signalsServiceRef } from '@backstage/plugin-signals-node';
import { PREVIOUS_SLOT_ANNOTATION } from '@internal/plugin-rollouts-common';
import request from 'supertest';
import { rolloutsPlugin } from './plugin';
import { rolloutsClusterRegistryServiceRef } from './services/clusters/serviceRef';
import { FakeCluster, FakeRegistry } from './testing/FakeCluster';
import {
  demoCluster,
  demoEntity,
  ENTITY_REF,
  NAMESPACE,
  OWNER,
} from './testing/demoCluster';

const STRANGER = 'user:default/stranger';
const BASE = '/api/rollouts/entity/component/default/fastapi-demo';

interface AuditRecord {
  options: { eventId: string; meta?: any };
  success: jest.Mock;
  fail: jest.Mock;
}

async function start(
  options: {
    cluster?: FakeCluster;
    canRead?: boolean;
    config?: object;
  } = {},
) {
  const cluster = options.cluster ?? demoCluster();
  const audits: AuditRecord[] = [];
  const auditor = mockServices.auditor.mock({
    createEvent: jest.fn(async eventOptions => {
      const record: AuditRecord = {
        options: eventOptions as AuditRecord['options'],
        success: jest.fn(async () => {}),
        fail: jest.fn(async () => {}),
      };
      audits.push(record);
      return record;
    }),
  });
  // The owner may write; everyone signed in may read unless canRead is false.
  const authorize = jest.fn(async (requests: any[], { credentials }: any) =>
    requests.map(r => {
      const user = credentials.principal.userEntityRef;
      if (r.permission.name === 'rollouts.status.read') {
        return {
          result:
            options.canRead === false
              ? AuthorizeResult.DENY
              : AuthorizeResult.ALLOW,
        };
      }
      return {
        result:
          user === OWNER && r.resourceRef === ENTITY_REF
            ? AuthorizeResult.ALLOW
            : AuthorizeResult.DENY,
      };
    }),
  );
  const permissions = mockServices.permissions.mock({ authorize } as any);
  const signals = { publish: jest.fn(async () => {}) };
  const { server } = await startTestBackend({
    features: [
      rolloutsPlugin,
      catalogServiceMock.factory({
        entities: [
          demoEntity,
          {
            ...demoEntity,
            metadata: { name: 'no-kube', namespace: 'default' },
          },
        ],
      }),
      auditor.factory,
      permissions.factory,
      mockServices.rootConfig.factory({
        data: { rollouts: { switchTimeoutSeconds: 2, ...options.config } },
      }),
      createServiceFactory({
        service: signalsServiceRef,
        deps: {},
        factory: () => signals,
      }),
      createServiceFactory({
        service: rolloutsClusterRegistryServiceRef,
        deps: {},
        factory: () => new FakeRegistry([cluster]),
      }),
    ],
  });
  return { server, cluster, audits, authorize, signals };
}

const asOwner = mockCredentials.user.header(OWNER);
const asStranger = mockCredentials.user.header(STRANGER);

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
    expect(c).toMatchObject({ cluster: 'local', state: 'ok' });
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

  it('reports a cluster that is down without failing the request', async () => {
    const cluster = demoCluster();
    cluster.currentHealth = {
      state: 'error',
      error: 'Cannot list/watch pods: connect ECONNREFUSED 10.0.0.1:6443',
    };
    const { server } = await start({ cluster });
    const res = await request(server).get(`${BASE}/status`);
    expect(res.status).toBe(200);
    expect(res.body.clusters[0]).toMatchObject({
      state: 'error',
      error: 'Cannot list/watch pods: connect ECONNREFUSED 10.0.0.1:6443',
      deployments: [],
    });
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
    expect(signals.publish).toHaveBeenCalledTimes(1);
    expect(signals.publish).toHaveBeenCalledWith({
      recipients: { type: 'broadcast' },
      channel: `rollouts:${ENTITY_REF}`,
      message: { type: 'changed', cluster: 'local' },
    });
  });
});

describe('POST .../traffic/switch', () => {
  const body = {
    cluster: 'local',
    namespace: NAMESPACE,
    service: 'demo-api',
    targetSlot: 'green',
  };

  it('switches as the owner, waits for the endpoints and audits success', async () => {
    const { server, cluster, audits, authorize } = await start();
    const res = await request(server)
      .post(`${BASE}/traffic/switch`)
      .set('Authorization', asOwner)
      .send(body);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      from: 'blue',
      to: 'green',
      endpointsConverged: true,
    });
    expect(res.body.elapsedMs).toEqual(expect.any(Number));

    const svc = cluster.get('services', NAMESPACE, 'demo-api')!;
    expect(svc.spec!.selector!['app.kubernetes.io/slot']).toBe('green');
    expect(svc.metadata!.annotations![PREVIOUS_SLOT_ANNOTATION]).toBe('blue');
    expect(cluster.apiCalls[0].args[2]).toEqual([
      {
        op: 'test',
        path: '/spec/selector/app.kubernetes.io~1slot',
        value: 'blue',
      },
      {
        op: 'replace',
        path: '/spec/selector/app.kubernetes.io~1slot',
        value: 'green',
      },
      {
        op: 'add',
        path: '/metadata/annotations',
        value: { [PREVIOUS_SLOT_ANNOTATION]: 'blue' },
      },
    ]);

    // Authorized with the user's credentials, on the entity
    const [requests, { credentials }] = authorize.mock.calls[0];
    expect(requests).toEqual([
      {
        permission: expect.objectContaining({
          name: 'rollouts.traffic.switch',
        }),
        resourceRef: ENTITY_REF,
      },
    ]);
    expect(credentials.principal.userEntityRef).toBe(OWNER);

    expect(audits).toHaveLength(1);
    expect(audits[0].options).toMatchObject({
      eventId: 'traffic-switch',
      meta: { entityRef: ENTITY_REF, request: body },
    });
    expect(audits[0].success).toHaveBeenCalledWith({
      meta: { result: expect.objectContaining({ from: 'blue', to: 'green' }) },
    });
    expect(audits[0].fail).not.toHaveBeenCalled();
  });

  it('is 403 for a user who does not own the entity, with no Kubernetes call and a failed audit event', async () => {
    const { server, cluster, audits } = await start();
    const res = await request(server)
      .post(`${BASE}/traffic/switch`)
      .set('Authorization', asStranger)
      .send(body);
    expect(res.status).toBe(403);
    expect(cluster.apiCalls).toEqual([]);
    expect(
      cluster.get('services', NAMESPACE, 'demo-api')!.spec!.selector![
        'app.kubernetes.io/slot'
      ],
    ).toBe('blue');
    expect(audits[0].fail).toHaveBeenCalledWith({
      error: expect.objectContaining({ name: 'NotAllowedError' }),
    });
    expect(audits[0].success).not.toHaveBeenCalled();
  });

  it('accepts only user credentials', async () => {
    const { server, cluster } = await start();
    const asService = await request(server)
      .post(`${BASE}/traffic/switch`)
      .set('Authorization', mockCredentials.service.header())
      .send(body);
    expect(asService.status).toBe(403);
    const anonymous = await request(server)
      .post(`${BASE}/traffic/switch`)
      .set('Authorization', mockCredentials.none.header())
      .send(body);
    expect(anonymous.status).toBe(401);
    expect(cluster.apiCalls).toEqual([]);
  });

  it('rejects an invalid body with 400 and audits the failure', async () => {
    const { server, audits, cluster } = await start();
    const res = await request(server)
      .post(`${BASE}/traffic/switch`)
      .set('Authorization', asOwner)
      .send({ cluster: 'local', service: 'demo-api' });
    expect(res.status).toBe(400);
    expect(res.body.error.name).toBe('InputError');
    expect(res.body.error.message).toMatch(/namespace/);
    expect(audits[0].fail).toHaveBeenCalled();
    expect(cluster.apiCalls).toEqual([]);
  });

  it('refuses to switch to a slot that is not available, writing nothing', async () => {
    const { server, cluster } = await start({
      cluster: demoCluster({ greenAvailable: 1 }),
    });
    const res = await request(server)
      .post(`${BASE}/traffic/switch`)
      .set('Authorization', asOwner)
      .send(body);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toBe(
      'Slot \'green\' (Deployment demo-api-green) is not ready for traffic: Waiting for deployment "demo-api-green" rollout to finish: 1 of 2 updated replicas are available....',
    );
    expect(cluster.apiCalls).toEqual([]);
  });

  it('is 400 for an unknown slot and 404 for a Service of another entity', async () => {
    const cluster = demoCluster();
    cluster.put('services', {
      metadata: {
        name: 'foreign',
        namespace: NAMESPACE,
        labels: { app: 'other' },
      },
      spec: { selector: { app: 'other', 'app.kubernetes.io/slot': 'blue' } },
    });
    const { server } = await start({ cluster });
    const unknown = await request(server)
      .post(`${BASE}/traffic/switch`)
      .set('Authorization', asOwner)
      .send({ ...body, targetSlot: 'purple' });
    expect(unknown.status).toBe(400);
    const foreign = await request(server)
      .post(`${BASE}/traffic/switch`)
      .set('Authorization', asOwner)
      .send({ ...body, service: 'foreign' });
    expect(foreign.status).toBe(404);
    expect(cluster.apiCalls).toEqual([]);
  });

  it('maps a failed JSON Patch test (selector changed meanwhile) to 409 and writes nothing', async () => {
    const { server, cluster, audits } = await start();
    const res = await request(server)
      .post(`${BASE}/traffic/switch`)
      .set('Authorization', asOwner)
      // The user saw green live, but the Service says blue.
      .send({ ...body, targetSlot: 'blue', expectedCurrentSlot: 'green' });
    expect(res.status).toBe(409);
    expect(res.body.error.name).toBe('ConflictError');
    expect(res.body.error.message).toMatch(/nothing was written/);
    expect(cluster.apiCalls.map(c => c.method)).toEqual(['patchService']);
    const svc = cluster.get('services', NAMESPACE, 'demo-api')!;
    expect(svc.spec!.selector!['app.kubernetes.io/slot']).toBe('blue');
    expect(svc.metadata!.annotations).toBeUndefined();
    expect(audits[0].fail).toHaveBeenCalledWith({
      error: expect.objectContaining({ name: 'ConflictError' }),
    });
  });

  it('reports when the endpoints did not converge before the timeout', async () => {
    const cluster = demoCluster();
    cluster.endpointControllerDelayMs = undefined;
    const { server } = await start({
      cluster,
      config: { switchTimeoutSeconds: 0.3 },
    });
    const res = await request(server)
      .post(`${BASE}/traffic/switch`)
      .set('Authorization', asOwner)
      .send(body);
    expect(res.status).toBe(200);
    expect(res.body.endpointsConverged).toBe(false);
    expect(res.body.elapsedMs).toBeGreaterThanOrEqual(290);
  });

  it('is 503 while the cluster is down', async () => {
    const cluster = demoCluster();
    cluster.currentHealth = { state: 'error', error: 'connection refused' };
    const { server } = await start({ cluster });
    const res = await request(server)
      .post(`${BASE}/traffic/switch`)
      .set('Authorization', asOwner)
      .send(body);
    expect(res.status).toBe(503);
    expect(cluster.apiCalls).toEqual([]);
  });
});

describe('POST .../traffic/rollback', () => {
  const body = { cluster: 'local', namespace: NAMESPACE, service: 'demo-api' };

  it('switches back to the recorded previous slot', async () => {
    const { server, cluster, audits } = await start();
    await request(server)
      .post(`${BASE}/traffic/switch`)
      .set('Authorization', asOwner)
      .send({ ...body, targetSlot: 'green' })
      .expect(200);
    const res = await request(server)
      .post(`${BASE}/traffic/rollback`)
      .set('Authorization', asOwner)
      .send(body);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      from: 'green',
      to: 'blue',
      endpointsConverged: true,
    });
    const svc = cluster.get('services', NAMESPACE, 'demo-api')!;
    expect(svc.spec!.selector!['app.kubernetes.io/slot']).toBe('blue');
    expect(svc.metadata!.annotations![PREVIOUS_SLOT_ANNOTATION]).toBe('green');
    expect(audits.map(a => a.options.eventId)).toEqual([
      'traffic-switch',
      'traffic-rollback',
    ]);
  });

  it('is 409 when nothing was switched before', async () => {
    const { server, cluster } = await start();
    const res = await request(server)
      .post(`${BASE}/traffic/rollback`)
      .set('Authorization', asOwner)
      .send(body);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/nothing to roll back to/);
    expect(cluster.apiCalls).toEqual([]);
  });

  it('is 403 for a stranger', async () => {
    const { server, cluster } = await start();
    const res = await request(server)
      .post(`${BASE}/traffic/rollback`)
      .set('Authorization', asStranger)
      .send(body);
    expect(res.status).toBe(403);
    expect(cluster.apiCalls).toEqual([]);
  });
});

describe('POST .../deployments/restart and undo', () => {
  const body = {
    cluster: 'local',
    namespace: NAMESPACE,
    deployment: 'demo-api-blue',
  };

  it('restarts by stamping the pod template', async () => {
    const { server, cluster, audits } = await start();
    const res = await request(server)
      .post(`${BASE}/deployments/restart`)
      .set('Authorization', asOwner)
      .send(body);
    expect(res.status).toBe(200);
    const stamp = cluster.get('deployments', NAMESPACE, 'demo-api-blue')!.spec!
      .template!.metadata!.annotations!['kubectl.kubernetes.io/restartedAt'];
    expect(stamp).toBe(res.body.restartedAt);
    expect(stamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(cluster.apiCalls[0]).toMatchObject({
      method: 'patchDeployment',
      args: [NAMESPACE, 'demo-api-blue', expect.any(Object), 'merge'],
    });
    expect(audits[0].options.eventId).toBe('deployment-restart');
    expect(audits[0].success).toHaveBeenCalled();
  });

  it('rolls back to the previous revision', async () => {
    const { server, cluster, audits } = await start();
    const res = await request(server)
      .post(`${BASE}/deployments/undo`)
      .set('Authorization', asOwner)
      .send(body);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      fromRevision: '2',
      toRevision: '1',
      skipped: false,
    });
    const d = cluster.get('deployments', NAMESPACE, 'demo-api-blue')!;
    expect(d.spec!.template!.spec!.containers[0].image).toBe(
      'ghcr.io/example/fastapi-demo:0.9.0',
    );
    expect(
      d.spec!.template!.metadata!.labels!['pod-template-hash'],
    ).toBeUndefined();
    expect(audits[0].options.eventId).toBe('deployment-undo');
  });

  it('is 400 for an unknown revision and 404 for a Deployment of another entity', async () => {
    const { server } = await start();
    const unknown = await request(server)
      .post(`${BASE}/deployments/undo`)
      .set('Authorization', asOwner)
      .send({ ...body, toRevision: '7' });
    expect(unknown.status).toBe(400);
    const foreign = await request(server)
      .post(`${BASE}/deployments/restart`)
      .set('Authorization', asOwner)
      .send({ ...body, deployment: 'other-app' });
    expect(foreign.status).toBe(404);
  });

  it('denies strangers before touching the cluster', async () => {
    const { server, cluster, audits } = await start();
    for (const path of ['restart', 'undo']) {
      const res = await request(server)
        .post(`${BASE}/deployments/${path}`)
        .set('Authorization', asStranger)
        .send(body);
      expect(res.status).toBe(403);
    }
    expect(cluster.apiCalls).toEqual([]);
    expect(audits.map(a => a.fail.mock.calls.length)).toEqual([1, 1]);
  });
});
