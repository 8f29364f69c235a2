import { OFFLINE_RUN, serveScaleWorkload } from './apiStandIn';
import { FULL_SIZE, scaleApps } from './scaleWorkload';

const size = { ...FULL_SIZE, deployments: 7, namespaces: 3 };

async function listAll(server: string, path: string, limit: number) {
  const items: any[] = [];
  let next: string | undefined;
  do {
    const query = `limit=${limit}${next ? `&continue=${next}` : ''}`;
    const page = await (await fetch(`${server}${path}?${query}`)).json();
    items.push(...page.items);
    next = page.metadata.continue;
  } while (next);
  return items;
}

describe('the offline stand-in for the API server', () => {
  const apps = scaleApps(OFFLINE_RUN, size);
  let standIn: Awaited<ReturnType<typeof serveScaleWorkload>>;
  let server: string;
  beforeAll(async () => {
    standIn = await serveScaleWorkload(apps, size);
    server = standIn.kubeConfig.getCurrentCluster()!.server;
  });
  afterAll(() => standIn.close());

  it('lists every object once, whatever the page size', async () => {
    for (const limit of [1, 4, 11, 500]) {
      const rss = await listAll(server, '/apis/apps/v1/replicasets', limit);
      expect(rss).toHaveLength(7 * 11);
      expect(new Set(rss.map(rs => rs.metadata.uid)).size).toBe(7 * 11);
      const pods = await listAll(server, '/api/v1/pods', limit);
      expect(new Set(pods.map(p => p.metadata.uid)).size).toBe(7 * 5);
    }
  });

  it("chains owners: pods to their Deployment's current ReplicaSet, ReplicaSets to their Deployment", async () => {
    const deployments = await listAll(server, '/apis/apps/v1/deployments', 3);
    const rss = await listAll(server, '/apis/apps/v1/replicasets', 500);
    const pods = await listAll(server, '/api/v1/pods', 500);
    const byUid = new Map(
      [...deployments, ...rss].map(o => [o.metadata.uid, o]),
    );
    for (const p of pods) {
      const rs = byUid.get(p.metadata.ownerReferences[0].uid);
      expect(rs.metadata.annotations['deployment.kubernetes.io/revision']).toBe(
        '11',
      );
      const d = byUid.get(rs.metadata.ownerReferences[0].uid);
      expect(d.metadata.name).toBe(rs.metadata.ownerReferences[0].name);
      expect(p.metadata.namespace).toBe(d.metadata.namespace);
    }
  });

  it("serves pods with KWOK's status and the API server's additions", async () => {
    const [pod] = await listAll(server, '/api/v1/pods', 1);
    expect(pod.apiVersion).toBeUndefined();
    expect(pod.metadata.managedFields.map((m: any) => m.manager)).toEqual([
      'node-fetch',
      'kwok',
    ]);
    expect(pod.status).toMatchObject({
      phase: 'Running',
      qosClass: 'Burstable',
      containerStatuses: [
        {
          name: 'api',
          ready: true,
          restartCount: 0,
          imageID: '',
          lastState: {},
        },
      ],
    });
    expect(pod.status.containerStatuses[0].started).toBeUndefined();
    expect(pod.status.conditions.map((c: any) => c.type)).toEqual([
      'Initialized',
      'Ready',
      'ContainersReady',
    ]);
    expect(pod.spec.tolerations).toHaveLength(3);
  });

  it('serves nothing for kinds it was not asked to serve', async () => {
    const only = await serveScaleWorkload(apps, size, ['pods']);
    try {
      const url = only.kubeConfig.getCurrentCluster()!.server;
      expect(await listAll(url, '/apis/apps/v1/replicasets', 5)).toEqual([]);
      expect(await listAll(url, '/api/v1/pods', 5)).toHaveLength(35);
    } finally {
      only.close();
    }
  });
});
