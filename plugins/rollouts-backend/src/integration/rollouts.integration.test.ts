/*
 * Integration tests against a real API server (with kube-controller-manager for
 * the Deployment and EndpointSlice controllers, e.g. platform/cluster.sh).
 * They run only when KUBECONFIG is set:
 *
 *   eval "$(platform/cluster.sh env)"
 *   yarn workspace @golden-path/plugin-rollouts-backend test src/integration
 */
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  KubeEndpointSlice,
  KubeObject,
  KubePod,
  PREVIOUS_SLOT_ANNOTATION,
} from '@golden-path/plugin-rollouts-common';
import {
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import request from 'supertest';
import { InformerClusterRegistry } from '../services/clusters/ClusterRegistry';
import { InformerCluster } from '../services/clusters/InformerCluster';
import { kubeRequest } from '../services/clusters/kubeHttp';
import { ResourceKind } from '../services/clusters/types';
import {
  AdminClients,
  adminClients,
  audit,
  createBlueGreenPair,
  createNamespace,
  describeWithCluster,
  eventually,
  identity,
  ROLLOUTS_READ_RULES,
  ROLLOUTS_WRITE_RULES,
  SLOT,
  waitForRollout as waitForRolloutIn,
  writesSince,
  rolloutsPluginFeatures,
  ownerOnlyPermissions,
  componentEntity,
} from './fixture';

const OWNER = 'user:default/owner';
const STRANGER = 'user:default/stranger';

/** A TCP proxy in front of the API server whose connections the test can cut. */
class CuttableProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(
    private readonly host: string,
    private readonly targetPort: number,
  ) {}

  async listen(port = 0) {
    this.server = net.createServer(client => {
      const upstream = net.connect(this.targetPort, this.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>(r => this.server!.listen(port, '127.0.0.1', r));
    this.port = (this.server!.address() as net.AddressInfo).port;
  }

  /** Refuses new connections and kills the open ones (like a network outage). */
  async cut() {
    const closed = new Promise<void>(r => this.server!.close(() => r()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

describeWithCluster('rollouts backend against a real cluster', () => {
  const id = `rollouts-it-${randomBytes(3).toString('hex')}`;
  const ns = id;
  const entityRef = `component:default/${id}`;
  const base = `/api/rollouts/entity/component/default/${id}`;
  let admin: AdminClients;
  let kc: KubeConfig;
  let plugin: Awaited<ReturnType<typeof identity>>;
  let registry: InformerClusterRegistry;
  let server: any;
  const timings: Record<string, number> = {};
  const waitForRollout = (name: string) => waitForRolloutIn(admin, ns, name);
  const core = () => admin.core;
  const apps = () => admin.apps;

  async function freshList<T>(path: string): Promise<T[]> {
    const list = await kubeRequest<{ items?: T[] }>(kc, path);
    return list.items ?? [];
  }

  /** Slots of the pods the Service's EndpointSlices route to, from a fresh list. */
  async function trafficSlots(): Promise<string[]> {
    const [slices, pods] = await Promise.all([
      freshList<KubeEndpointSlice>(
        `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Ddemo-api`,
      ),
      freshList<KubePod>(`/api/v1/namespaces/${ns}/pods`),
    ]);
    const slotOf = new Map(
      pods.map(p => [p.metadata!.name, p.metadata!.labels?.[SLOT]]),
    );
    const slots = new Set<string>();
    for (const s of slices) {
      for (const ep of s.endpoints ?? []) {
        if (ep.conditions?.ready === false) continue;
        slots.add(slotOf.get(ep.targetRef?.name) ?? 'unknown');
      }
    }
    return [...slots].sort();
  }

  async function service() {
    return kubeRequest<
      KubeObject & { spec: { selector: Record<string, string> } }
    >(kc, `/api/v1/namespaces/${ns}/services/demo-api`);
  }

  /** What the plugin's cache holds of one kind in the test namespace. */
  function cachedInNamespace<K extends ResourceKind>(kind: K) {
    return registry
      .get('it')!
      .list(kind)
      .filter(o => o.metadata?.namespace === ns);
  }

  /** Waits until the plugin's cache shows what the API server has. */
  async function cacheCaughtUp() {
    await eventually(
      async () => {
        const svc = await service();
        const cached = cachedInNamespace('services').find(
          s => s.metadata?.name === 'demo-api',
        );
        if (
          cached?.metadata?.resourceVersion !== svc.metadata?.resourceVersion
        ) {
          throw new Error('service not in cache yet');
        }
      },
      30_000,
      'the cache to catch up',
    );
  }

  /** Write requests the plugin's identity made since the mark, from the audit log. */
  const pluginWritesSince = (mark: number, settleMs = 0) =>
    writesSince(plugin.username, mark, settleMs);

  beforeAll(async () => {
    admin = adminClients();
    kc = admin.kc;
    await createNamespace(admin, ns);
    await createBlueGreenPair(admin, ns, id, entityRef);
    await waitForRollout('demo-api-blue');
    await waitForRollout('demo-api-green');
    await eventually(
      async () => {
        const slots = await trafficSlots();
        if (slots.join() !== 'blue') throw new Error(`traffic to ${slots}`);
      },
      60_000,
      'EndpointSlices of blue',
    );

    // The plugin's own least-privileged identity, as a platform team runs it:
    // read the cached kinds cluster-wide, patch in the test namespace only.
    plugin = await identity(admin, ns, 'rollouts-plugin', {
      clusterRules: ROLLOUTS_READ_RULES,
      namespaceRules: ROLLOUTS_WRITE_RULES,
    });
    registry = InformerClusterRegistry.fromKubeConfigs(
      [
        {
          name: 'it',
          kubeConfig: plugin.kubeConfig,
          write: { mode: 'plugin', kubeConfig: plugin.kubeConfig },
        },
      ],
      mockServices.logger.mock(),
    );
    const t0 = Date.now();
    await registry.start();
    await eventually(
      () => {
        const health = registry.get('it')!.health();
        if (health.state !== 'ok') throw new Error(JSON.stringify(health));
      },
      30_000,
      'informers to sync',
    );
    timings.informerSyncMs = Date.now() - t0;

    ({ server } = await startTestBackend({
      features: [
        ...rolloutsPluginFeatures(registry),
        ownerOnlyPermissions(OWNER).factory,
        catalogServiceMock.factory({
          entities: [componentEntity(id, OWNER, ns)],
        }),
        mockServices.rootConfig.factory({
          data: { rollouts: { switchTimeoutSeconds: 60 } },
        }),
      ],
    }));
  }, 300_000);

  afterAll(async () => {
    await registry?.stop();
    // eslint-disable-next-line no-console
    console.info(`rollouts integration timings: ${JSON.stringify(timings)}`);
    await admin?.core.deleteNamespace({ name: ns }).catch(() => undefined);
    await plugin?.cleanup();
  }, 60_000);

  const asOwner = () => mockCredentials.user.header(OWNER);
  /** A write to the plugin's API as the given user (an Authorization header). */
  const post = (path: string, authorization: string, body: object) =>
    request(server)
      .post(`${base}${path}`)
      .set('Authorization', authorization)
      .send(body);
  const switchBody = { cluster: 'it', namespace: ns, service: 'demo-api' };

  it('shows the entity from the cache', async () => {
    const res = await request(server)
      .get(`${base}/status`)
      .set('Authorization', asOwner());
    expect(res.status).toBe(200);
    const [c] = res.body.clusters;
    expect(c.state).toBe('ok');
    expect(c.deployments.map((d: any) => [d.name, d.status.phase])).toEqual([
      ['demo-api-blue', 'complete'],
      ['demo-api-green', 'complete'],
    ]);
    expect(c.blueGreen[0]).toMatchObject({
      liveSlot: 'blue',
      trafficSlots: ['blue'],
    });
    expect(c.deployments[0].pods).toHaveLength(2);
  });

  it('switch moves the EndpointSlices to the target pods', async () => {
    const mark = audit?.mark();
    const res = await post('/traffic/switch', asOwner(), {
      ...switchBody,
      targetSlot: 'green',
      expectedCurrentSlot: 'blue',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      from: 'blue',
      to: 'green',
      endpointsConverged: true,
    });
    timings.switchToGreenMs = res.body.elapsedMs;
    // Checked against the API server, not the plugin's cache
    expect(await trafficSlots()).toEqual(['green']);
    const svc = await service();
    expect(svc.spec.selector[SLOT]).toBe('green');
    expect(svc.metadata!.annotations![PREVIOUS_SLOT_ANNOTATION]).toBe('blue');
    if (audit) {
      // Counted at the API server: the switch is exactly one selector patch
      // (this also shows the count sees the plugin's writes when there are any).
      // eslint-disable-next-line jest/no-conditional-expect -- only clusters with an audit log can count
      expect(await pluginWritesSince(mark!)).toEqual([
        `patch services ${ns}/demo-api 200`,
      ]);
    }
  }, 90_000);

  it('a concurrent selector change makes the switch fail with 409 and nothing is written', async () => {
    await cacheCaughtUp();
    // Someone else switches back to blue behind the user's back
    await core().patchNamespacedService(
      {
        name: 'demo-api',
        namespace: ns,
        body: [
          {
            op: 'replace',
            path: '/spec/selector/app.kubernetes.io~1slot',
            value: 'blue',
          },
        ],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    const before = await service();
    // The user still sees green live and asks for blue
    const res = await post('/traffic/switch', asOwner(), {
      ...switchBody,
      targetSlot: 'blue',
      expectedCurrentSlot: 'green',
    });
    expect(res.status).toBe(409);
    expect(res.body.error.name).toBe('ConflictError');
    const after = await service();
    expect(after.metadata!.resourceVersion).toBe(
      before.metadata!.resourceVersion,
    );
    expect(after.spec.selector[SLOT]).toBe('blue');
  }, 90_000);

  it('rollback returns to the slot recorded by the last switch', async () => {
    await cacheCaughtUp();
    const switched = await post('/traffic/switch', asOwner(), {
      ...switchBody,
      targetSlot: 'green',
    });
    expect(switched.status).toBe(200);
    await cacheCaughtUp();
    const res = await post('/traffic/rollback', asOwner(), switchBody);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      from: 'green',
      to: 'blue',
      endpointsConverged: true,
    });
    timings.rollbackToBlueMs = res.body.elapsedMs;
    expect(await trafficSlots()).toEqual(['blue']);
  }, 120_000);

  it('a denied user gets 403 and the API server sees zero write requests', async () => {
    await cacheCaughtUp();
    const before = await service();
    const mark = audit?.mark();
    const asStranger = mockCredentials.user.header(STRANGER);
    const attempts: [string, object][] = [
      ['/traffic/switch', { ...switchBody, targetSlot: 'green' }],
      ['/traffic/rollback', switchBody],
      [
        '/deployments/restart',
        { cluster: 'it', namespace: ns, deployment: 'demo-api-blue' },
      ],
      [
        '/deployments/undo',
        { cluster: 'it', namespace: ns, deployment: 'demo-api-blue' },
      ],
    ];
    for (const [path, body] of attempts) {
      const res = await post(path, asStranger, body);
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
      expect(res.body.error.name).toBe('NotAllowedError');
    }
    if (audit) {
      // Give a late audit event time to land before counting none.
      // eslint-disable-next-line jest/no-conditional-expect -- only clusters with an audit log can count
      expect(await pluginWritesSince(mark!, 1000)).toEqual([]);
    }
    const after = await service();
    expect(after.metadata!.resourceVersion).toBe(
      before.metadata!.resourceVersion,
    );
  }, 60_000);

  it('restart rolls out new pods and undo returns to the template before it, mid-rollout too', async () => {
    const target = {
      cluster: 'it',
      namespace: ns,
      deployment: 'demo-api-blue',
    };
    const before = await apps().readNamespacedDeployment({
      name: 'demo-api-blue',
      namespace: ns,
    });
    const restarted = await post('/deployments/restart', asOwner(), target);
    expect(restarted.status).toBe(200);
    // Undo right away, while the controller is still rewriting the status of
    // the restart's rollout: the undo must not mistake that for a conflict.
    await eventually(
      () => {
        const cached = cachedInNamespace('replicasets').filter(rs =>
          rs.metadata?.name?.startsWith('demo-api-blue-'),
        );
        expect(cached.length).toBeGreaterThanOrEqual(2);
      },
      30_000,
      'the restart ReplicaSet in the cache',
    );
    const undone = await post('/deployments/undo', asOwner(), target);
    expect(undone.status).toBe(200);
    expect(undone.body).toMatchObject({
      deployment: 'demo-api-blue',
      skipped: false,
    });
    await waitForRollout('demo-api-blue');
    const after = await apps().readNamespacedDeployment({
      name: 'demo-api-blue',
      namespace: ns,
    });
    // Back to the template before the restart, as `kubectl rollout undo` does
    expect(after.spec!.template).toEqual(before.spec!.template);
    expect(await trafficSlots()).toEqual(['blue']);
  }, 180_000);

  it('switching to a slot that is not rolled out is refused and writes nothing', async () => {
    // Green gets a new image but is paused mid-rollout
    await apps().patchNamespacedDeployment(
      {
        name: 'demo-api-green',
        namespace: ns,
        body: {
          spec: {
            paused: true,
            template: {
              spec: {
                containers: [
                  { name: 'api', image: 'ghcr.io/example/fastapi-demo:2.1.0' },
                ],
              },
            },
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    await eventually(
      () => {
        const green = cachedInNamespace('deployments').find(
          d => d.metadata?.name === 'demo-api-green',
        );
        expect(green?.spec?.paused).toBe(true);
      },
      30_000,
      'the cache to see the paused Deployment',
    );
    await cacheCaughtUp();
    const before = await service();
    const res = await post('/traffic/switch', asOwner(), {
      ...switchBody,
      targetSlot: 'green',
    });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(
      /Slot 'green' .* is not ready for traffic: the Deployment is paused/,
    );
    const after = await service();
    expect(after.metadata!.resourceVersion).toBe(
      before.metadata!.resourceVersion,
    );
    expect(await trafficSlots()).toEqual(['blue']);
  }, 90_000);

  it('a cut watch resumes and the cache equals a fresh list', async () => {
    const cluster = kc.getCurrentCluster()!;
    const target = new URL(cluster.server);
    const proxy = new CuttableProxy(
      target.hostname,
      Number(target.port || 443),
    );
    await proxy.listen();
    const proxied = new KubeConfig();
    proxied.loadFromOptions({
      clusters: [{ ...cluster, server: `https://127.0.0.1:${proxy.port}` }],
      users: kc.getUsers(),
      contexts: kc.getContexts(),
      currentContext: kc.getCurrentContext(),
    });
    const informers = new InformerCluster({
      name: 'proxied',
      kubeConfig: proxied,
      write: { mode: 'disabled', reason: 'read-only test' },
      logger: mockServices.logger.mock(),
      namespaces: [ns],
      errorGraceMs: 300,
      minBackoffMs: 200,
      maxBackoffMs: 1000,
    });
    const snapshot = (items: readonly KubeObject[]) =>
      items
        .filter(o => o.metadata?.namespace === ns)
        .map(o => `${o.metadata!.name}@${o.metadata!.resourceVersion}`)
        .sort();
    const kinds = [
      'deployments',
      'replicasets',
      'pods',
      'services',
      'endpointslices',
    ] as const;
    const paths: Record<(typeof kinds)[number], string> = {
      deployments: `/apis/apps/v1/namespaces/${ns}/deployments`,
      replicasets: `/apis/apps/v1/namespaces/${ns}/replicasets`,
      pods: `/api/v1/namespaces/${ns}/pods`,
      services: `/api/v1/namespaces/${ns}/services`,
      endpointslices: `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`,
    };
    const cacheEqualsFreshList = async () => {
      for (const kind of kinds) {
        const fresh = snapshot(await freshList<KubeObject>(paths[kind]));
        expect({ kind, items: snapshot(informers.list(kind)) }).toEqual({
          kind,
          items: fresh,
        });
      }
    };
    try {
      await informers.start();
      await eventually(cacheEqualsFreshList, 30_000, 'the first sync');

      await proxy.cut();
      await eventually(
        () => expect(informers.health().state).toBe('error'),
        15_000,
        'the cluster to be reported down',
      );
      // Changes the cache cannot see during the outage
      await apps().patchNamespacedDeploymentScale(
        {
          name: 'demo-api-blue',
          namespace: ns,
          body: { spec: { replicas: 3 } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await core().patchNamespacedService(
        {
          name: 'demo-api',
          namespace: ns,
          body: { metadata: { labels: { cut: 'yes' } } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await waitForRollout('demo-api-blue');

      const t0 = Date.now();
      await proxy.listen(proxy.port);
      await eventually(
        () => expect(informers.health().state).toBe('ok'),
        30_000,
        'the cluster to recover',
      );
      await eventually(
        cacheEqualsFreshList,
        30_000,
        'the cache to equal a fresh list',
      );
      timings.watchResumeMs = Date.now() - t0;
      expect(
        informers
          .list('pods')
          .filter(p => p.metadata?.labels?.[SLOT] === 'blue'),
      ).toHaveLength(3);
    } finally {
      await informers.stop();
      await proxy.cut().catch(() => undefined);
    }
  }, 180_000);
});
