/*
 * Time from a pod turning Ready in the cluster to an open page showing it:
 * the rollouts tab (informer watch -> signal -> reload) against Backstage's
 * Kubernetes tab (polls every 10 s), both open at the same time.
 */
import {
  CoreV1Api,
  KubernetesObject,
  V1Pod,
  Watch,
} from '@kubernetes/client-node';
import { benchEnv } from './benchEnv';
import { PortalClient } from './portal';
import { report, sleep } from './report';
import { markdownTable, ratio, summarize } from './stats';
import {
  KUBERNETES_TAB_POLL_MS,
  KubernetesTabViewer,
  RolloutsTabViewer,
  Viewer,
} from './viewers';

const env = benchEnv();
const SLOT_SELECTOR =
  'app.kubernetes.io/name=demo-api,app.kubernetes.io/slot=green';

const isReady = (pod: V1Pod) =>
  (pod.status?.conditions ?? []).some(
    c => c.type === 'Ready' && c.status === 'True',
  );

/** Resolves with the time a page first shows `pod` as ready. */
function shownReady(
  viewer: Viewer,
  pod: string,
  timeoutMs: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      viewer.onUpdate = undefined;
      reject(
        new Error(
          `${viewer.label} did not show pod ${pod} ready within ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    const check = (pods: Map<string, boolean>) => {
      if (pods.get(pod)) {
        clearTimeout(timer);
        viewer.onUpdate = undefined;
        resolve(performance.now());
      }
    };
    viewer.onUpdate = check;
    check(viewer.pods);
  });
}

describe('pod Ready to open page', () => {
  it(
    'measures both tabs on the same pods',
    async () => {
      const portal = await PortalClient.signIn(env.backendUrl, env.entity);
      const core = env.kubeConfig.makeApiClient(CoreV1Api);
      const rollouts = new RolloutsTabViewer(portal);
      const kubernetes = new KubernetesTabViewer(portal);
      await Promise.all([rollouts.open(), kubernetes.open()]);

      // The moment the API server has a pod Ready, as an independent watch sees it.
      const readyAt = new Map<string, number>();
      const seen = new Set<string>();
      const watch = await new Watch(env.kubeConfig).watch(
        `/api/v1/namespaces/${env.kubeNamespace}/pods`,
        { labelSelector: SLOT_SELECTOR },
        (_phase: string, obj: KubernetesObject) => {
          const pod = obj as V1Pod;
          const name = pod.metadata!.name!;
          if (isReady(pod) && !readyAt.has(name))
            readyAt.set(name, performance.now());
        },
        () => undefined,
      );
      const latencies = {
        rollouts: [] as number[],
        kubernetes: [] as number[],
      };
      try {
        for (let trial = 0; trial < env.trials; trial += 1) {
          const { items } = await core.listNamespacedPod({
            namespace: env.kubeNamespace,
            labelSelector: SLOT_SELECTOR,
          });
          items.forEach(p => seen.add(p.metadata!.name!));
          const victim = items.find(
            p => isReady(p) && !p.metadata!.deletionTimestamp,
          )!;
          await core.deleteNamespacedPod({
            name: victim.metadata!.name!,
            namespace: env.kubeNamespace,
            gracePeriodSeconds: 0,
          });
          // The ReplicaSet replaces it; the fake kubelet makes the new pod Ready.
          const deadline = Date.now() + 60_000;
          let replacement: string | undefined;
          while (!replacement && Date.now() < deadline) {
            replacement = [...readyAt.keys()].find(n => !seen.has(n));
            if (!replacement) await sleep(5);
          }
          if (!replacement)
            throw new Error('no replacement pod became Ready within 60 s');
          seen.add(replacement);
          const t0 = readyAt.get(replacement)!;
          const [r, k] = await Promise.all([
            shownReady(rollouts, replacement, 30_000),
            shownReady(kubernetes, replacement, 30_000),
          ]);
          latencies.rollouts.push(r - t0);
          latencies.kubernetes.push(k - t0);
          // The trial ended just after a poll of the Kubernetes tab; starting
          // the next one at a uniformly random point of its poll period keeps
          // that from biasing its latency towards a full period.
          await sleep(Math.random() * KUBERNETES_TAB_POLL_MS);
        }
      } finally {
        watch.abort();
        rollouts.close();
        kubernetes.close();
      }
      expect(rollouts.errors.map(e => e.message)).toEqual([]);
      expect(kubernetes.errors.map(e => e.message)).toEqual([]);
      const r = summarize(latencies.rollouts);
      const k = summarize(latencies.kubernetes);
      report(
        `Pod Ready in the cluster -> shown on an open page (${env.trials} pods)`,
        markdownTable(
          [
            'page',
            'p50 ms',
            'p95 ms',
            'max ms',
            'mean ms',
            'ratio of p50 to Kubernetes tab',
          ],
          [
            [
              'rollouts plugin tab (signal, then reload)',
              r.p50,
              r.p95,
              r.max,
              r.mean,
              ratio(r.p50, k.p50),
            ],
            [
              'Kubernetes plugin tab (polls every 10 s)',
              k.p50,
              k.p95,
              k.max,
              k.mean,
              '1.00',
            ],
          ],
        ),
        "Each trial deletes a Ready pod of demo-api-green; the clock starts when an independent watch on the API server sees its replacement Ready and stops when the page's newest answer shows it ready.",
      );
      // The promise: a change is pushed to open pages at once, so they are fresher than
      // a tab that polls every 10 s (measured p95: 463 ms against 9,886 ms). With the 4
      // trials of `make test` this fails by chance only if the polling tab showed all 4
      // pods within the rollouts tab's p95 (~0.5 s of a 10 s period): about 0.05^4.
      expect(r.p95).toBeLessThan(k.p95);
      expect(r.p95).toBeLessThan(KUBERNETES_TAB_POLL_MS);
    },
    15 * 60_000,
  );
});
