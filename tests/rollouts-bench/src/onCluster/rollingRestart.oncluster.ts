/*
 * A rolling restart of the deployed portal under steady load (issue 17, item
 * 3): requests go through the portal's Service the whole time, from before
 * `kubectl rollout restart` until the rollout is complete, and none may be
 * lost. Run by scripts/test-portal-on-cluster.sh, which deploys deploy/portal
 * on the local cluster's real nodes and removes it again.
 */
import { execFileSync, spawn } from 'node:child_process';
import { positiveInt } from '../benchEnv';
import { PortalClient } from '../portal';
import { report, sleep } from '../report';
import { markdownTable } from '../stats';
import {
  JsonStreamSplitter,
  PodWatchEvent,
  podTerminations,
} from './podTerminations';
import { missingSends, RequestOutcome, summarizeLoss } from './requestLoss';

const HOW = 'Run it with scripts/test-portal-on-cluster.sh.';
function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set. ${HOW}`);
  return value;
}

const URL = required('PORTAL_ON_CLUSTER_URL');
const NAMESPACE = required('PORTAL_ON_CLUSTER_NAMESPACE');
const RATE = positiveInt('PORTAL_ON_CLUSTER_LOAD_RPS', 20);
/** Load before the restart starts and after it ends. */
const MARGIN_MS = 5000;

const kubectl = (...args: string[]) =>
  execFileSync('kubectl', ['-n', NAMESPACE, ...args], { encoding: 'utf8' });

/** The portal's pods that are not terminating. */
function servingPods(): string[] {
  const pods = JSON.parse(
    kubectl('get', 'pods', '-l', 'app.kubernetes.io/name=portal', '-o', 'json'),
  ).items as { metadata: { name: string; deletionTimestamp?: string } }[];
  return pods
    .filter(p => !p.metadata.deletionTimestamp)
    .map(p => p.metadata.name);
}

/**
 * Sends requests at a fixed rate, alternating the kinds, until stopped. Node's
 * fetch keeps connections alive, as a proxy in front of the portal would: a
 * replica that closes them abruptly while stopping loses requests.
 */
function steadyLoad(
  ratePerSecond: number,
  requests: Record<string, () => Promise<Response>>,
) {
  const outcomes: RequestOutcome[] = [];
  const inFlight = new Set<Promise<void>>();
  const kinds = Object.keys(requests);
  let tick = 0;
  const startedAt = Date.now();
  const timer = setInterval(() => {
    const kind = kinds[tick++ % kinds.length];
    const sent = Date.now();
    const request = requests[kind]()
      .then(async res => {
        await res.arrayBuffer();
        outcomes.push({
          kind,
          startedAt: sent,
          endedAt: Date.now(),
          status: res.status,
        });
      })
      .catch((e: any) => {
        outcomes.push({
          kind,
          startedAt: sent,
          endedAt: Date.now(),
          error: String(e?.cause?.code ?? e?.cause?.message ?? e?.message ?? e),
        });
      })
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  }, 1000 / ratePerSecond);
  return {
    async stop() {
      clearInterval(timer);
      const windowMs = Date.now() - startedAt;
      await Promise.all(inFlight);
      return { outcomes, windowMs, ticks: tick };
    },
  };
}

/**
 * Every change to the portal's pods, as `kubectl get pods --watch` streams
 * them, stamped with the time this process read each one.
 */
function watchPods() {
  const events: PodWatchEvent[] = [];
  const splitter = new JsonStreamSplitter();
  const watch = spawn(
    'kubectl',
    [
      '-n',
      NAMESPACE,
      'get',
      'pods',
      '-l',
      'app.kubernetes.io/name=portal',
      '--watch',
      '--output-watch-events',
      '-o',
      'json',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  watch.stdout.setEncoding('utf8');
  watch.stdout.on('data', (chunk: string) => {
    const receivedAt = Date.now();
    for (const doc of splitter.push(chunk) as Omit<
      PodWatchEvent,
      'receivedAt'
    >[]) {
      events.push({ ...doc, receivedAt });
    }
  });
  return {
    events,
    stop: () => watch.kill(),
  };
}

describe('the deployed portal', () => {
  let podWatch: ReturnType<typeof watchPods> | undefined;
  afterAll(() => podWatch?.stop());

  it(
    'loses no request while kubectl rollout restart replaces every replica',
    async () => {
      const portal = await PortalClient.signIn(URL, {
        kind: 'component',
        namespace: 'default',
        name: 'golden-path-portal',
      });
      const timeout = () => AbortSignal.timeout(10_000);
      const load = steadyLoad(RATE, {
        // Not the readiness endpoint: a draining replica rightly answers it 503.
        'app page': () => fetch(`${URL}/catalog`, { signal: timeout() }),
        'catalog entity': () =>
          fetch(
            `${URL}/api/catalog/entities/by-name/component/default/golden-path-portal`,
            {
              headers: { authorization: portal.authorization },
              signal: timeout(),
            },
          ),
        'rollouts status': () =>
          fetch(
            `${URL}/api/rollouts/entity/component/default/golden-path-portal/status`,
            {
              headers: { authorization: portal.authorization },
              signal: timeout(),
            },
          ),
      });
      const watch = watchPods();
      podWatch = watch;
      await sleep(MARGIN_MS);
      const podsBefore = servingPods();
      const restartAt = Date.now();
      kubectl('rollout', 'restart', 'deployment/portal');
      await new Promise<void>((resolve, reject) => {
        const status = spawn(
          'kubectl',
          [
            '-n',
            NAMESPACE,
            'rollout',
            'status',
            'deployment/portal',
            '--timeout=600s',
          ],
          { stdio: 'inherit' },
        );
        status.on('exit', code =>
          code === 0
            ? resolve()
            : reject(new Error(`rollout status exited ${code}`)),
        );
      });
      const rolledAt = Date.now();
      // Old pods may still drain after the rollout counts as complete.
      await sleep(MARGIN_MS);
      const { outcomes, windowMs, ticks } = await load.stop();
      const podsAfter = servingPods();
      // Each old pod's stop: from its deletion to its backend's exit. Waits
      // until every old pod has stopped or its grace period (30 s) is long over.
      const stopsOfOldPods = () =>
        podTerminations(watch.events, 'backend').filter(t =>
          podsBefore.includes(t.pod),
        );
      const everyOldPodStopped = () => {
        const stopped = stopsOfOldPods();
        return (
          stopped.length === podsBefore.length &&
          stopped.every(t => t.stopSeconds !== undefined)
        );
      };
      const deadline = Date.now() + 60_000;
      while (!everyOldPodStopped() && Date.now() < deadline) await sleep(500);
      watch.stop();
      const stops = stopsOfOldPods();
      const summary = summarizeLoss(outcomes);
      const byKind = [...new Set(outcomes.map(o => o.kind))].map(kind => {
        const s = summarizeLoss(outcomes.filter(o => o.kind === kind));
        return [kind, s.sent, s.lost, s.slowestMs];
      });
      report(
        'Rolling restart of the deployed portal under load',
        markdownTable(
          ['request', 'sent', 'lost', 'slowest answer ms'],
          [...byKind, ['all', summary.sent, summary.lost, summary.slowestMs]],
        ),
        `${RATE} requests/s through the Service ${URL} for ${(
          windowMs / 1000
        ).toFixed(1)} s; \`kubectl rollout restart\` → rollout complete: ${(
          (rolledAt - restartAt) /
          1000
        ).toFixed(1)} s; pods before: ${podsBefore.length}, after: ${
          podsAfter.length
        }, replaced: ${podsBefore.filter(p => !podsAfter.includes(p)).length}.`,
        markdownTable(
          [
            'old pod',
            'deletion → backend exited (s)',
            'exit code',
            'grace period (s)',
            'killed',
          ],
          stops.map(t => [
            t.pod,
            t.stopSeconds?.toFixed(1) ?? 'still running',
            t.exitCode ?? 'not seen',
            t.gracePeriodSeconds ?? '',
            t.killed ? 'yes' : 'no',
          ]),
        ),
        summary.lost
          ? `Lost: ${JSON.stringify(summary.lostBy)}, from ${
              summary.firstLostAt! - restartAt
            } ms to ${
              summary.lastLostAt! - restartAt
            } ms after the restart began.`
          : 'Lost: none.',
      );
      expect(ticks).toBe(summary.sent);
      expect(missingSends(summary.sent, windowMs, RATE)).toBe(0);
      expect(podsBefore.filter(p => podsAfter.includes(p))).toEqual([]);
      expect(summary.lostBy).toEqual({});
      // Every old pod's backend exited by itself, before its grace period
      // ended in SIGKILL (as it did before cutLingeringConnections).
      expect(stops.map(t => t.pod).sort()).toEqual([...podsBefore].sort());
      expect(
        stops.filter(t => t.killed || t.stopSeconds === undefined),
      ).toEqual([]);
    },
    15 * 60_000,
  );
});
