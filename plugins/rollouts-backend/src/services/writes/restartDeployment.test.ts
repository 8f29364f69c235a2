import { ENTITY_REF_ANNOTATION } from '@golden-path/plugin-rollouts-common';
import {
  demoCluster,
  ENTITY_REF,
  NAMESPACE,
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
  deployment: 'demo-api-blue',
};
const patches = (calls: { method: string }[]) =>
  calls.filter(c => c.method.startsWith('patch'));
const restartedAt = (cluster: ReturnType<typeof demoCluster>) =>
  cluster.get('deployments', NAMESPACE, 'demo-api-blue')!.spec!.template!
    .metadata!.annotations?.['kubectl.kubernetes.io/restartedAt'];

describe('POST .../deployments/restart', () => {
  it('stamps the pod template with a patch pinned to the Deployment it read', async () => {
    const { post, cluster, audits } = await start();
    const res = await post(`${BASE}/deployments/restart`, asOwner, body);
    expect(res.status).toBe(200);
    expect(restartedAt(cluster)).toBe(res.body.restartedAt);
    expect(res.body.restartedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(cluster.apiCalls.map(c => c.method)).toEqual([
      'getDeployment',
      'patchDeployment',
    ]);
    expect(cluster.apiCalls[1].args[2]).toEqual([
      { op: 'test', path: '/metadata/uid', value: 'uid-blue' },
      {
        op: 'test',
        path: '/metadata/annotations/rollouts.backstage.io~1entity-ref',
        value: ENTITY_REF,
      },
      {
        op: 'add',
        path: '/spec/template/metadata/annotations',
        value: { 'kubectl.kubernetes.io/restartedAt': res.body.restartedAt },
      },
    ]);
    expect(auditTrail(audits).map(a => [a.eventId, a.status])).toEqual([
      ['deployment-restart', 'initiated'],
      ['deployment-restart', 'succeeded'],
    ]);
  });

  it('refuses a paused Deployment, writing nothing', async () => {
    const cluster = demoCluster();
    const d = cluster.get('deployments', NAMESPACE, 'demo-api-blue')!;
    d.spec!.paused = true;
    cluster.put('deployments', d, false);
    const { post } = await start({ cluster });
    const res = await post(`${BASE}/deployments/restart`, asOwner, body);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/kubectl rollout resume/);
    expect(patches(cluster.apiCalls)).toEqual([]);
  });

  it('is 404 for a Deployment of another entity and 403 for a stranger', async () => {
    const { post, cluster } = await start();
    const foreign = await post(`${BASE}/deployments/restart`, asOwner, {
      ...body,
      deployment: 'other-app',
    });
    expect(foreign.status).toBe(404);
    const stranger = await post(
      `${BASE}/deployments/restart`,
      asStranger,
      body,
    );
    expect(stranger.status).toBe(403);
    expect(patches(cluster.apiCalls)).toEqual([]);
  });

  it('is 409 with nothing written when the Deployment is re-created or changes owner between read and patch', async () => {
    for (const race of ['recreated', 'relabelled'] as const) {
      const cluster = demoCluster();
      cluster.onBeforePatch = () => {
        const d = cluster.get('deployments', NAMESPACE, 'demo-api-blue')!;
        if (race === 'recreated') d.metadata!.uid = 'uid-blue-new';
        else
          d.metadata!.annotations![ENTITY_REF_ANNOTATION] =
            'component:default/evil';
        cluster.put('deployments', d);
      };
      const { post } = await start({ cluster });
      const res = await post(`${BASE}/deployments/restart`, asOwner, body);
      expect(res.status).toBe(409);
      expect(restartedAt(cluster)).toBeUndefined();
    }
  });
});
