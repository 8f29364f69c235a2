/*
 * Where the cache's memory goes, kind by kind: the offline scale workload
 * (scaleOffline.bench.ts) read one kind at a time, each by a cache of its
 * own that stays running while the next kind is read. Each kind's share is
 * the heap it adds (after full garbage collections), so the shares add up to
 * the whole and a value two kinds share (a namespace name) counts once, for
 * the first. Every cache has informers for all kinds (the others empty), so
 * the informers' fixed cost counts three times here, once in the whole.
 *   CI=true yarn --cwd tests/rollouts-bench bench -t "cache heap by kind" scaleOfflineKinds
 */
import { mockServices } from '@backstage/backend-test-utils';
import { InformerClusterRegistry } from '@golden-path/plugin-rollouts-backend';
import { OFFLINE_RUN, ScaleKind, serveScaleWorkload } from './apiStandIn';
import { positiveInt } from './benchEnv';
import { heapUsed, mib, settledHeapUsed, waitForSync } from './cacheHelpers';
import { report } from './report';
import { FULL_SIZE, scaleApps, totals } from './scaleWorkload';
import { markdownTable } from './stats';

const size = {
  ...FULL_SIZE,
  deployments: positiveInt('BENCH_SCALE_DEPLOYMENTS', FULL_SIZE.deployments),
  namespaces: positiveInt('BENCH_SCALE_NAMESPACES', FULL_SIZE.namespaces),
};
const KINDS: ScaleKind[] = ['deployments', 'replicasets', 'pods'];

// Not under 'at scale, offline': a run of both in one process lets one's
// garbage fall into the other's heap deltas.
describe('cache heap by kind, offline', () => {
  it('measures the heap of each kind', async () => {
    const apps = scaleApps(OFFLINE_RUN, size);
    const pods = totals(size).pods;
    const running: { stop(): Promise<void> }[] = [];
    const closers: (() => void)[] = [];
    const rows: (string | number)[][] = [];
    let total = 0;
    try {
      for (const kind of KINDS) {
        const standIn = await serveScaleWorkload(apps, size, [kind]);
        closers.push(standIn.close);
        const before = await settledHeapUsed();
        const registry = InformerClusterRegistry.fromKubeConfigs(
          [{ name: kind, kubeConfig: standIn.kubeConfig }],
          mockServices.logger.mock(),
        );
        running.push(registry);
        await registry.start();
        const cluster = registry.get(kind)!;
        await waitForSync(cluster);
        const bytes = heapUsed() - before;
        const count = cluster.list(kind).length;
        expect(count).toBeGreaterThan(0);
        total += bytes;
        rows.push([
          kind,
          count,
          Math.round(bytes / count),
          mib((bytes / pods) * 1000).toFixed(3),
        ]);
      }
    } finally {
      for (const r of running) await r.stop();
      closers.forEach(close => close());
    }
    rows.push(['all', '', '', mib((total / pods) * 1000).toFixed(3)]);
    report(
      `At scale, offline, per kind: ${pods} pods, ${
        totals(size).replicaSets
      } ReplicaSets, ${size.deployments} Deployments`,
      markdownTable(
        ['kind', 'objects', 'bytes per object', 'MiB per 1,000 pods'],
        rows,
      ),
      'Each kind read by a cache of its own, kept while the next is read: its share is the heap it adds after full garbage collections (values shared with an earlier kind count for the earlier one; the informers of the empty kinds count once per cache).',
    );
  }, 600_000);
});
