import { mockCredentials } from '@backstage/backend-test-utils';
import { ENTITY_REF, NAMESPACE, OWNER } from '../../testUtils/demoCluster';
import {
  asOwner,
  auditTrail,
  BASE,
  startRolloutsBackend as start,
} from '../../testUtils/startRolloutsBackend';

const body = {
  cluster: 'local',
  namespace: NAMESPACE,
  deployment: 'demo-api-blue',
};

describe('WriteRunner (through the write routes)', () => {
  it('audits every attempt before reading credentials: service token, no token, invalid token', async () => {
    const { post, audits, cluster } = await start();
    const attempts: [string | undefined, number][] = [
      [mockCredentials.service.header(), 403],
      [mockCredentials.none.header(), 401],
      ['Bearer not-a-valid-token', 401],
    ];
    for (const [authorization, status] of attempts) {
      const res = await post(
        `${BASE}/deployments/restart`,
        authorization,
        body,
      );
      expect(res.status).toBe(status);
    }
    const meta = { entityRef: ENTITY_REF };
    expect(auditTrail(audits)).toEqual([
      // A service token: the auditor names the service, the write refuses it.
      {
        eventId: 'deployment-restart',
        status: 'initiated',
        actor: 'external:test-service',
        meta,
      },
      {
        eventId: 'deployment-restart',
        status: 'failed',
        actor: 'external:test-service',
        meta,
        error: 'NotAllowedError',
      },
      // No credentials: recorded without an actor.
      {
        eventId: 'deployment-restart',
        status: 'initiated',
        actor: undefined,
        meta,
      },
      {
        eventId: 'deployment-restart',
        status: 'failed',
        actor: undefined,
        meta,
        error: 'AuthenticationError',
      },
      // An invalid token: the auditor cannot read it; recorded as such.
      ...['initiated', 'failed'].map(status => ({
        eventId: 'deployment-restart',
        status,
        actor: 'plugin:rollouts',
        meta: {
          ...meta,
          credentials: 'invalid',
          method: 'POST',
          path: `${BASE}/deployments/restart`,
          ip: expect.any(String),
        },
        ...(status === 'failed' && { error: 'AuthenticationError' }),
      })),
    ]);
    expect(cluster.apiCalls).toEqual([]);
  });

  it('records only validated fields, never the raw body', async () => {
    const { post, audits } = await start();
    const invalid = await post(`${BASE}/deployments/restart`, asOwner, {
      ...body,
      namespace: 'x'.repeat(300),
      password: 'hunter2',
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.message).toMatch(/namespace/);
    expect(invalid.body.error.message).not.toContain('xxxxxxxx');
    expect(auditTrail(audits).slice(0, 2)).toEqual([
      {
        eventId: 'deployment-restart',
        status: 'initiated',
        actor: OWNER,
        meta: { entityRef: ENTITY_REF },
      },
      {
        eventId: 'deployment-restart',
        status: 'failed',
        actor: OWNER,
        meta: { entityRef: ENTITY_REF },
        error: 'InputError',
      },
    ]);
    expect(JSON.stringify(audits)).not.toContain('hunter2');

    const ok = await post(`${BASE}/deployments/restart`, asOwner, {
      ...body,
      comment: '<script>alert(1)</script>',
    });
    expect(ok.status).toBe(200);
    expect(auditTrail(audits)[3]).toEqual({
      eventId: 'deployment-restart',
      status: 'succeeded',
      actor: OWNER,
      meta: {
        entityRef: ENTITY_REF,
        request: body,
        result: expect.objectContaining({ deployment: 'demo-api-blue' }),
      },
    });
    expect(JSON.stringify(audits)).not.toContain('script');
  });

  it('records the validated request with a failure after validation', async () => {
    const { post, audits } = await start();
    const res = await post(`${BASE}/deployments/undo`, asOwner, {
      ...body,
      toRevision: '7',
    });
    expect(res.status).toBe(400);
    expect(auditTrail(audits)[1]).toEqual({
      eventId: 'deployment-undo',
      status: 'failed',
      actor: OWNER,
      meta: { entityRef: ENTITY_REF, request: { ...body, toRevision: '7' } },
      error: 'InputError',
    });
  });
});
