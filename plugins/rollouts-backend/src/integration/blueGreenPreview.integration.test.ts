/*
 * The blue-green template's switch, as the plugin runs it, on real pods: the
 * smoke test through the preview Service (the API server's service proxy,
 * with the plugin's least-privileged identity), the preview pointed at the
 * slot left, the delayed scale-down by the scheduled task, and a rollback
 * that scales the old slot back up first.
 *
 * Needs real nodes and an image whose version answers GET <path> with
 * `"version": "<version>"`:
 *  - BLUE_GREEN_IMAGE: the fastapi-blue-green template's image repository,
 *    with tags 1.0.0 and 2.0.0 (GET /health reports the version), or
 *  - DEMO_APP_IMAGE: deploy/demo/app (GET / reports APP_VERSION).
 * ROLLOUTS_IT_NAMESPACE_PREFIX names the throw-away namespace (default
 * rollouts-bg).
 */
import { SchedulerServiceTaskFunction } from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  ENTITY_REF_ANNOTATION,
  KubeDeployment,
  KubeEndpointSlice,
  KubeObject,
  KubePod,
  KubeService,
  PREVIEW_OF_ANNOTATION,
  RESTORE_REPLICAS_ANNOTATION,
  SCALE_DOWN_AT_ANNOTATION,
  smokeResponseFailure,
} from '@golden-path/plugin-rollouts-common';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { InformerClusterRegistry } from '../services/clusters/ClusterRegistry';
import { KubeWriter } from '../services/clusters/KubeWriter';
import { SCHEDULED_SCALE_DOWN_TASK_ID } from '../services/scaleDown/ScheduledScaleDownTask';
import {
  AdminClients,
  adminClients,
  componentEntity,
  createNamespace,
  eventually,
  fresh,
  identity,
  KUBE_INTEGRATION_REQUIRED,
  KUBECONFIG,
  ownerOnlyPermissions,
  podTemplate,
  prerequisite,
  REAL_NODES,
  ROLLOUTS_READ_RULES,
  ROLLOUTS_WRITE_RULES,
  rolloutsPluginFeatures,
  SLOT,
  waitForRollout,
  syncedRegistry,
} from './fixture';

const BLUE_GREEN_IMAGE = process.env.BLUE_GREEN_IMAGE;
const DEMO_APP_IMAGE = process.env.DEMO_APP_IMAGE;

/** The image per version, and the path where it reports its version. */
function appUnderTest() {
  if (BLUE_GREEN_IMAGE) {
    return {
      image: (version: string) => `${BLUE_GREEN_IMAGE}:${version}`,
      smokePath: '/health',
    };
  }
  return DEMO_APP_IMAGE
    ? { image: () => DEMO_APP_IMAGE, smokePath: '/' }
    : undefined;
}
const app = appUnderTest();
// Required where the cluster has real nodes: the script then builds and imports DEMO_APP_IMAGE.
const describeOnRealNodes =
  KUBECONFIG &&
  prerequisite(
    Boolean(app),
    'The rollouts blue-green preview tests need BLUE_GREEN_IMAGE (the fastapi-blue-green image repository, tags 1.0.0 and 2.0.0) or DEMO_APP_IMAGE, imported into the real nodes',
    KUBE_INTEGRATION_REQUIRED && REAL_NODES > 0,
  )
    ? describe
    : describe.skip;

const OWNER = 'user:default/owner';
const VERSIONS = { blue: '1.0.0', green: '2.0.0' } as const;
type Slot = keyof typeof VERSIONS;

describeOnRealNodes(
  'the blue-green switch with its preview Service, on real pods',
  () => {
    const id = `${
      process.env.ROLLOUTS_IT_NAMESPACE_PREFIX ?? 'rollouts-bg'
    }-${randomBytes(3).toString('hex')}`;
    const ns = id;
    const entityRef = `component:default/${id}`;
    const base = `/api/rollouts/entity/component/default/${id}`;
    const pair = { cluster: 'it', namespace: ns, service: 'demo-api' };
    // (describe.skip still runs this body, without an app.)
    const image = (version: string) => app!.image(version);
    const smokePath = app?.smokePath ?? '/health';
    let admin: AdminClients;
    let plugin: Awaited<ReturnType<typeof identity>>;
    let registry: InformerClusterRegistry;
    let server: any;
    const tasks = new Map<string, SchedulerServiceTaskFunction>();
    const timings: Record<string, number> = {};

    const labels = (slot: Slot) => ({
      'app.kubernetes.io/name': 'demo-api',
      [SLOT]: slot,
      'app.kubernetes.io/version': VERSIONS[slot],
      'backstage.io/kubernetes-id': id,
    });
    const annotations = (previewOf?: string) => ({
      [ENTITY_REF_ANNOTATION]: entityRef,
      ...(previewOf && { [PREVIEW_OF_ANNOTATION]: previewOf }),
    });

    async function createSlot(slot: Slot) {
      await admin.apps.createNamespacedDeployment({
        namespace: ns,
        body: {
          metadata: {
            name: `demo-api-${slot}`,
            labels: labels(slot),
            annotations: annotations(),
          },
          spec: {
            replicas: 1,
            selector: {
              matchLabels: {
                'app.kubernetes.io/name': 'demo-api',
                [SLOT]: slot,
              },
            },
            template: podTemplate(labels(slot), image(VERSIONS[slot]), {
              realNode: true,
              env: [
                { name: 'APP_VERSION', value: VERSIONS[slot] },
                { name: 'SLOT', value: slot },
              ],
            }) as any,
          },
        },
      });
    }

    async function createService(name: string, slot: Slot, previewOf?: string) {
      await admin.core.createNamespacedService({
        namespace: ns,
        body: {
          metadata: {
            name,
            labels: { 'backstage.io/kubernetes-id': id },
            annotations: annotations(previewOf),
          },
          spec: {
            selector: { 'app.kubernetes.io/name': 'demo-api', [SLOT]: slot },
            ports: [{ name: 'http', port: 80, targetPort: 'http' as any }],
          },
        },
      });
    }

    const service = (name: string) =>
      fresh<KubeService>(admin, `/api/v1/namespaces/${ns}/services/${name}`);
    const deployment = (name: string) =>
      fresh<KubeDeployment>(
        admin,
        `/apis/apps/v1/namespaces/${ns}/deployments/${name}`,
      );
    const cachedBlue = () =>
      registry
        .get('it')!
        .list('deployments')
        .find(d => d.metadata?.name === 'demo-api-blue');
    const runScaleDownTask = () =>
      tasks.get(SCHEDULED_SCALE_DOWN_TASK_ID)!(new AbortController().signal);

    /** Slots of the ready pods a Service routes to, from a fresh list. */
    async function routesTo(name: string): Promise<string> {
      const [slices, pods] = await Promise.all([
        fresh<{ items: KubeEndpointSlice[] } & KubeObject>(
          admin,
          `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3D${name}`,
        ),
        fresh<{ items: KubePod[] } & KubeObject>(
          admin,
          `/api/v1/namespaces/${ns}/pods`,
        ),
      ]);
      const slotOf = new Map(
        pods.items.map(p => [p.metadata!.name, p.metadata!.labels?.[SLOT]]),
      );
      const slots = new Set<string>();
      for (const s of slices.items) {
        for (const ep of s.endpoints ?? []) {
          if (ep.conditions?.ready === false) continue;
          slots.add(slotOf.get(ep.targetRef?.name) ?? 'unknown');
        }
      }
      return [...slots].sort().join(',');
    }

    const post = (path: string, body: object) =>
      request(server)
        .post(`${base}${path}`)
        .set('Authorization', mockCredentials.user.header(OWNER))
        .send(body);

    beforeAll(async () => {
      admin = adminClients();
      await createNamespace(admin, ns);
      await createSlot('blue');
      await createSlot('green');
      await createService('demo-api', 'blue');
      await createService('demo-api-preview', 'green', 'demo-api');
      const t0 = Date.now();
      await waitForRollout(admin, ns, 'demo-api-blue');
      await waitForRollout(admin, ns, 'demo-api-green');
      timings.slotsReadyMs = Date.now() - t0;

      // The plugin's identity as deploy/portal ships it: read the cached
      // kinds, and in this namespace get/patch plus GET through services/proxy.
      plugin = await identity(admin, ns, 'rollouts-plugin', {
        clusterRules: ROLLOUTS_READ_RULES,
        namespaceRules: ROLLOUTS_WRITE_RULES,
      });
      registry = await syncedRegistry(plugin.kubeConfig, { namespaces: [ns] });
      // The scheduled task runs when a test says so.
      const scheduler = mockServices.scheduler.mock({
        scheduleTask: async task => {
          tasks.set(task.id, task.fn);
        },
      });
      ({ server } = await startTestBackend({
        features: [
          ...rolloutsPluginFeatures(registry),
          scheduler.factory,
          ownerOnlyPermissions(OWNER).factory,
          catalogServiceMock.factory({
            entities: [componentEntity(id, OWNER, ns)],
          }),
          mockServices.rootConfig.factory({
            data: {
              rollouts: {
                switchTimeoutSeconds: 90,
                smokeTest: { path: smokePath },
              },
            },
          }),
        ],
      }));
    }, 300_000);

    afterAll(async () => {
      await registry?.stop();
      // eslint-disable-next-line no-console
      console.info(`blue-green preview timings: ${JSON.stringify(timings)}`);
      await admin?.core.deleteNamespace({ name: ns }).catch(() => undefined);
      await plugin?.cleanup();
    }, 60_000);

    it('shows one pair with the preview Service, not two pairs', async () => {
      const res = await request(server)
        .get(`${base}/status`)
        .set('Authorization', mockCredentials.user.header(OWNER));
      const pairs = res.body.clusters[0].blueGreen;
      expect(pairs).toHaveLength(1);
      expect(pairs[0]).toMatchObject({
        service: 'demo-api',
        liveSlot: 'blue',
        idleSlot: 'green',
        preview: { service: 'demo-api-preview', selectorSlot: 'green' },
      });
    });

    it('smoke-tests green through the preview Service with the least-privileged identity', async () => {
      const t0 = Date.now();
      const res = await post('/traffic/preflight', {
        ...pair,
        action: 'switch',
        targetSlot: 'green',
      });
      timings.preflightMs = Date.now() - t0;
      expect(res.status).toBe(200);
      expect(res.body.checks).toEqual([
        expect.objectContaining({ id: 'slot', status: 'passed' }),
        expect.objectContaining({ id: 'ownership', status: 'passed' }),
        expect.objectContaining({ id: 'preview', status: 'passed' }),
        {
          id: 'smoke-test',
          status: 'passed',
          message: `5/5 GET ${smokePath} through demo-api-preview answered 200 with version 2.0.0.`,
        },
      ]);
    }, 60_000);

    it('needs GET on services/proxy: without it the API server refuses, and the check says which verb', async () => {
      const noProxy = await identity(admin, ns, 'rollouts-no-proxy', {
        namespaceRules: ROLLOUTS_WRITE_RULES.filter(
          r => !r.resources!.includes('services/proxy'),
        ),
      });
      const response = await new KubeWriter(
        noProxy.kubeConfig,
      ).getThroughServiceProxy(ns, 'demo-api-preview', 'http', '/', 5000);
      expect(response.status).toBe(403);
      expect(
        smokeResponseFailure(
          response,
          {
            namespace: ns,
            previewService: 'demo-api-preview',
            slot: 'green',
            version: '2.0.0',
            path: '/',
            requests: 1,
          },
          1,
        ),
      ).toMatch(/RBAC: get on services\/proxy in namespace/);
    }, 60_000);

    it('switches to green, points the preview at blue, and a rollback before the scale-down restores both at once', async () => {
      const res = await post('/traffic/switch', {
        ...pair,
        targetSlot: 'green',
        expectedCurrentSlot: 'blue',
        scaleDownDelaySeconds: 3600,
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        to: 'green',
        endpointsConverged: true,
        preview: { repointed: true, to: 'blue', endpointsConverged: true },
        scaleDown: { slot: 'blue', replicas: 1 },
      });
      timings.switchMs = res.body.elapsedMs;
      expect(await routesTo('demo-api')).toBe('green');
      expect(await routesTo('demo-api-preview')).toBe('blue');
      const blue = await deployment('demo-api-blue');
      expect(blue.metadata!.annotations![SCALE_DOWN_AT_ANNOTATION]).toBe(
        res.body.scaleDown.at,
      );

      // Not due: the task leaves blue running.
      await runScaleDownTask();
      expect((await deployment('demo-api-blue')).spec!.replicas).toBe(1);

      const rollback = await post('/traffic/rollback', pair);
      expect(rollback.status).toBe(200);
      expect(rollback.body).toMatchObject({
        to: 'blue',
        cancelledScaleDown: { slot: 'blue' },
        preview: { repointed: true, to: 'green' },
      });
      expect(rollback.body.scaledUp).toBeUndefined();
      timings.rollbackMs = rollback.body.elapsedMs;
      expect(await routesTo('demo-api')).toBe('blue');
      expect((await service('demo-api-preview')).spec!.selector![SLOT]).toBe(
        'green',
      );
      expect(
        (await deployment('demo-api-blue')).metadata!.annotations,
      ).not.toHaveProperty(SCALE_DOWN_AT_ANNOTATION);
    }, 240_000);

    it('scales the old slot down when due, and a rollback scales it back up, waits, tests and switches', async () => {
      const res = await post('/traffic/switch', {
        ...pair,
        targetSlot: 'green',
        scaleDownDelaySeconds: 0,
      });
      expect(res.status).toBe(200);
      await eventually(
        async () => {
          if (
            !cachedBlue()?.metadata?.annotations?.[SCALE_DOWN_AT_ANNOTATION]
          ) {
            throw new Error('schedule not in the cache yet');
          }
        },
        30_000,
        'the schedule in the cache',
      );
      await runScaleDownTask();
      const scaled = await deployment('demo-api-blue');
      expect(scaled.spec!.replicas).toBe(0);
      expect(scaled.metadata!.annotations![RESTORE_REPLICAS_ANNOTATION]).toBe(
        '1',
      );
      await eventually(
        async () => {
          if ((await routesTo('demo-api-preview')) !== '') {
            throw new Error('blue pods still serve the preview');
          }
        },
        60_000,
        'blue pods to go',
      );

      // The page's cache must show blue at 0 before the rollback plans from it.
      await eventually(
        () => {
          if (cachedBlue()?.spec?.replicas !== 0) {
            throw new Error('cache not at 0');
          }
        },
        30_000,
        'the scale-down in the cache',
      );
      const t0 = Date.now();
      const rollback = await post('/traffic/rollback', pair);
      timings.rollbackWithScaleUpMs = Date.now() - t0;
      expect(rollback.status).toBe(200);
      expect(rollback.body).toMatchObject({
        to: 'blue',
        scaledUp: { slot: 'blue', replicas: 1 },
      });
      expect(rollback.body.checks.map((c: any) => c.status)).toEqual([
        'passed',
        'passed',
        'passed',
        'passed',
      ]);
      expect(await routesTo('demo-api')).toBe('blue');
      expect((await deployment('demo-api-blue')).spec!.replicas).toBe(1);
    }, 300_000);
  },
);
