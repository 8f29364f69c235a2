import { ENTITY_REF_ANNOTATION } from '@golden-path/plugin-rollouts-common';
import request from 'supertest';
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

const SLOT = 'app.kubernetes.io/slot';
const pairBody = {
  cluster: 'local',
  namespace: NAMESPACE,
  service: 'demo-api',
};
const switchBody = { ...pairBody, targetSlot: 'green' };
const slotOf = (
  cluster: ReturnType<typeof demoCluster>,
  service = 'demo-api',
) => cluster.get('services', NAMESPACE, service)!.spec!.selector![SLOT];
const calls = (cluster: ReturnType<typeof demoCluster>) =>
  cluster.apiCalls.map(c => `${c.method} ${c.args[1]}`);
const patches = (cluster: ReturnType<typeof demoCluster>) =>
  cluster.apiCalls.filter(c => c.method.startsWith('patch'));

describe('the preview Service in status', () => {
  it('shows one pair with its live slot, idle slot and preview, not the preview as a second pair', async () => {
    const { server } = await start({ cluster: demoCluster({ preview: true }) });
    const res = await request(server)
      .get(`${BASE}/status`)
      .set('Authorization', asStranger);
    const pairs = res.body.clusters[0].blueGreen;
    expect(pairs).toHaveLength(1);
    expect(pairs[0]).toMatchObject({
      service: 'demo-api',
      liveSlot: 'blue',
      idleSlot: 'green',
      preview: {
        service: 'demo-api-preview',
        selectorSlot: 'green',
        endpoints: { green: 2 },
        notReadyEndpoints: 0,
        unknownEndpoints: 0,
      },
    });
  });
});

describe('POST .../traffic/switch with a preview Service', () => {
  it('runs the script checks with a smoke test through the preview, switches, then points the preview at the slot left', async () => {
    const cluster = demoCluster({ preview: true });
    const { post, audits } = await start({ cluster });
    const res = await post(`${BASE}/traffic/switch`, asOwner, switchBody);
    expect(res.status).toBe(200);
    expect(res.body.checks.map((c: any) => [c.id, c.status])).toEqual([
      ['slot', 'passed'],
      ['ownership', 'passed'],
      ['preview', 'passed'],
      ['smoke-test', 'passed'],
    ]);
    expect(res.body.checks[3].message).toBe(
      '5/5 GET /health through demo-api-preview answered 200 with version 2.0.0.',
    );
    expect(res.body.preview).toEqual({
      service: 'demo-api-preview',
      repointed: true,
      from: 'green',
      to: 'blue',
      endpointsConverged: true,
    });
    expect(slotOf(cluster)).toBe('green');
    expect(slotOf(cluster, 'demo-api-preview')).toBe('blue');

    // Read both fresh, smoke-test through the preview, then the two patches.
    expect(calls(cluster)).toEqual([
      'getService demo-api',
      'getService demo-api-preview',
      ...Array(5).fill('getThroughServiceProxy demo-api-preview'),
      'patchService demo-api',
      'patchService demo-api-preview',
    ]);
    expect(cluster.apiCalls[2].args).toEqual([
      NAMESPACE,
      'demo-api-preview',
      'http',
      '/health',
    ]);
    expect(patches(cluster)[1].args[2]).toEqual([
      { op: 'test', path: '/metadata/uid', value: 'uid-svc-preview' },
      {
        op: 'test',
        path: '/metadata/annotations/rollouts.backstage.io~1entity-ref',
        value: ENTITY_REF,
      },
      {
        op: 'test',
        path: '/spec/selector/app.kubernetes.io~1slot',
        value: 'green',
      },
      {
        op: 'replace',
        path: '/spec/selector/app.kubernetes.io~1slot',
        value: 'blue',
      },
    ]);
    expect(auditTrail(audits)[1]).toMatchObject({
      eventId: 'traffic-switch',
      status: 'succeeded',
      actor: OWNER,
      meta: {
        result: expect.objectContaining({
          preview: expect.objectContaining({ repointed: true }),
        }),
      },
    });
  });

  it('rolls back both: the live Service to blue and the preview to green', async () => {
    const cluster = demoCluster({ preview: true });
    const { post } = await start({ cluster });
    expect(
      (await post(`${BASE}/traffic/switch`, asOwner, switchBody)).status,
    ).toBe(200);
    const res = await post(`${BASE}/traffic/rollback`, asOwner, pairBody);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ from: 'green', to: 'blue' });
    // The rollback target was smoke-tested through the preview, which showed blue.
    expect(res.body.checks[3]).toMatchObject({
      status: 'passed',
      message:
        '5/5 GET /health through demo-api-preview answered 200 with version 1.0.0.',
    });
    expect(slotOf(cluster)).toBe('blue');
    expect(slotOf(cluster, 'demo-api-preview')).toBe('green');
  });

  it('refuses when the smoke test fails, after the first bad answer, writing nothing', async () => {
    const cluster = demoCluster({ preview: true });
    let answered = 0;
    cluster.serviceProxy = () =>
      ++answered === 2
        ? { status: 500, body: 'Internal Server Error' }
        : { status: 200, body: '{"version": "2.0.0"}' };
    const { post, audits } = await start({ cluster });
    const res = await post(`${BASE}/traffic/switch`, asOwner, switchBody);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toBe(
      'smoke test: GET /health through demo-api-preview answered 500 (request 2 of 5): Internal Server Error',
    );
    expect(answered).toBe(2);
    expect(patches(cluster)).toEqual([]);
    expect(auditTrail(audits)[1]).toMatchObject({
      status: 'failed',
      error: 'ConflictError',
    });
  });

  it('refuses a target that answers with another version', async () => {
    const cluster = demoCluster({ preview: true });
    cluster.serviceProxy = () => ({ status: 200, body: '{"version":"1.0.0"}' });
    const { post } = await start({ cluster });
    const res = await post(`${BASE}/traffic/switch`, asOwner, switchBody);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(
      /answered 200 but not version 2\.0\.0 of slot 'green' \(request 1 of 5\)/,
    );
    expect(slotOf(cluster)).toBe('blue');
  });

  it('says which RBAC verb is missing when the identity may not use the service proxy', async () => {
    const cluster = demoCluster({ preview: true });
    cluster.serviceProxy = () => ({
      status: 403,
      body: JSON.stringify({
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        message:
          'services "demo-api-preview" is forbidden: User "system:serviceaccount:x:y" cannot get resource "services/proxy"',
        reason: 'Forbidden',
        code: 403,
      }),
    });
    const { post } = await start({ cluster });
    const res = await post(`${BASE}/traffic/switch`, asOwner, switchBody);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(
      /RBAC: get on services\/proxy in namespace fastapi-demo/,
    );
    expect(res.body.error.message).not.toMatch(/serviceaccount/);
  });

  it('refuses when the preview does not select the target, without a smoke test', async () => {
    const cluster = demoCluster({ preview: true });
    const preview = cluster.get('services', NAMESPACE, 'demo-api-preview')!;
    preview.spec!.selector![SLOT] = 'blue';
    cluster.put('services', preview);
    cluster.reconcileEndpoints(NAMESPACE, 'demo-api-preview');
    const { post } = await start({ cluster });
    const res = await post(`${BASE}/traffic/switch`, asOwner, switchBody);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(
      /^The preview Service demo-api-preview selects slot 'blue', not 'green'/,
    );
    expect(calls(cluster)).not.toContain(
      'getThroughServiceProxy demo-api-preview',
    );
    expect(patches(cluster)).toEqual([]);
  });

  it('refuses when the preview routes to a pod that is not ready', async () => {
    const cluster = demoCluster({ preview: true });
    const slice = cluster.get(
      'endpointslices',
      NAMESPACE,
      'demo-api-preview-abcde',
    )!;
    slice.endpoints![1].conditions = { ready: false };
    cluster.put('endpointslices', slice);
    const { post } = await start({ cluster });
    const res = await post(`${BASE}/traffic/switch`, asOwner, switchBody);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toBe(
      "The preview Service demo-api-preview must route only to ready endpoints of slot 'green'; its EndpointSlices hold: blue=0 green=1 unknown=0 not-ready=1.",
    );
  });

  it('is 403 when the preview Service names another entity, writing nothing', async () => {
    const cluster = demoCluster({ preview: true });
    const preview = cluster.get('services', NAMESPACE, 'demo-api-preview')!;
    preview.metadata!.annotations![ENTITY_REF_ANNOTATION] =
      'component:default/other';
    cluster.put('services', preview);
    const { post } = await start({ cluster });
    const res = await post(`${BASE}/traffic/switch`, asOwner, switchBody);
    expect(res.status).toBe(403);
    expect(res.body.error.message).toMatch(
      /^The preview Service would test slot 'green': Service fastapi-demo\/demo-api-preview belongs to 'component:default\/other'/,
    );
    expect(patches(cluster)).toEqual([]);
  });

  it('still switches when the preview changed meanwhile, and says it was not repointed', async () => {
    const cluster = demoCluster({ preview: true });
    cluster.onBeforePatch = () => {
      if (patches(cluster).length < 2) return;
      const preview = cluster.get('services', NAMESPACE, 'demo-api-preview')!;
      preview.metadata!.uid = 'uid-recreated';
      cluster.put('services', preview);
    };
    const { post } = await start({ cluster });
    const res = await post(`${BASE}/traffic/switch`, asOwner, switchBody);
    expect(res.status).toBe(200);
    expect(slotOf(cluster)).toBe('green');
    expect(res.body.preview).toEqual({
      service: 'demo-api-preview',
      repointed: false,
      reason: expect.stringMatching(/nothing was written/),
    });
    expect(slotOf(cluster, 'demo-api-preview')).toBe('green');
  });

  it('is 400 for the preview Service itself', async () => {
    const cluster = demoCluster({ preview: true });
    const { post } = await start({ cluster });
    const res = await post(`${BASE}/traffic/switch`, asOwner, {
      ...switchBody,
      service: 'demo-api-preview',
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe(
      "Service fastapi-demo/demo-api-preview is the preview of 'demo-api' (rollouts.backstage.io/preview-of): switch that Service; its preview follows.",
    );
  });

  it('switches a pair without a preview Service, saying the target could not be tested first', async () => {
    const cluster = demoCluster();
    const { post } = await start({ cluster });
    const res = await post(`${BASE}/traffic/switch`, asOwner, switchBody);
    expect(res.status).toBe(200);
    expect(res.body.checks.map((c: any) => [c.id, c.status])).toEqual([
      ['slot', 'passed'],
      ['ownership', 'passed'],
      ['preview', 'skipped'],
      ['smoke-test', 'skipped'],
    ]);
    expect(res.body.preview).toBeUndefined();
  });
});

describe('POST .../traffic/preflight', () => {
  it('returns every check with the smoke test, writes nothing, and is audited', async () => {
    const cluster = demoCluster({ preview: true });
    const { post, audits } = await start({ cluster });
    const res = await post(`${BASE}/traffic/preflight`, asOwner, {
      ...pairBody,
      action: 'switch',
      targetSlot: 'green',
      expectedCurrentSlot: 'blue',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      from: 'blue',
      to: 'green',
      ok: true,
      checks: [
        { id: 'slot', status: 'passed' },
        { id: 'ownership', status: 'passed' },
        { id: 'preview', status: 'passed' },
        {
          id: 'smoke-test',
          status: 'passed',
          message:
            '5/5 GET /health through demo-api-preview answered 200 with version 2.0.0.',
        },
      ],
    });
    expect(patches(cluster)).toEqual([]);
    expect(auditTrail(audits).map(a => [a.eventId, a.status])).toEqual([
      ['traffic-preflight', 'initiated'],
      ['traffic-preflight', 'succeeded'],
    ]);
    expect(audits[0].severityLevel).toBe('low');
  });

  it('reports failed checks with ok false, the smoke test skipped', async () => {
    const cluster = demoCluster({ preview: true, greenAvailable: 1 });
    const { post } = await start({ cluster });
    const res = await post(`${BASE}/traffic/preflight`, asOwner, {
      ...pairBody,
      action: 'switch',
      targetSlot: 'green',
    });
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(false);
    expect(res.body.checks.map((c: any) => [c.id, c.status])).toEqual([
      ['slot', 'failed'],
      ['ownership', 'passed'],
      ['preview', 'passed'],
      ['smoke-test', 'skipped'],
    ]);
    expect(res.body.checks[3].message).toBe(
      'Not run: an earlier check failed.',
    );
    expect(calls(cluster)).not.toContain(
      'getThroughServiceProxy demo-api-preview',
    );
  });

  it('checks the rollback target, and is 409 when there is none', async () => {
    const cluster = demoCluster({ preview: true });
    const { post } = await start({ cluster });
    const none = await post(`${BASE}/traffic/preflight`, asOwner, {
      ...pairBody,
      action: 'rollback',
    });
    expect(none.status).toBe(409);
    await post(`${BASE}/traffic/switch`, asOwner, switchBody);
    const res = await post(`${BASE}/traffic/preflight`, asOwner, {
      ...pairBody,
      action: 'rollback',
    });
    expect(res.body).toMatchObject({ from: 'green', to: 'blue', ok: true });
  });

  it('is 403 for a stranger, with no Kubernetes call', async () => {
    const cluster = demoCluster({ preview: true });
    const { post } = await start({ cluster });
    const res = await post(`${BASE}/traffic/preflight`, asStranger, {
      ...pairBody,
      action: 'switch',
      targetSlot: 'green',
    });
    expect(res.status).toBe(403);
    expect(cluster.apiCalls).toEqual([]);
  });

  it('is 400 for a body without an action', async () => {
    const { post } = await start();
    const res = await post(`${BASE}/traffic/preflight`, asOwner, pairBody);
    expect(res.status).toBe(400);
  });
});
