/*
 * ResourceQuota admission: the API server itself rejects a pod that would exceed the
 * namespace quota ("exceeded quota"), requires requests/limits when the quota tracks
 * them, and LimitRanger defaults fill them in. A Deployment that asks for more than
 * the quota allows gets only the pods that fit; its ReplicaSet reports FailedCreate.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { V1Pod } from '@kubernetes/client-node';
import {
  Clients,
  clients,
  col,
  createTestNamespace,
  deleteTestNamespace,
  expectApiError,
  restrictedPodTemplate,
  waitForList,
  waitForObject,
} from './kube';

const QUOTA = 'team-quota';

function pod(name: string, cpu: string, memory = '64Mi'): V1Pod {
  const t = restrictedPodTemplate(
    { app: name },
    'ghcr.io/example/fastapi-demo:1.0.0',
    {
      cpu,
      memory,
    },
  );
  return { metadata: { name, labels: t.metadata?.labels }, spec: t.spec };
}

describe('ResourceQuota and LimitRange admission', () => {
  let c: Clients;
  let ns: string;

  beforeAll(async () => {
    c = clients();
    ns = await createTestNamespace(c.core, 'quota');
    await c.core.createNamespacedResourceQuota({
      namespace: ns,
      body: {
        metadata: { name: QUOTA },
        spec: {
          hard: {
            pods: '5',
            'requests.cpu': '500m',
            'requests.memory': '512Mi',
            'limits.cpu': '500m',
            'limits.memory': '512Mi',
          },
        },
      },
    });
    // Admission only enforces a quota once the quota controller has published
    // status.hard; until then it refuses pods ("status unknown for quota").
    await waitForObject(
      col.resourceQuotas(ns),
      QUOTA,
      q => q.status?.hard?.['requests.cpu'] !== undefined,
      30_000,
      'quota status to be calculated',
    );
  });

  afterAll(async () => {
    if (ns) await deleteTestNamespace(c.core, ns);
  });

  it('admits pods within the quota and rejects the one that exceeds it', async () => {
    await c.core.createNamespacedPod({
      namespace: ns,
      body: pod('first', '300m'),
    });

    const { code, status } = await expectApiError(() =>
      c.core.createNamespacedPod({
        namespace: ns,
        body: pod('too-big', '300m'),
      }),
    );
    expect(code).toBe(403);
    expect(status.reason).toBe('Forbidden');
    // The API server's own wording (plugin/pkg/admission/resourcequota).
    expect(status.message).toContain(
      `pods "too-big" is forbidden: exceeded quota: ${QUOTA}`,
    );
    expect(status.message).toMatch(/requested: .*requests\.cpu=300m/);
    expect(status.message).toMatch(/used: .*requests\.cpu=300m/);
    expect(status.message).toMatch(/limited: .*requests\.cpu=500m/);

    // Exactly the remaining 200m still fits.
    await c.core.createNamespacedPod({
      namespace: ns,
      body: pod('fits', '200m'),
    });

    const quota = await waitForObject(
      col.resourceQuotas(ns),
      QUOTA,
      q => q.status?.used?.pods === '2',
      30_000,
      'quota usage to count two pods',
    );
    expect(quota.status.used['requests.cpu']).toBe('500m');
    expect(quota.status.used['limits.cpu']).toBe('500m');
  });

  it('requires requests/limits under a quota until a LimitRange provides defaults', async () => {
    const noResources: V1Pod = pod('no-resources', '10m');
    delete noResources.spec!.containers[0].resources;

    // Free the quota first so only the missing resources can be the reason.
    await c.core.deleteNamespacedPod({
      namespace: ns,
      name: 'first',
      gracePeriodSeconds: 0,
    });
    await c.core.deleteNamespacedPod({
      namespace: ns,
      name: 'fits',
      gracePeriodSeconds: 0,
    });
    await waitForObject(
      col.resourceQuotas(ns),
      QUOTA,
      q => q.status?.used?.pods === '0',
      60_000,
      'quota usage to drop to zero pods',
    );

    const { code, status } = await expectApiError(() =>
      c.core.createNamespacedPod({ namespace: ns, body: noResources }),
    );
    expect(code).toBe(403);
    expect(status.message).toContain(`failed quota: ${QUOTA}: must specify`);
    expect(status.message).toMatch(/limits\.cpu/);

    await c.core.createNamespacedLimitRange({
      namespace: ns,
      body: {
        metadata: { name: 'defaults' },
        spec: {
          limits: [
            {
              type: 'Container',
              defaultRequest: { cpu: '100m', memory: '64Mi' },
              _default: { cpu: '200m', memory: '128Mi' },
            },
          ],
        },
      },
    });
    const created = await c.core.createNamespacedPod({
      namespace: ns,
      body: noResources,
    });
    expect(created.spec?.containers[0].resources).toEqual({
      requests: { cpu: '100m', memory: '64Mi' },
      limits: { cpu: '200m', memory: '128Mi' },
    });
    await c.core.deleteNamespacedPod({
      namespace: ns,
      name: 'no-resources',
      gracePeriodSeconds: 0,
    });
  });

  it('a Deployment over quota gets only the pods that fit and reports FailedCreate', async () => {
    await waitForObject(
      col.resourceQuotas(ns),
      QUOTA,
      q => q.status?.used?.pods === '0',
      60_000,
      'quota usage to drop to zero pods',
    );
    const labels = { app: 'greedy' };
    await c.apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'greedy' },
        spec: {
          replicas: 4,
          selector: { matchLabels: labels },
          template: restrictedPodTemplate(
            labels,
            'ghcr.io/example/fastapi-demo:1.0.0',
            {
              cpu: '200m',
              memory: '64Mi',
            },
          ),
        },
      },
    });

    const rss = await waitForList(
      col.replicaSets(ns),
      { labelSelector: 'app=greedy' },
      items =>
        [...items.values()].some(rs =>
          (rs.status?.conditions ?? []).some(
            (cond: any) =>
              cond.type === 'ReplicaFailure' && cond.status === 'True',
          ),
        ),
      60_000,
      'ReplicaSet to report ReplicaFailure',
    );
    const rs = [...rss.values()][0];
    const failure = rs.status.conditions.find(
      (x: any) => x.type === 'ReplicaFailure',
    );
    expect(failure.reason).toBe('FailedCreate');
    expect(failure.message).toContain(`exceeded quota: ${QUOTA}`);

    // 500m / 200m -> exactly two pods could be admitted.
    const pods = (
      await c.core.listNamespacedPod({
        namespace: ns,
        labelSelector: 'app=greedy',
      })
    ).items;
    expect(pods).toHaveLength(2);
  });
});
