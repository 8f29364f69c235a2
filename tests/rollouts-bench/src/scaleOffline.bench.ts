/*
 * The plugin's own part of the scale benchmark without a cluster: the same
 * workload (scaleWorkload.ts, with the fields the API server adds: uids,
 * resourceVersions, managedFields, a Running status) served page by page by
 * an in-process stand-in for the API server, read by the plugin's cache.
 * Prints the cache's heap per 1,000 pods, time to first sync and the status
 * p95 of one entity. Runs in seconds anywhere, also on the code before
 * issue 17 (the numbers of the change's report):
 *   git checkout 259b705 -- plugins/rollouts-backend/src
 *   git checkout HEAD -- plugins/rollouts-backend/src/testUtils/index.ts
 * (that version's testUtils did not export the status service yet).
 */
import { mockServices } from '@backstage/backend-test-utils';
import { InformerClusterRegistry } from '@golden-path/plugin-rollouts-backend';
import { KubeConfig } from '@kubernetes/client-node';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import {
  readRolloutsSettings,
  StatusService,
} from '@golden-path/plugin-rollouts-backend/testUtils';
import { positiveInt } from './benchEnv';
import { heapUsed, mib, waitForSync } from './cacheHelpers';
import { report } from './report';
import {
  FULL_SIZE,
  ScaleApp,
  scaleApps,
  scaleDeployment,
  scalePods,
  scaleReplicaSets,
  totals,
} from './scaleWorkload';
import { markdownTable, summarize } from './stats';

const size = {
  ...FULL_SIZE,
  deployments: positiveInt('BENCH_SCALE_DEPLOYMENTS', FULL_SIZE.deployments),
  namespaces: positiveInt('BENCH_SCALE_NAMESPACES', FULL_SIZE.namespaces),
};

let resourceVersion = 1000;
/** What the API server adds to every object it stores. */
function stored<T extends { metadata?: any }>(o: T, uid: string): T {
  o.metadata.uid = `00000000-0000-4000-8000-${uid.padStart(12, '0')}`;
  o.metadata.resourceVersion = String(++resourceVersion);
  o.metadata.creationTimestamp = '2026-11-29T12:00:00Z';
  o.metadata.generation = 1;
  o.metadata.managedFields = [
    {
      manager: 'kube-controller-manager',
      operation: 'Update',
      apiVersion: 'apps/v1',
      time: '2026-11-29T12:00:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
        'f:spec': { 'f:containers': { 'k:{"name":"api"}': { '.': {} } } },
      },
    },
  ];
  return o;
}

function runningStatus(image: string, i: number, app: ScaleApp) {
  const ip = `10.244.${i}.${app.index % 250}`;
  return {
    phase: 'Running',
    hostIP: '10.0.0.1',
    podIP: ip,
    podIPs: [{ ip }],
    qosClass: 'Burstable',
    startTime: '2026-11-29T12:00:01Z',
    conditions: [
      'PodReadyToStartContainers',
      'Initialized',
      'Ready',
      'ContainersReady',
      'PodScheduled',
    ].map(type => ({
      type,
      status: 'True',
      lastProbeTime: null,
      lastTransitionTime: '2026-11-29T12:00:02Z',
    })),
    containerStatuses: [
      {
        name: 'api',
        ready: true,
        started: true,
        restartCount: 0,
        image,
        imageID: `${image}@sha256:0123456789abcdef0123456789abcdef`,
        containerID: `containerd://${app.index}-${i}`,
        state: { running: { startedAt: '2026-11-29T12:00:01Z' } },
        lastState: {},
      },
    ],
  };
}

/** The collections the stand-in serves, as the API server would. */
function collections(apps: ScaleApp[]): Record<string, object[]> {
  const deployments: object[] = [];
  const replicaSets: object[] = [];
  const pods: object[] = [];
  for (const app of apps) {
    const d = stored(scaleDeployment(app, size), `d${app.index}`);
    d.spec!.paused = false;
    d.status = {
      observedGeneration: 1,
      replicas: size.podsPerDeployment,
      updatedReplicas: size.podsPerDeployment,
      readyReplicas: size.podsPerDeployment,
      availableReplicas: size.podsPerDeployment,
      conditions: [
        {
          type: 'Available',
          status: 'True',
          reason: 'MinimumReplicasAvailable',
          message: 'Deployment has minimum availability.',
        },
      ],
    };
    deployments.push(d);
    const rss = scaleReplicaSets(app, size, d.metadata!.uid!).map((rs, i) =>
      stored(rs, `r${app.index}x${i}`),
    );
    replicaSets.push(...rss);
    const current = rss[rss.length - 1];
    scalePods(
      app,
      size,
      { name: current.metadata!.name!, uid: current.metadata!.uid! },
      'kwok-node-0',
    ).forEach((p, i) => {
      stored(p, `p${app.index}x${i}`);
      p.status = runningStatus(p.spec!.containers[0].image!, i, app) as any;
      pods.push(p);
    });
  }
  return {
    '/apis/apps/v1/deployments': deployments,
    '/apis/apps/v1/replicasets': replicaSets,
    '/api/v1/pods': pods,
  };
}

/** Lists page by page when asked (`limit`/`continue`); watches stay open and quiet. */
async function serve(lists: Record<string, object[]>) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    res.writeHead(200, { 'Content-Type': 'application/json' });
    if (url.searchParams.get('watch') === 'true') {
      res.flushHeaders();
      return;
    }
    const all = lists[url.pathname] ?? [];
    const limit = Number(url.searchParams.get('limit') || all.length);
    const offset = Number(url.searchParams.get('continue') || 0);
    const next = offset + limit;
    res.end(
      JSON.stringify({
        kind: 'List',
        metadata: {
          resourceVersion: String(resourceVersion),
          ...(next < all.length && { continue: String(next) }),
        },
        items: all.slice(offset, next),
      }),
    );
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [
      {
        name: 'offline',
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        // client-node refuses plain HTTP otherwise.
        skipTLSVerify: true,
      },
    ],
    users: [{ name: 'bench', token: 'offline' }],
    contexts: [{ name: 'offline', cluster: 'offline', user: 'bench' }],
    currentContext: 'offline',
  });
  return { server, kubeConfig };
}

describe('at scale, offline', () => {
  it(`holds ${totals(size).pods} pods and ${
    totals(size).replicaSets
  } ReplicaSets`, async () => {
    const apps = scaleApps('offline', size);
    const { server, kubeConfig } = await serve(collections(apps));
    try {
      const before = heapUsed();
      const start = performance.now();
      const registry = InformerClusterRegistry.fromKubeConfigs(
        [{ name: 'offline', kubeConfig }],
        mockServices.logger.mock(),
      );
      await registry.start();
      const cluster = registry.get('offline')!;
      await waitForSync(cluster);
      const syncMs = performance.now() - start;
      const cacheBytes = heapUsed() - before;
      const pods = cluster.list('pods').length;
      expect(pods).toBe(totals(size).pods);

      const status = new StatusService(
        registry,
        readRolloutsSettings(mockServices.rootConfig()),
      );
      const app = apps[Math.floor(apps.length / 2)];
      const selection = {
        labelSelector: {
          matchLabels: { 'backstage.io/kubernetes-id': app.entityId },
        },
      };
      const [view] = status.getStatus('e', selection).clusters[0].deployments;
      expect(view.pods).toHaveLength(size.podsPerDeployment);
      expect(view.history).toHaveLength(size.history + 1);
      const ms: number[] = [];
      for (let i = 0; i < 310; i += 1) {
        const t = performance.now();
        status.getStatus('e', selection);
        if (i >= 10) ms.push(performance.now() - t);
      }
      const statusTime = summarize(ms);
      await registry.stop();

      report(
        `At scale, offline: ${pods} pods, ${
          totals(size).replicaSets
        } ReplicaSets, ${size.deployments} Deployments`,
        markdownTable(
          ['measure', 'rollouts plugin'],
          [
            [
              'cache MiB per 1,000 pods',
              // Two decimals: the goal (2.0) is close.
              mib((cacheBytes / pods) * 1000).toFixed(2),
            ],
            ['time to first sync, s', syncMs / 1000],
            ['status p50 of one entity, ms', statusTime.p50],
            ['status p95 of one entity, ms', statusTime.p95],
          ],
        ),
        'The cache read from an in-process stand-in for the API server (serving the same objects as the KWOK benchmark, with managedFields and a Running status); its serialization shares the CPU with the cache, so the sync time is an upper bound.',
      );
    } finally {
      server.closeAllConnections();
      server.close();
    }
  }, 600_000);
});
