/*
 * The demo manifests in deploy/demo/ against a real API server, isolated in a test
 * namespace: every workload passes Pod Security "restricted", fits the ResourceQuota
 * and rolls out (real pods on the real node, where the demo app's images were imported;
 * there the HPA reads real CPU from metrics-server); the portal's ServiceAccount token
 * reads what Backstage's Kubernetes plugin reads, can do the blue/green switch, and is
 * refused everything else.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  loadAllYaml,
  setHeaderOptions,
} from '@kubernetes/client-node';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './clusterControl';
import { expectedRealNodes } from './realNode';
import {
  Clients,
  clients,
  col,
  createTestNamespace,
  deleteTestNamespace,
  expectApiError,
  isPodReady,
  rolloutSucceeded,
  waitForList,
  waitForObject,
  workloadOnKwokNodes,
} from './kube';

const DEMO_DIR = path.join(repoRoot, 'deploy', 'demo');
const onRealNodes = expectedRealNodes > 0 && !!process.env.DEMO_APP_IMAGE;
const KUBERNETES_ID = 'fastapi-demo';

function loadDemoObjects(): any[] {
  return fs
    .readdirSync(DEMO_DIR)
    .filter(f => f.endsWith('.yaml'))
    .sort()
    .flatMap(f => loadAllYaml(fs.readFileSync(path.join(DEMO_DIR, f), 'utf8')))
    .filter(Boolean);
}

describe('deploy/demo manifests and the portal ServiceAccount', () => {
  let c: Clients;
  let ns: string;
  let suffix: string;
  const clusterScoped: { kind: string; name: string }[] = [];
  let objects: any[];

  beforeAll(async () => {
    c = clients();
    ns = await createTestNamespace(c.core, 'demo');
    suffix = ns.replace(/^it-/, '');
    objects = loadDemoObjects();

    // Re-home the demo into the test namespace; cluster-scoped RBAC gets a unique name.
    const rename = (n: string) => `${n}-${suffix}`;
    const applied = objects
      .filter(o => o.kind !== 'Namespace')
      .map(o => {
        const obj = structuredClone(o);
        if (obj.kind === 'ClusterRole' || obj.kind === 'ClusterRoleBinding') {
          obj.metadata.name = rename(obj.metadata.name);
          clusterScoped.push({ kind: obj.kind, name: obj.metadata.name });
        } else {
          obj.metadata.namespace = ns;
        }
        if (obj.roleRef?.kind === 'ClusterRole')
          obj.roleRef.name = rename(obj.roleRef.name);
        for (const s of obj.subjects ?? []) if (s.namespace) s.namespace = ns;
        // Real pods where the demo app's images were built and imported (the test
        // script does both); otherwise fake ones on KWOK nodes.
        return onRealNodes ? obj : workloadOnKwokNodes(obj);
      });

    const api = KubernetesObjectApi.makeApiClient(c.kc);
    for (const obj of applied) {
      await api.patch(
        obj,
        undefined,
        undefined,
        'kube-integration-tests',
        true,
        PatchStrategy.ServerSideApply,
      );
    }
  });

  afterAll(async () => {
    const rbac = KubernetesObjectApi.makeApiClient(c.kc);
    for (const { kind, name } of clusterScoped) {
      await rbac
        .delete({
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind,
          metadata: { name },
        })
        .catch(() => undefined);
    }
    if (ns) await deleteTestNamespace(c.core, ns);
  });

  it('labels every object for the catalog Component and enforces "restricted" on its namespace', () => {
    const demoNs = objects.find(
      o => o.kind === 'Namespace' && o.metadata.name === 'fastapi-demo',
    );
    expect(demoNs.metadata.labels['pod-security.kubernetes.io/enforce']).toBe(
      'restricted',
    );
    for (const o of objects.filter(x =>
      [
        'Deployment',
        'Service',
        'ResourceQuota',
        'LimitRange',
        'HorizontalPodAutoscaler',
        'ConfigMap',
      ].includes(x.kind),
    )) {
      expect({
        kind: o.kind,
        name: o.metadata.name,
        id: o.metadata.labels?.['backstage.io/kubernetes-id'],
      }).toEqual({
        kind: o.kind,
        name: o.metadata.name,
        id: KUBERNETES_ID,
      });
    }
    const [blue, green] = ['demo-api-blue', 'demo-api-green'].map(n =>
      objects.find(o => o.kind === 'Deployment' && o.metadata.name === n),
    );
    // The pair differs only in the slot label and the image.
    const normalise = (d: any) =>
      JSON.parse(
        JSON.stringify(d)
          .replaceAll('demo-api-blue', 'X')
          .replaceAll('demo-api-green', 'X')
          .replaceAll('"blue"', '"S"')
          .replaceAll('"green"', '"S"')
          .replace(/fastapi-demo:\d+\.\d+\.\d+/g, 'fastapi-demo:V'),
      );
    expect(normalise(blue)).toEqual(normalise(green));
    expect(blue.spec.template.spec.containers[0].image).not.toBe(
      green.spec.template.spec.containers[0].image,
    );
  });

  it('rolls out every demo Deployment under Pod Security "restricted" and the quota', async () => {
    for (const name of ['fastapi-demo', 'demo-api-blue', 'demo-api-green']) {
      const d = await waitForObject(
        col.deployments(ns),
        name,
        rolloutSucceeded,
        90_000,
        `${name} rollout`,
      );
      expect(d.status.readyReplicas).toBe(d.spec.replicas);
    }
    const pods = (await c.core.listNamespacedPod({ namespace: ns })).items;
    expect(pods).toHaveLength(7);
    for (const pod of pods) {
      expect(isPodReady(pod)).toBe(true);
      expect(pod.metadata?.labels?.['backstage.io/kubernetes-id']).toBe(
        KUBERNETES_ID,
      );
    }
    const quota = await waitForObject(
      col.resourceQuotas(ns),
      'fastapi-demo-quota',
      q => q.status?.used?.pods === '7',
      30_000,
      'quota to count the 7 demo pods',
    );
    expect(quota.status.used['requests.cpu']).toBe('700m');
  });

  (onRealNodes ? it : it.skip)(
    'the HPA reads real CPU of the running pods from metrics-server',
    async () => {
      const hpa = await waitForObject(
        {
          apiVersion: 'autoscaling/v2',
          kind: 'HorizontalPodAutoscaler',
          plural: 'horizontalpodautoscalers',
          namespace: ns,
        },
        'fastapi-demo',
        h =>
          typeof h.status?.currentMetrics?.[0]?.resource?.current
            ?.averageUtilization === 'number',
        180_000,
        'the HPA to read CPU utilisation (metrics-server scrapes every 15 s)',
      );
      const cpu = hpa.status.currentMetrics[0].resource;
      expect(cpu.name).toBe('cpu');
      // Utilisation of the pods' CPU requests: a real measurement, not a default.
      expect(cpu.current.averageUtilization).toBeGreaterThanOrEqual(0);
      expect(cpu.current.averageValue).toMatch(/^\d+(m|n|u)?$/);
      expect(
        hpa.status.conditions.find((x: any) => x.type === 'ScalingActive')
          ?.status,
      ).toBe('True');
    },
    200_000,
  );

  /** A KubeConfig that signs in with the token of one of deploy/demo's token Secrets. */
  async function tokenKubeConfig(secretName: string, user: string) {
    const secret = await waitForObject(
      { apiVersion: 'v1', kind: 'Secret', plural: 'secrets', namespace: ns },
      secretName,
      s => Boolean(s.data?.token),
      30_000,
      `the token controller to fill ${secretName}`,
    );
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        {
          name: 'c',
          server: c.kc.getCurrentCluster()!.server,
          caData: secret.data['ca.crt'],
        },
      ],
      users: [
        {
          name: user,
          token: Buffer.from(secret.data.token, 'base64').toString(),
        },
      ],
      contexts: [{ name: user, cluster: 'c', user }],
      currentContext: user,
    });
    return kc;
  }

  const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  const switchTo = (core: CoreV1Api, slot: string) =>
    core.patchNamespacedService(
      {
        namespace: ns,
        name: 'demo-api',
        body: { spec: { selector: { 'app.kubernetes.io/slot': slot } } },
      },
      merge,
    );

  it("gives the Kubernetes plugin's token read access and no write at all", async () => {
    const portal = await tokenKubeConfig('backstage-portal-token', 'portal');
    const core = portal.makeApiClient(CoreV1Api);
    const apps = portal.makeApiClient(AppsV1Api);
    const whoami = `system:serviceaccount:${ns}:backstage-portal`;

    // Reads the Kubernetes plugin needs, across namespaces.
    const pods = await core.listPodForAllNamespaces({
      labelSelector: `backstage.io/kubernetes-id=${KUBERNETES_ID}`,
    });
    expect(pods.items.filter(p => p.metadata?.namespace === ns)).toHaveLength(
      7,
    );
    expect(
      (await apps.listNamespacedDeployment({ namespace: ns })).items,
    ).toHaveLength(3);
    await core.listNamespacedResourceQuota({ namespace: ns });
    await core.listNamespacedLimitRange({ namespace: ns });

    // No secrets, and no write: its proxy forwards raw requests for users.
    const secrets = await expectApiError(() =>
      core.listNamespacedSecret({ namespace: ns }),
    );
    expect(secrets.code).toBe(403);
    expect(secrets.status.message).toContain(
      `User "${whoami}" cannot list resource "secrets"`,
    );
    const sw = await expectApiError(() => switchTo(core, 'green'));
    expect(sw.code).toBe(403);
    expect(sw.status.message).toContain('cannot patch resource "services"');
    const del = await expectApiError(() =>
      apps.deleteNamespacedDeployment({ namespace: ns, name: 'fastapi-demo' }),
    );
    expect(del.code).toBe(403);
  });

  it("gives the rollouts plugin's token the blue/green switch in the demo namespace, nothing more", async () => {
    const rollouts = await tokenKubeConfig(
      'backstage-rollouts-token',
      'rollouts',
    );
    const core = rollouts.makeApiClient(CoreV1Api);
    const whoami = `system:serviceaccount:${ns}:backstage-rollouts`;

    // The switch: allowed in the demo namespace...
    await switchTo(core, 'green');
    const greenIPs = new Set(
      (
        await c.core.listNamespacedPod({
          namespace: ns,
          labelSelector: 'app.kubernetes.io/slot=green',
        })
      ).items.map(p => p.status?.podIP),
    );
    await waitForList(
      col.endpointSlices(ns),
      { labelSelector: 'kubernetes.io/service-name=demo-api' },
      slices => {
        const ips = [...slices.values()].flatMap(s =>
          (s.endpoints ?? []).flatMap((e: any) => e.addresses),
        );
        return (
          ips.length === greenIPs.size && ips.every(ip => greenIPs.has(ip))
        );
      },
      30_000,
      'demo-api EndpointSlices to follow the switch to green',
    );
    await switchTo(core, 'blue');
    // ...and refused anywhere else; no secrets.
    const elsewhere = await expectApiError(() =>
      core.patchNamespacedService(
        {
          namespace: 'default',
          name: 'kubernetes',
          body: { metadata: { labels: { x: 'y' } } },
        },
        merge,
      ),
    );
    expect(elsewhere.code).toBe(403);
    expect(elsewhere.status.message).toContain(
      `User "${whoami}" cannot patch resource "services"`,
    );
    const secrets = await expectApiError(() =>
      core.listNamespacedSecret({ namespace: ns }),
    );
    expect(secrets.code).toBe(403);
  });
});
