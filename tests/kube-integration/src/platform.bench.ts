/*
 * Benchmarks of the local cluster's real node (scripts/bench-platform.sh runs them; it
 * starts the cluster, prints its start-up times and memory, and stops it). Each number
 * comes with a baseline measured in the same run:
 *  - pod create → Ready on the real node (a container really starts) against the same
 *    pod on a fake KWOK node (only the API server, scheduler and kwok's status update);
 *  - a rolling update under steady load with the demo app's graceful drain
 *    (DRAIN_SECONDS=3: the pod answers while it leaves the EndpointSlices) against the
 *    same update without it (DRAIN_SECONDS=0): the requests lost without the drain are
 *    what the drain saves.
 * No assertion on speed: the numbers are printed (and written to BENCH_RESULTS_FILE).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as fs from 'node:fs';
import {
  Clients,
  clients,
  createTestNamespace,
  deleteTestNamespace,
  onKwokNodes,
} from './kube';
import {
  createPodUntilReady,
  expectedRealNodes,
  realPodSpec,
  testImage,
} from './realNode';
import { deployBehindService, rollingUpdateUnderLoad } from './demoApp';

const PODS = Number(process.env.BENCH_PODS ?? '10');
const IMAGE = process.env.DEMO_APP_IMAGE;
const IMAGE_V2 = process.env.DEMO_APP_IMAGE_V2;

function report(line: string): void {
  // eslint-disable-next-line no-console
  console.log(line);
  if (process.env.BENCH_RESULTS_FILE) {
    fs.appendFileSync(process.env.BENCH_RESULTS_FILE, `${line}\n`);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function p90(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(0.9 * sorted.length) - 1];
}

describe('local cluster benchmarks (real node against baselines)', () => {
  let c: Clients;
  let ns: string;

  beforeAll(async () => {
    if (!(expectedRealNodes > 0 && IMAGE && IMAGE_V2)) {
      throw new Error(
        'run scripts/bench-platform.sh: it starts a cluster with a real node and sets ' +
          'KUBE_REAL_NODES, KUBE_TEST_IMAGE, DEMO_APP_IMAGE and DEMO_APP_IMAGE_V2',
      );
    }
    c = clients();
    ns = await createTestNamespace(c.core, 'bench');
  }, 60_000);

  afterAll(async () => {
    if (ns) await deleteTestNamespace(c.core, ns, 180_000);
  }, 200_000);

  async function createToReady(name: string, fake: boolean): Promise<number> {
    const spec = realPodSpec(['sleep', '3600']);
    const { ms } = await createPodUntilReady(
      c,
      ns,
      {
        metadata: { name },
        spec: fake
          ? onKwokNodes({ ...spec, nodeSelector: undefined })
          : { ...spec, terminationGracePeriodSeconds: 0 },
      },
      120_000,
    );
    return ms;
  }

  it(`pod create → Ready: real node against KWOK, ${PODS} pods each`, async () => {
    testImage();
    const real: number[] = [];
    const fake: number[] = [];
    // Interleaved, one at a time, so both see the same API server load.
    for (let i = 0; i < PODS; i++) {
      real.push(await createToReady(`real-${i}`, false));
      fake.push(await createToReady(`kwok-${i}`, true));
    }
    const ratio = median(real) / median(fake);
    report(
      `pod create → Ready, real node: median ${median(real)} ms, p90 ${p90(
        real,
      )} ms (n=${real.length})`,
    );
    report(
      `pod create → Ready, KWOK (baseline): median ${median(
        fake,
      )} ms, p90 ${p90(fake)} ms (n=${fake.length})`,
    );
    report(
      `pod create → Ready, real / KWOK: ${ratio.toFixed(
        2,
      )}x (the container start on the node costs ${(
        median(real) - median(fake)
      ).toFixed(0)} ms)`,
    );
    expect(real).toHaveLength(PODS);
    await c.core.deleteCollectionNamespacedPod({
      namespace: ns,
      gracePeriodSeconds: 0,
    });
  }, 600_000);

  it('rolling update under load: with the graceful drain against without it', async () => {
    const outcome = async (name: string, drainSeconds: string) => {
      const url = await deployBehindService(c, ns, name, 3, IMAGE!, {
        DRAIN_SECONDS: drainSeconds,
      });
      const { result, rolloutMs } = await rollingUpdateUnderLoad(
        c,
        ns,
        name,
        url,
        IMAGE_V2!,
      );
      const lost = result.non2xx + result.errors;
      report(
        `rolling update under load, DRAIN_SECONDS=${drainSeconds}: ${
          result.requests
        } requests, ${result.non2xx} non-2xx, ${
          result.errors
        } connection errors (${((100 * lost) / result.requests).toFixed(
          3,
        )}% lost), rollout ${rolloutMs} ms`,
      );
      return { lost, requests: result.requests };
    };
    const drained = await outcome('drained', '3');
    const baseline = await outcome('undrained', '0');
    report(
      `rolling update: requests lost with drain ${drained.lost} / without (baseline) ${baseline.lost}`,
    );
    expect(drained.requests).toBeGreaterThan(0);
    expect(baseline.requests).toBeGreaterThan(0);
  }, 900_000);
});
