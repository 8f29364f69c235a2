/*
 * The plugin's own part of the scale benchmark without a cluster: the same
 * workload (scaleWorkload.ts) as a real API server lists it once the
 * controllers and KWOK acted on it (apiServerObjects.ts), served page by page
 * by an in-process stand-in for the API server (apiStandIn.ts), read by the
 * plugin's cache.
 * Prints the cache's heap per 1,000 pods, time to first sync and the status
 * p95 of one entity. Runs in seconds anywhere, also on the code before
 * issue 17 (the numbers of the change's report):
 *   git checkout 259b705 -- plugins/rollouts-backend/src
 *   git checkout HEAD -- plugins/rollouts-backend/src/testUtils/index.ts
 * (that version's testUtils did not export the status service yet).
 */
import { mockServices } from '@backstage/backend-test-utils';
import { InformerClusterRegistry } from '@golden-path/plugin-rollouts-backend';
import {
  readRolloutsSettings,
  StatusService,
} from '@golden-path/plugin-rollouts-backend/testUtils';
import { OFFLINE_RUN, serveScaleWorkload } from './apiStandIn';
import { positiveInt } from './benchEnv';
import { heapUsed, mib, settledHeapUsed, waitForSync } from './cacheHelpers';
import { report } from './report';
import { FULL_SIZE, scaleApps, totals } from './scaleWorkload';
import { markdownTable, summarize } from './stats';

const size = {
  ...FULL_SIZE,
  deployments: positiveInt('BENCH_SCALE_DEPLOYMENTS', FULL_SIZE.deployments),
  namespaces: positiveInt('BENCH_SCALE_NAMESPACES', FULL_SIZE.namespaces),
};

describe('at scale, offline', () => {
  it(`holds ${totals(size).pods} pods and ${
    totals(size).replicaSets
  } ReplicaSets`, async () => {
    const apps = scaleApps(OFFLINE_RUN, size);
    const standIn = await serveScaleWorkload(apps, size);
    try {
      const before = await settledHeapUsed();
      const start = performance.now();
      const registry = InformerClusterRegistry.fromKubeConfigs(
        [{ name: 'offline', kubeConfig: standIn.kubeConfig }],
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
        'The cache read from an in-process stand-in for the API server (serving the KWOK benchmark’s objects as the API server lists them: defaults, managedFields, the controllers’ status and annotations, KWOK’s pod status); its serialization shares the CPU with the cache, so the sync time is an upper bound.',
      );
    } finally {
      standIn.close();
    }
  }, 600_000);
});
