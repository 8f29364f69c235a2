import {
  ENTITY_REF_ANNOTATION,
  PREVIOUS_SLOT_ANNOTATION,
} from '@golden-path/plugin-rollouts-common';
import {
  demoCluster,
  ENTITY_REF,
  NAMESPACE,
  OWNER,
} from '../../testUtils/demoCluster';
import {
  asOwner,
  asStranger,
  auditTrail,
  BASE,
  startRolloutsBackend as start,
} from '../../testUtils/startRolloutsBackend';

const body = {
  cluster: 'local',
  namespace: NAMESPACE,
  service: 'demo-api',
  targetSlot: 'green',
};
const slotOf = (cluster: ReturnType<typeof demoCluster>) =>
  cluster.get('services', NAMESPACE, 'demo-api')!.spec!.selector![
    'app.kubernetes.io/slot'
  ];
const patches = (calls: { method: string }[]) =>
  calls.filter(c => c.method.startsWith('patch'));

describe('POST .../traffic/switch', () => {
  it('switches as the owner with a patch pinned to the Service it read, then waits for the endpoints', async () => {
    const { post, cluster, audits, authorize } = await start();
    const res = await post(`${BASE}/traffic/switch`, asOwner, body);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      from: 'blue',
      to: 'green',
      endpointsConverged: true,
    });
    expect(res.body.elapsedMs).toEqual(expect.any(Number));
    expect(slotOf(cluster)).toBe('green');
    const svc = cluster.get('services', NAMESPACE, 'demo-api')!;
    expect(svc.metadata!.annotations![PREVIOUS_SLOT_ANNOTATION]).toBe('blue');

    // Read fresh, then one patch: pinned to the UID and owner, then the switch.
    expect(cluster.apiCalls.map(c => c.method)).toEqual([
      'getService',
      'patchService',
    ]);
    expect(cluster.apiCalls[1].args[2]).toEqual([
      { op: 'test', path: '/metadata/uid', value: 'uid-svc' },
      {
        op: 'test',
        path: '/metadata/annotations/rollouts.backstage.io~1entity-ref',
        value: ENTITY_REF,
      },
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
        path: '/metadata/annotations/rollouts.backstage.io~1previous-slot',
        value: 'blue',
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
    expect(auditTrail(audits)).toEqual([
      {
        eventId: 'traffic-switch',
        status: 'initiated',
        actor: OWNER,
        meta: { entityRef: ENTITY_REF },
      },
      {
        eventId: 'traffic-switch',
        status: 'succeeded',
        actor: OWNER,
        meta: {
          entityRef: ENTITY_REF,
          request: body,
          result: expect.objectContaining({ from: 'blue', to: 'green' }),
        },
      },
    ]);
  });

  it('is 403 for a user who does not own the entity, with no Kubernetes call and a failed audit event', async () => {
    const { post, cluster, audits } = await start();
    const res = await post(`${BASE}/traffic/switch`, asStranger, body);
    expect(res.status).toBe(403);
    expect(cluster.apiCalls).toEqual([]);
    expect(slotOf(cluster)).toBe('blue');
    expect(auditTrail(audits)[1]).toEqual({
      eventId: 'traffic-switch',
      status: 'failed',
      actor: 'user:default/stranger',
      meta: { entityRef: ENTITY_REF, request: body },
      error: 'NotAllowedError',
    });
    expect(audits).toHaveLength(2);
  });

  it('refuses to switch to a slot that is not available, writing nothing', async () => {
    const cluster = demoCluster({ greenAvailable: 1 });
    const { post } = await start({ cluster });
    const res = await post(`${BASE}/traffic/switch`, asOwner, body);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toBe(
      'Slot \'green\' (Deployment demo-api-green) is not ready for traffic: Waiting for deployment "demo-api-green" rollout to finish: 1 of 2 updated replicas are available....',
    );
    expect(patches(cluster.apiCalls)).toEqual([]);
  });

  it('is 400 for an unknown slot and 404 for a Service of another entity', async () => {
    const cluster = demoCluster();
    cluster.put('services', {
      metadata: {
        name: 'foreign',
        namespace: NAMESPACE,
        uid: 'uid-foreign',
        labels: { app: 'other' },
      },
      spec: { selector: { app: 'other', 'app.kubernetes.io/slot': 'blue' } },
    });
    const { post } = await start({ cluster });
    const unknown = await post(`${BASE}/traffic/switch`, asOwner, {
      ...body,
      targetSlot: 'purple',
    });
    expect(unknown.status).toBe(400);
    const foreign = await post(`${BASE}/traffic/switch`, asOwner, {
      ...body,
      service: 'foreign',
    });
    expect(foreign.status).toBe(404);
    expect(patches(cluster.apiCalls)).toEqual([]);
  });

  it('is 409 with nothing written when the selector changed meanwhile', async () => {
    const { post, cluster, audits } = await start();
    // The user saw green live, but the Service says blue.
    const res = await post(`${BASE}/traffic/switch`, asOwner, {
      ...body,
      targetSlot: 'blue',
      expectedCurrentSlot: 'green',
    });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/nothing was written/);
    expect(slotOf(cluster)).toBe('blue');
    expect(
      cluster.get('services', NAMESPACE, 'demo-api')!.metadata!.annotations,
    ).toEqual({ [ENTITY_REF_ANNOTATION]: ENTITY_REF });
    expect(auditTrail(audits)[1]).toMatchObject({
      status: 'failed',
      error: 'ConflictError',
    });
  });

  it('is 409 with nothing written when the Service is re-created or changes owner between read and patch', async () => {
    for (const race of ['recreated', 'relabelled'] as const) {
      const cluster = demoCluster();
      cluster.onBeforePatch = () => {
        const svc = cluster.get('services', NAMESPACE, 'demo-api')!;
        if (race === 'recreated') svc.metadata!.uid = 'uid-svc-new';
        else
          svc.metadata!.annotations![ENTITY_REF_ANNOTATION] =
            'component:default/evil';
        cluster.put('services', svc);
      };
      const { post } = await start({ cluster });
      const res = await post(`${BASE}/traffic/switch`, asOwner, body);
      expect(res.status).toBe(409);
      expect(res.body.error.message).toMatch(
        /no longer the one this change was planned for .*nothing was written/,
      );
      expect(slotOf(cluster)).toBe('blue');
    }
  });

  it('switches a Service whose live slot has no Deployment (an outage) to a ready slot', async () => {
    const cluster = demoCluster();
    const svc = cluster.get('services', NAMESPACE, 'demo-api')!;
    svc.spec!.selector!['app.kubernetes.io/slot'] = 'purple';
    cluster.put('services', svc);
    cluster.reconcileEndpoints(NAMESPACE, 'demo-api');
    const { post } = await start({ cluster });
    const res = await post(`${BASE}/traffic/switch`, asOwner, {
      ...body,
      expectedCurrentSlot: 'purple',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ from: 'purple', to: 'green' });
    expect(slotOf(cluster)).toBe('green');
  });

  it('refuses to move traffic to a slot whose Deployment belongs to another entity', async () => {
    const cluster = demoCluster();
    const green = cluster.get('deployments', NAMESPACE, 'demo-api-green')!;
    green.metadata!.annotations![ENTITY_REF_ANNOTATION] =
      'component:default/other';
    cluster.put('deployments', green, false);
    const { post } = await start({ cluster });
    const res = await post(`${BASE}/traffic/switch`, asOwner, body);
    expect(res.status).toBe(403);
    expect(res.body.error.message).toMatch(
      /Traffic would move to slot 'green': Deployment fastapi-demo\/demo-api-green belongs to 'component:default\/other'/,
    );
    expect(patches(cluster.apiCalls)).toEqual([]);
  });

  it('reports when the endpoints did not converge before the timeout', async () => {
    const cluster = demoCluster();
    cluster.endpointControllerDelayMs = undefined;
    const { post } = await start({
      cluster,
      config: { switchTimeoutSeconds: 0.3 },
    });
    const res = await post(`${BASE}/traffic/switch`, asOwner, body);
    expect(res.status).toBe(200);
    expect(res.body.endpointsConverged).toBe(false);
    expect(res.body.elapsedMs).toBeGreaterThanOrEqual(290);
  });
});

describe('POST .../traffic/rollback', () => {
  const rollback = {
    cluster: 'local',
    namespace: NAMESPACE,
    service: 'demo-api',
  };

  it('switches back to the recorded previous slot', async () => {
    const { post, cluster, audits } = await start();
    expect((await post(`${BASE}/traffic/switch`, asOwner, body)).status).toBe(
      200,
    );
    const res = await post(`${BASE}/traffic/rollback`, asOwner, rollback);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      from: 'green',
      to: 'blue',
      endpointsConverged: true,
    });
    expect(slotOf(cluster)).toBe('blue');
    expect(
      cluster.get('services', NAMESPACE, 'demo-api')!.metadata!.annotations![
        PREVIOUS_SLOT_ANNOTATION
      ],
    ).toBe('green');
    expect(auditTrail(audits).map(a => [a.eventId, a.status])).toEqual([
      ['traffic-switch', 'initiated'],
      ['traffic-switch', 'succeeded'],
      ['traffic-rollback', 'initiated'],
      ['traffic-rollback', 'succeeded'],
    ]);
  });

  it('is 409 when nothing was switched before, and 403 for a stranger', async () => {
    const { post, cluster } = await start();
    const none = await post(`${BASE}/traffic/rollback`, asOwner, rollback);
    expect(none.status).toBe(409);
    expect(none.body.error.message).toMatch(/nothing to roll back to/);
    const stranger = await post(
      `${BASE}/traffic/rollback`,
      asStranger,
      rollback,
    );
    expect(stranger.status).toBe(403);
    expect(patches(cluster.apiCalls)).toEqual([]);
  });
});
