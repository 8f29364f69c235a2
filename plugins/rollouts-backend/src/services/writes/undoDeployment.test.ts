import { ENTITY_REF_ANNOTATION } from '@golden-path/plugin-rollouts-common';
import {
  demoCluster,
  ENTITY_REF,
  NAMESPACE,
  replicaSet,
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
const image = (cluster: ReturnType<typeof demoCluster>) =>
  cluster.get('deployments', NAMESPACE, 'demo-api-blue')!.spec!.template!.spec!
    .containers[0].image;

describe('POST .../deployments/undo', () => {
  it('rolls back to the previous revision with a patch pinned to the Deployment it read', async () => {
    const { post, cluster, audits } = await start();
    const res = await post(`${BASE}/deployments/undo`, asOwner, body);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      fromRevision: '2',
      toRevision: '1',
      skipped: false,
    });
    expect(image(cluster)).toBe('ghcr.io/example/fastapi-demo:0.9.0');
    const d = cluster.get('deployments', NAMESPACE, 'demo-api-blue')!;
    expect(
      d.spec!.template!.metadata!.labels!['pod-template-hash'],
    ).toBeUndefined();
    // The ownership annotation survives the undo.
    expect(d.metadata!.annotations![ENTITY_REF_ANNOTATION]).toBe(ENTITY_REF);
    const ops = cluster.apiCalls.find(c => c.method === 'patchDeployment')!
      .args[2] as { op: string; path: string }[];
    expect(ops.slice(0, 3)).toEqual([
      { op: 'test', path: '/metadata/uid', value: 'uid-blue' },
      {
        op: 'test',
        path: '/metadata/annotations/rollouts.backstage.io~1entity-ref',
        value: ENTITY_REF,
      },
      { op: 'test', path: '/metadata/generation', value: 2 },
    ]);
    expect(auditTrail(audits).map(a => [a.eventId, a.status])).toEqual([
      ['deployment-undo', 'initiated'],
      ['deployment-undo', 'succeeded'],
    ]);
  });

  it('goes to the revision the user chose, not the one before the current', async () => {
    const cluster = demoCluster();
    const blue = cluster.get('deployments', NAMESPACE, 'demo-api-blue')!;
    // Revisions 3 (current), 2 and 1: the dialog showed and sent 1.
    blue.metadata!.annotations!['deployment.kubernetes.io/revision'] = '3';
    cluster.put('deployments', blue, false);
    cluster.put(
      'replicasets',
      replicaSet(blue, '3', 'b3b3b3', 'ghcr.io/example/fastapi-demo:1.1.0'),
      false,
    );
    const { post } = await start({ cluster });
    const res = await post(`${BASE}/deployments/undo`, asOwner, {
      ...body,
      toRevision: '1',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ fromRevision: '3', toRevision: '1' });
    expect(image(cluster)).toBe('ghcr.io/example/fastapi-demo:0.9.0');
  });

  it('is 400 for an unknown revision and 403 for a stranger, writing nothing', async () => {
    const { post, cluster } = await start();
    const unknown = await post(`${BASE}/deployments/undo`, asOwner, {
      ...body,
      toRevision: '7',
    });
    expect(unknown.status).toBe(400);
    const stranger = await post(`${BASE}/deployments/undo`, asStranger, body);
    expect(stranger.status).toBe(403);
    expect(patches(cluster.apiCalls)).toEqual([]);
  });

  it('is 409 with nothing written when the Deployment is re-created between read and patch', async () => {
    const cluster = demoCluster();
    cluster.onBeforePatch = () => {
      const d = cluster.get('deployments', NAMESPACE, 'demo-api-blue')!;
      d.metadata!.uid = 'uid-blue-new';
      cluster.put('deployments', d);
    };
    const { post } = await start({ cluster });
    const res = await post(`${BASE}/deployments/undo`, asOwner, body);
    expect(res.status).toBe(409);
    expect(image(cluster)).toBe('ghcr.io/example/fastapi-demo:1.0.0');
  });
});
