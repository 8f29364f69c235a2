/*
 * Kubernetes API requests per minute for one entity with 1 and 20 open pages:
 * the rollouts tab against Backstage's Kubernetes tab, counted in the API
 * server's audit log (requests by the portal's ServiceAccount).
 */
import {
  countBy,
  RESOURCE_KINDS,
} from '@golden-path/plugin-rollouts-backend/testUtils';
import {
  AppsV1Api,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { benchEnv } from './benchEnv';
import { PortalClient } from './portal';
import { report, sleep } from './report';
import { markdownTable, ratio } from './stats';
import { beyondUpkeep } from './upkeep';
import {
  KUBERNETES_TAB_POLL_MS,
  KubernetesTabViewer,
  RolloutsTabViewer,
  Viewer,
} from './viewers';

const env = benchEnv();
const churnMs = Math.min(10_000, (env.windowSeconds * 1000) / 4);

interface WindowResult {
  scenario: string;
  viewers: number;
  requests: number;
  perMinute: number;
  verbs: Record<string, number>;
  byVerb: string;
  signals: number;
}

describe('Kubernetes API requests per minute', () => {
  let portal: PortalClient;
  const apps = env.kubeConfig.makeApiClient(AppsV1Api);

  beforeAll(async () => {
    portal = await PortalClient.signIn(env.backendUrl, env.entity);
    // Opens the rollouts page once so its cache and notifier are warm: the
    // windows measure steady state, not start-up.
    await portal.rolloutsStatus();
    await portal.kubernetesObjects();
  });

  /**
   * Something changes in the entity's namespace every 10 s (more often in a
   * shorter window), the same for both tabs.
   */
  function churn(): () => void {
    let tick = 0;
    const timer = setInterval(() => {
      tick += 1;
      void apps
        .patchNamespacedDeployment(
          {
            name: 'fastapi-demo',
            namespace: env.kubeNamespace,
            body: {
              metadata: {
                annotations: { 'bench.golden-path.dev/tick': String(tick) },
              },
            },
          },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        )
        .catch(() => undefined);
    }, churnMs);
    return () => clearInterval(timer);
  }

  async function measure(
    scenario: string,
    viewers: Viewer[],
  ): Promise<WindowResult> {
    const windowMs = env.windowSeconds * 1000;
    const mark = env.audit.mark();
    const start = Date.now();
    const stopChurn = churn();
    // Independent users open the page at different moments of a poll period.
    const opened = viewers.map(v =>
      sleep(
        Math.random() * Math.min(KUBERNETES_TAB_POLL_MS, windowMs / 2),
      ).then(() => v.open()),
    );
    await sleep(windowMs);
    stopChurn();
    await Promise.all(opened);
    viewers.forEach(v => v.close());
    const end = start + windowMs;
    const requests = (
      await env.audit.requestsSince(mark, { settleMs: 500 })
    ).filter(
      r =>
        env.portalUsers.has(r.username) &&
        r.receivedAt.getTime() >= start &&
        r.receivedAt.getTime() <= end,
    );
    for (const v of viewers) {
      // A page that failed to load would make its plugin look cheap.
      expect(v.errors.map(e => e.message)).toEqual([]);
      expect(v.pods.size).toBeGreaterThan(0);
    }
    const verbs = countBy(requests, r => r.verb);
    return {
      scenario,
      viewers: viewers.length,
      requests: requests.length,
      perMinute: (requests.length * 60) / env.windowSeconds,
      verbs,
      byVerb:
        Object.entries(verbs)
          .sort(([, a], [, b]) => b - a)
          .map(([verb, n]) => `${verb} ${n}`)
          .join(', ') || 'none',
      signals: viewers.reduce(
        (n, v) => n + (v instanceof RolloutsTabViewer ? v.signals : 0),
        0,
      ),
    };
  }

  it(
    'counts the requests of each tab with 1 and 20 viewers',
    async () => {
      const results: WindowResult[] = [];
      const signedIn = portal;
      results.push(await measure('no page open (informer upkeep)', []));
      for (const n of [1, 20]) {
        results.push(
          await measure(
            'Kubernetes plugin tab',
            Array.from({ length: n }, () => new KubernetesTabViewer(signedIn)),
          ),
        );
        const rollouts = Array.from(
          { length: n },
          () => new RolloutsTabViewer(signedIn),
        );
        results.push(await measure('rollouts plugin tab', rollouts));
        // The pages were kept fresh by pushed signals, not by polling.
        expect(rollouts.every(v => v.signals > 0)).toBe(true);
      }
      const baseline = (n: number) =>
        results.find(
          r => r.scenario === 'Kubernetes plugin tab' && r.viewers === n,
        )!.perMinute;
      report(
        `Kubernetes API requests per minute (${
          env.windowSeconds
        } s windows, a change in the namespace every ${churnMs / 1000} s)`,
        markdownTable(
          [
            'open pages of one entity',
            'viewers',
            'API requests',
            'per minute',
            'ratio to Kubernetes tab',
            'by verb',
            'signals received',
          ],
          results.map(r => [
            r.scenario,
            r.viewers,
            r.requests,
            r.perMinute,
            r.viewers ? ratio(r.perMinute, baseline(r.viewers)) : '',
            r.byVerb,
            r.scenario.startsWith('rollouts') ? r.signals : '',
          ]),
        ),
        `Counted in the API server's audit log: requests by ${[
          ...env.portalUsers,
        ].join(' and ')}, the identities of the two plugins.`,
        "The rollouts plugin's only requests are its informers re-opening their watches (server-side timeout 4-6 minutes, 9 kinds: 1.8 per minute on average, whether or not pages are open); a window sees none or a few of them. Page views and signal-triggered reloads are answered from the cache.",
      );
      // The Kubernetes tab's cost grows with its viewers; it polls the API server.
      expect(baseline(20)).toBeGreaterThan(baseline(1) * 10);
      // The rollouts plugin's own promise: with 1 or 20 open pages it makes no request
      // beyond what its informers make with none (upkeep.ts bounds that per window).
      const overruns = results
        .filter(r => r.scenario !== 'Kubernetes plugin tab')
        .flatMap(r =>
          beyondUpkeep(r.verbs, env.windowSeconds, RESOURCE_KINDS.length).map(
            problem => `${r.scenario}, ${r.viewers} viewer(s): ${problem}`,
          ),
        );
      expect(overruns).toEqual([]);
    },
    20 * 60_000,
  );
});
