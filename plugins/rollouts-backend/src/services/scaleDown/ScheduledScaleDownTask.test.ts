import { mockServices } from '@backstage/backend-test-utils';
import {
  ENTITY_REF_ANNOTATION,
  planScaleDown,
  RESTORE_REPLICAS_ANNOTATION,
  SCALE_DOWN_AT_ANNOTATION,
} from '@golden-path/plugin-rollouts-common';
import {
  demoCluster,
  ENTITY_REF,
  NAMESPACE,
  OWNER,
} from '../../testUtils/demoCluster';
import { FakeCluster, FakeRegistry } from '../../testUtils/FakeCluster';
import {
  asOwner,
  auditTrail,
  BASE,
  startRolloutsBackend as start,
} from '../../testUtils/startRolloutsBackend';
import { ScheduledScaleDownTask } from './ScheduledScaleDownTask';

const SLOT = 'app.kubernetes.io/slot';
const pairBody = {
  cluster: 'local',
  namespace: NAMESPACE,
  service: 'demo-api',
};
const switchBody = { ...pairBody, targetSlot: 'green' };
const blueOf = (cluster: FakeCluster) =>
  cluster.get('deployments', NAMESPACE, 'demo-api-blue')!;
const liveSlot = (cluster: FakeCluster) =>
  cluster.get('services', NAMESPACE, 'demo-api')!.spec!.selector![SLOT];
const deploymentPatches = (cluster: FakeCluster) =>
  cluster.apiCalls
    .filter(c => c.method === 'patchDeployment')
    .map(c => c.args[2]);

/** Blue idle (green live) with a scale-down of blue at `at`. */
function switchedWithSchedule(at: string, replicas = 2) {
  const cluster = demoCluster({ preview: true });
  const svc = cluster.get('services', NAMESPACE, 'demo-api')!;
  svc.spec!.selector![SLOT] = 'green';
  cluster.put('services', svc, false);
  const blue = blueOf(cluster);
  blue.metadata!.annotations![SCALE_DOWN_AT_ANNOTATION] = at;
  blue.metadata!.annotations![RESTORE_REPLICAS_ANNOTATION] = String(replicas);
  cluster.put('deployments', blue, false);
  return cluster;
}

function task(cluster: FakeCluster, now: string) {
  const events: { meta: unknown; outcome?: string; error?: Error }[] = [];
  const auditor = {
    createEvent: jest.fn(async ({ meta }: { meta: unknown }) => {
      const event: (typeof events)[number] = { meta };
      events.push(event);
      return {
        success: async () => {
          event.outcome = 'succeeded';
        },
        fail: async ({ error }: { error: Error }) => {
          event.outcome = 'failed';
          event.error = error;
        },
      };
    }),
  };
  return {
    events,
    task: new ScheduledScaleDownTask({
      clusters: new FakeRegistry([cluster]),
      auditor: auditor as any,
      logger: mockServices.logger.mock(),
      slotLabel: SLOT,
      now: () => Date.parse(now),
    }),
  };
}

describe('ScheduledScaleDownTask', () => {
  const AT = '2026-11-28T10:10:00Z';

  it('scales a due idle slot to 0 with a pinned patch, records the count, and audits it', async () => {
    const cluster = switchedWithSchedule(AT);
    const before = blueOf(cluster);
    const { task: t, events } = task(cluster, AT);
    expect(await t.run()).toEqual([
      {
        cluster: 'local',
        namespace: NAMESPACE,
        deployment: 'demo-api-blue',
        result: 'scaled-down',
      },
    ]);
    // Pinned to the Deployment and its owner, then the pure plan (which
    // tests the schedule, the slot and the count).
    const plan = planScaleDown(before, SLOT);
    expect(plan.allowed).toBe(true);
    expect(deploymentPatches(cluster)).toEqual([
      [
        { op: 'test', path: '/metadata/uid', value: 'uid-blue' },
        {
          op: 'test',
          path: '/metadata/annotations/rollouts.backstage.io~1entity-ref',
          value: ENTITY_REF,
        },
        ...(plan.allowed ? plan.patch : []),
      ],
    ]);
    const blue = blueOf(cluster);
    expect(blue.spec!.replicas).toBe(0);
    expect(blue.metadata!.annotations).toMatchObject({
      [RESTORE_REPLICAS_ANNOTATION]: '2',
    });
    expect(blue.metadata!.annotations![SCALE_DOWN_AT_ANNOTATION]).toBe(
      undefined,
    );
    // Read fresh before the write: the Deployment and the namespace's Services
    // (those in parallel, in no particular order).
    const calls = cluster.apiCalls.map(c => `${c.method} ${c.args[1]}`);
    expect([calls[0], calls[3]]).toEqual([
      'getDeployment demo-api-blue',
      'patchDeployment demo-api-blue',
    ]);
    expect(calls.slice(1, 3).sort()).toEqual([
      'getService demo-api',
      'getService demo-api-preview',
    ]);
    expect(calls).toHaveLength(4);
    expect(events).toEqual([
      {
        meta: {
          entityRef: ENTITY_REF,
          cluster: 'local',
          namespace: NAMESPACE,
          deployment: 'demo-api-blue',
          slot: 'blue',
          action: 'scale-down',
          scheduledFor: AT,
          replicas: 2,
        },
        outcome: 'succeeded',
      },
    ]);
  });

  it('does nothing before the time', async () => {
    const cluster = switchedWithSchedule(AT);
    const { task: t, events } = task(cluster, '2026-11-28T10:09:59Z');
    expect(await t.run()).toEqual([]);
    expect(cluster.apiCalls).toEqual([]);
    expect(events).toEqual([]);
  });

  it('only removes the schedule of a slot that is live again (switched back by another tool)', async () => {
    const cluster = switchedWithSchedule(AT);
    const svc = cluster.get('services', NAMESPACE, 'demo-api')!;
    svc.spec!.selector![SLOT] = 'blue';
    cluster.put('services', svc, false);
    const { task: t, events } = task(cluster, AT);
    expect(await t.run()).toEqual([
      expect.objectContaining({
        result: 'cancelled',
        reason: "slot 'blue' is live again in Service fastapi-demo/demo-api",
      }),
    ]);
    const blue = blueOf(cluster);
    expect(blue.spec!.replicas).toBe(2);
    expect(blue.metadata!.annotations![SCALE_DOWN_AT_ANNOTATION]).toBe(
      undefined,
    );
    expect(events[0]).toMatchObject({
      meta: { action: 'cancel' },
      outcome: 'succeeded',
    });
  });

  it('writes nothing when the slot became live between the cache and the fresh read', async () => {
    const cluster = switchedWithSchedule(AT);
    const { task: t } = task(cluster, AT);
    // The cache says idle; the API server (a switch just now) says live.
    const read = cluster.writer.bind(cluster);
    cluster.writer = token => {
      const api = read(token);
      return {
        ...api,
        getService: async (ns, name) => {
          const svc = await api.getService(ns, name);
          if (name === 'demo-api') svc.spec!.selector![SLOT] = 'blue';
          return svc;
        },
      };
    };
    expect(await t.run()).toEqual([
      expect.objectContaining({ result: 'cancelled' }),
    ]);
    expect(blueOf(cluster).spec!.replicas).toBe(2);
  });

  it('fails, audited, with nothing written when the schedule was cancelled meanwhile', async () => {
    const cluster = switchedWithSchedule(AT);
    cluster.onBeforePatch = () => {
      const blue = blueOf(cluster);
      delete blue.metadata!.annotations![SCALE_DOWN_AT_ANNOTATION];
      cluster.put('deployments', blue);
    };
    const { task: t, events } = task(cluster, AT);
    const [outcome] = await t.run();
    expect(outcome.result).toBe('failed');
    expect(blueOf(cluster).spec!.replicas).toBe(2);
    expect(events[0].outcome).toBe('failed');
  });

  it('does not run where writes use the users’ own credentials, and says so', async () => {
    const cluster = switchedWithSchedule(AT);
    cluster.access = { mode: 'user', authProvider: 'oidc' };
    const { task: t } = task(cluster, AT);
    expect(await t.run()).toEqual([
      expect.objectContaining({
        result: 'skipped',
        reason:
          "writes in cluster 'local' do not use the rollouts plugin's own identity",
      }),
    ]);
    expect(cluster.apiCalls).toEqual([]);
  });

  it('leaves a slot alone whose Services belong to another entity', async () => {
    const cluster = switchedWithSchedule(AT);
    const svc = cluster.get('services', NAMESPACE, 'demo-api')!;
    svc.metadata!.annotations![ENTITY_REF_ANNOTATION] =
      'component:default/other';
    cluster.put('services', svc, false);
    const { task: t } = task(cluster, AT);
    expect(await t.run()).toEqual([
      expect.objectContaining({
        result: 'skipped',
        reason: expect.stringMatching(/is not a slot of a blue-green Service/),
      }),
    ]);
    expect(blueOf(cluster).spec!.replicas).toBe(2);
  });
});

describe('switch with scaleDownDelaySeconds, and rollback', () => {
  it('keeps the old slot running, annotated with when it goes down and how many replicas come back', async () => {
    const cluster = demoCluster({ preview: true });
    const { post, runScheduledScaleDown } = await start({ cluster });
    const before = Date.now();
    const res = await post(`${BASE}/traffic/switch`, asOwner, {
      ...switchBody,
      scaleDownDelaySeconds: 600,
    });
    expect(res.status).toBe(200);
    const at = Date.parse(res.body.scaleDown.at);
    expect(at).toBeGreaterThanOrEqual(
      Math.floor(before / 1000) * 1000 + 600_000,
    );
    expect(at).toBeLessThanOrEqual(Date.now() + 600_000);
    expect(res.body.scaleDown).toEqual({
      slot: 'blue',
      deployment: 'demo-api-blue',
      at: res.body.scaleDown.at,
      replicas: 2,
    });
    expect(deploymentPatches(cluster)).toEqual([
      [
        { op: 'test', path: '/metadata/uid', value: 'uid-blue' },
        {
          op: 'test',
          path: '/metadata/annotations/rollouts.backstage.io~1entity-ref',
          value: ENTITY_REF,
        },
        { op: 'test', path: '/spec/replicas', value: 2 },
        {
          op: 'add',
          path: '/metadata/annotations/rollouts.backstage.io~1scale-down-at',
          value: res.body.scaleDown.at,
        },
        {
          op: 'add',
          path: '/metadata/annotations/rollouts.backstage.io~1restore-replicas',
          value: '2',
        },
      ],
    ]);
    await runScheduledScaleDown();
    expect(blueOf(cluster).spec!.replicas).toBe(2);
  });

  it('rolls back before the time instantly, removing the schedule before traffic moves', async () => {
    const cluster = demoCluster({ preview: true });
    const { post, runScheduledScaleDown } = await start({ cluster });
    await post(`${BASE}/traffic/switch`, asOwner, {
      ...switchBody,
      scaleDownDelaySeconds: 600,
    });
    cluster.apiCalls.length = 0;
    const res = await post(`${BASE}/traffic/rollback`, asOwner, pairBody);
    expect(res.status).toBe(200);
    expect(res.body.cancelledScaleDown).toMatchObject({
      slot: 'blue',
      deployment: 'demo-api-blue',
    });
    expect(res.body.scaledUp).toBeUndefined();
    const writes = cluster.apiCalls
      .filter(c => c.method.startsWith('patch'))
      .map(c => `${c.method} ${c.args[1]}`);
    expect(writes).toEqual([
      'patchDeployment demo-api-blue',
      'patchService demo-api',
      'patchService demo-api-preview',
    ]);
    expect(blueOf(cluster).metadata!.annotations).not.toHaveProperty(
      SCALE_DOWN_AT_ANNOTATION,
    );
    expect(liveSlot(cluster)).toBe('blue');
    await runScheduledScaleDown();
    expect(blueOf(cluster).spec!.replicas).toBe(2);
  });

  it('scales the old slot down when due; a rollback then scales it back up, waits, tests and switches', async () => {
    const cluster = demoCluster({ preview: true });
    const { post, runScheduledScaleDown, audits } = await start({ cluster });
    await post(`${BASE}/traffic/switch`, asOwner, {
      ...switchBody,
      scaleDownDelaySeconds: 0,
    });
    await runScheduledScaleDown();
    expect(blueOf(cluster).spec!.replicas).toBe(0);
    await new Promise(r => setTimeout(r, 20));

    const preflight = await post(`${BASE}/traffic/preflight`, asOwner, {
      ...pairBody,
      action: 'rollback',
    });
    expect(preflight.body).toMatchObject({
      ok: true,
      to: 'blue',
      scaleUpFirst: { slot: 'blue', deployment: 'demo-api-blue', replicas: 2 },
    });
    expect(preflight.body.checks.map((c: any) => [c.id, c.status])).toEqual([
      ['slot', 'pending'],
      ['ownership', 'passed'],
      ['preview', 'pending'],
      ['smoke-test', 'pending'],
    ]);

    const res = await post(`${BASE}/traffic/rollback`, asOwner, pairBody);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      from: 'green',
      to: 'blue',
      scaledUp: { slot: 'blue', deployment: 'demo-api-blue', replicas: 2 },
    });
    expect(res.body.checks.map((c: any) => c.status)).toEqual([
      'passed',
      'passed',
      'passed',
      'passed',
    ]);
    expect(blueOf(cluster).spec!.replicas).toBe(2);
    expect(blueOf(cluster).metadata!.annotations).not.toHaveProperty(
      RESTORE_REPLICAS_ANNOTATION,
    );
    expect(liveSlot(cluster)).toBe('blue');
    const scaleDown = auditTrail(audits).find(
      a => a.eventId === 'traffic-scale-down' && a.status === 'succeeded',
    );
    expect(scaleDown).toMatchObject({
      actor: 'plugin:rollouts',
      meta: { entityRef: ENTITY_REF, deployment: 'demo-api-blue' },
    });
    expect(auditTrail(audits).map(a => a.actor)).toContain(OWNER);
  });

  it('refuses a rollback whose scaled-up slot is not ready in time, leaving traffic where it is', async () => {
    const cluster = demoCluster({ preview: true });
    const { post, runScheduledScaleDown } = await start({
      cluster,
      config: { switchTimeoutSeconds: 0.3 },
    });
    await post(`${BASE}/traffic/switch`, asOwner, {
      ...switchBody,
      scaleDownDelaySeconds: 0,
    });
    await runScheduledScaleDown();
    await new Promise(r => setTimeout(r, 20));
    cluster.deploymentControllerDelayMs = undefined; // the pods never come
    const res = await post(`${BASE}/traffic/rollback`, asOwner, pairBody);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toBe(
      "Slot 'blue' was scaled back up to 2 replicas, but it was not ready for traffic within 0.3 s, so traffic was not moved. Roll back again once it is ready.",
    );
    expect(liveSlot(cluster)).toBe('green');
  });

  it('is 400 for a bad delay, and where writes use the user’s own credentials', async () => {
    const cluster = demoCluster({ preview: true });
    const { post } = await start({ cluster });
    for (const scaleDownDelaySeconds of [-1, 1.5, 604801, '60']) {
      const res = await post(`${BASE}/traffic/switch`, asOwner, {
        ...switchBody,
        scaleDownDelaySeconds,
      });
      expect(res.status).toBe(400);
    }
    cluster.access = { mode: 'user', authProvider: 'oidc' };
    const res = await post(
      `${BASE}/traffic/switch`,
      asOwner,
      { ...switchBody, scaleDownDelaySeconds: 60 },
      { 'Backstage-Kubernetes-Authorization-oidc': 'users-token' },
    );
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(
      /A delayed scale-down runs later, without you/,
    );
    expect(cluster.apiCalls.filter(c => c.method.startsWith('patch'))).toEqual(
      [],
    );
  });
});
