/*
 * The portal as several replicas (issue 17, item 3): two real portal backends
 * on one PostgreSQL, watching one real API server. Two ways to get them
 * (replicaPool.ts), the same assertions for both:
 *  - scripts/test-replicas.sh starts PostgreSQL and provides the cluster; this
 *    file starts and stops backend processes on the host (it compares 1 and 2
 *    of them);
 *  - scripts/test-portal-on-cluster.sh deploys deploy/portal on the local
 *    cluster's real nodes and sets REPLICAS_PORTAL_NAMESPACE: the replicas are
 *    two of its pods, reached by pod IP, and the pair's namespace is the fixed
 *    REPLICAS_NAMESPACE whose entity the deployed portal's catalog holds.
 */
import {
  AuditedRequest,
  ApiServerAuditLog,
  countBy,
  RESOURCE_KINDS,
  WRITE_VERBS,
} from '@golden-path/plugin-rollouts-backend/testUtils';
import type { EntityRolloutsResponse } from '@golden-path/plugin-rollouts-common';
import {
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { positiveInt } from '../benchEnv';
import { getAsJson } from '../kubeGet';
import { PortalClient } from '../portal';
import { report, repoRoot, sleep } from '../report';
import { markdownTable } from '../stats';
import { beyondUpkeep } from '../upkeep';
import { RolloutsTabViewer } from '../viewers';
import { eventsOf } from './auditorEvents';
import { HostReplicaPool } from './hostReplicas';
import { PortalPodPool } from './portalPods';
import { Replica, ReplicaPool } from './replicaPool';
import { ReplicasCluster } from './replicasCluster';

const HOW =
  'Run it with scripts/test-replicas.sh or scripts/test-portal-on-cluster.sh.';
function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set. ${HOW}`);
  return value;
}

/** Set: the replicas are the pods of deploy/portal in this namespace. */
const PORTAL_NAMESPACE = process.env.REPLICAS_PORTAL_NAMESPACE;
const WINDOW_SECONDS = positiveInt('REPLICAS_WINDOW_SECONDS', 30);
/** Seconds between the scheduled scale-down task's runs, in every replica. */
const SCALE_DOWN_CHECK_SECONDS = 2;
const SCALE_DOWN_DELAY_SECONDS = 5;
const KEEPALIVE_SECONDS = 2;
/** What the test holds a change → page time to. */
const SHOW_WITHIN_MS = 1000;

const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(required('KUBECONFIG'));
const audit = new ApiServerAuditLog(required('KUBE_AUDIT_LOG'));
// The deployed portal's catalog names the pair's namespace ahead.
const cluster = PORTAL_NAMESPACE
  ? new ReplicasCluster(kubeConfig, required('REPLICAS_NAMESPACE'))
  : ReplicasCluster.forPrefix(
      kubeConfig,
      process.env.REPLICAS_NAMESPACE_PREFIX || 'replicas',
    );

/** The replicas of one of the two ways (see the top of this file). */
async function replicaPool(): Promise<ReplicaPool> {
  if (PORTAL_NAMESPACE) {
    return PortalPodPool.create(cluster, PORTAL_NAMESPACE);
  }
  return HostReplicaPool.create(cluster, {
    repoRoot: repoRoot(),
    workDir: required('REPLICAS_WORK_DIR'),
    rollouts: {
      // The EndpointSlice controller may lag on a busy cluster: a switch
      // answers after this long even if the slices have not followed yet.
      switchTimeoutSeconds: 10,
      scaleDownCheckSeconds: SCALE_DOWN_CHECK_SECONDS,
      keepaliveSeconds: KEEPALIVE_SECONDS,
    },
  });
}

/** Every step's time, printed as it ends and in the report. */
const steps: [string, number][] = [];
async function step<T>(label: string, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await run();
  } finally {
    const ms = Date.now() - started;
    steps.push([label, ms]);
    process.stdout.write(`[replicas] ${label}: ${(ms / 1000).toFixed(1)} s\n`);
  }
}

describe('the portal as two replicas on one PostgreSQL', () => {
  let pool: ReplicaPool;
  const replicas = new Map<string, Replica>();
  const portals = new Map<string, PortalClient>();
  const requestsAtStart = new Map<string, AuditedRequest[]>();

  const ownRequests = async (mark: number, settleMs = 500) =>
    (await audit.requestsSince(mark, { settleMs })).filter(
      r => r.username === pool.username,
    );

  const liveSlot = (status?: EntityRolloutsResponse) =>
    status?.clusters[0]?.blueGreen.find(b => b.service === 'demo-api')
      ?.liveSlot;

  /** Signs in on the replica once its catalog has the entity and its cache the pair. */
  async function openPortal(url: string): Promise<PortalClient> {
    // A cluster-wide first sync lists every pod and ReplicaSet of the cluster.
    const deadline = Date.now() + 600_000;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        const portal = await PortalClient.signIn(url, {
          kind: 'component',
          namespace: 'default',
          name: cluster.entityName,
        });
        const status = await portal.rolloutsStatus();
        if (status.clusters[0]?.state !== 'ok' || !liveSlot(status)) {
          throw new Error(
            `cache not synced: ${JSON.stringify(status.clusters[0])}`,
          );
        }
        return portal;
      } catch (e) {
        last = e;
        await sleep(1000);
      }
    }
    throw new Error(`the page on ${url} did not load: ${last}`);
  }

  /**
   * Starts a replica (or takes one more pod), counting the API requests its
   * start-up makes when the test starts it.
   */
  async function startReplica(name: string, namespaces?: string[]) {
    const mark = audit.mark();
    const replica = await step(
      pool.startsReplicas
        ? `start replica ${name} (ready)`
        : `replica ${name}: a serving pod`,
      () => pool.replica(name, namespaces),
    );
    replicas.set(name, replica);
    portals.set(
      name,
      await step(`replica ${name}: entity in catalog, cache synced`, () =>
        openPortal(replica.url),
      ),
    );
    if (pool.startsReplicas) {
      requestsAtStart.set(name, await ownRequests(mark));
    }
    return replica;
  }

  beforeAll(async () => {
    pool = await step(`create namespace ${cluster.namespace}`, replicaPool);
    await step('pair Ready on fake nodes', () => cluster.runPair(10 * 60_000));
    process.stdout.write(
      `[replicas] replicas: ${pool.description}; identity ${pool.username}\n`,
    );
    await startReplica('a');
  }, 30 * 60_000);

  afterAll(async () => {
    // A replica that outlives SIGTERM fails the suite, after the clean-up.
    const stopError = await step('stop the replicas (SIGTERM)', async () =>
      pool?.stop().then(
        () => undefined,
        (error: Error) => error,
      ),
    );
    await step(`delete namespace ${cluster.namespace}`, () => cluster.delete());
    report(
      'Steps',
      markdownTable(
        ['step', 'seconds'],
        steps.map(([label, ms]) => [label, ms / 1000]),
      ),
    );
    if (stopError) throw stopError;
  }, 5 * 60_000);

  /**
   * Something changes in the pair's namespace every 2 s: pages reload. An
   * annotation of a pod: a Deployment's would bump its generation, and a
   * switch refuses a slot whose new generation the controller has not
   * observed yet.
   */
  function churn(): () => void {
    let tick = 0;
    const timer = setInterval(() => {
      tick += 1;
      void cluster.core
        .patchNamespacedPod(
          {
            name: cluster.podNames[0],
            namespace: cluster.namespace,
            body: {
              metadata: { annotations: { 'replicas.test/tick': String(tick) } },
            },
          },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        )
        .catch(() => undefined);
    }, 2000);
    return () => clearInterval(timer);
  }

  interface WindowRow {
    scenario: string;
    replicas: number;
    pages: number;
    requests: number;
    verbs: Record<string, number>;
    changedSignals: number;
    reloads: number;
  }

  async function countWindow(
    scenario: string,
    pagesPerReplica: Record<string, number>,
  ): Promise<WindowRow> {
    const pages = Object.entries(pagesPerReplica).flatMap(([name, n]) =>
      Array.from(
        { length: n },
        () => new RolloutsTabViewer(portals.get(name)!),
      ),
    );
    const watching = await pool.watchingReplicas();
    const mark = audit.mark();
    const start = Date.now();
    const stopChurn = churn();
    await Promise.all(pages.map(p => p.open()));
    await sleep(WINDOW_SECONDS * 1000 - (Date.now() - start));
    stopChurn();
    pages.forEach(p => p.close());
    const end = Date.now();
    const requests = (await ownRequests(mark)).filter(
      r => r.receivedAt.getTime() >= start && r.receivedAt.getTime() <= end,
    );
    for (const p of pages) {
      expect(p.errors.map(e => e.message)).toEqual([]);
      // Kept fresh by signals: each page reloaded after a change.
      expect(p.received.some(s => s.signal.type === 'changed')).toBe(true);
    }
    return {
      scenario,
      replicas: watching,
      pages: pages.length,
      requests: requests.length,
      verbs: countBy(requests, r => r.verb),
      changedSignals: pages.reduce(
        (n, p) =>
          n + p.received.filter(s => s.signal.type === 'changed').length,
        0,
      ),
      reloads: pages.reduce((n, p) => n + p.reloads, 0),
    };
  }

  const byVerb = (verbs: Record<string, number>) =>
    Object.entries(verbs)
      .map(([verb, n]) => `${verb} ${n}`)
      .join(', ') || 'none';

  it(
    '(c) makes API requests per replica, none per open page',
    async () => {
      const rows: WindowRow[] = [];
      rows.push(
        await step('window: 1 page on A', () =>
          countWindow('1 page on A', { a: 1 }),
        ),
      );
      rows.push(
        await step('window: 20 pages on A', () =>
          countWindow('20 pages on A', { a: 20 }),
        ),
      );
      await startReplica('b');
      rows.push(
        await step('window: 20 pages on A and B', () =>
          countWindow('20 pages, 10 on each replica', { a: 10, b: 10 }),
        ),
      );
      rows.push(
        await step('window: 1 page on A, B ready', () =>
          countWindow('1 page on A', { a: 1 }),
        ),
      );

      // Pods of a deployment started before the test: their starts are not
      // in the windows the test can count.
      const started = [...requestsAtStart.keys()];
      const startOf = (name: string) => requestsAtStart.get(name)!;
      /** What a replica's start asked for: verb and resource, e.g. "list pods". */
      const kinds = (name: string) =>
        [...new Set(startOf(name).map(r => `${r.verb} ${r.resource}`))].sort();
      report(
        `Kubernetes API requests of the replicas' identity (${WINDOW_SECONDS} s windows, a change every 2 s)`,
        markdownTable(
          [
            'what',
            'replicas',
            'open pages',
            'API requests',
            'by verb',
            "'changed' signals / reloads at the pages",
          ],
          [
            ...started.map(name => [
              `start of replica ${name.toUpperCase()} (until synced)`,
              name === 'a' ? 1 : 2,
              0,
              startOf(name).length,
              byVerb(countBy(startOf(name), r => r.verb)),
              '',
            ]),
            ...rows.map(r => [
              r.scenario,
              r.replicas,
              r.pages,
              r.requests,
              byVerb(r.verbs),
              `${r.changedSignals} / ${r.reloads}`,
            ]),
          ],
        ),
        `Replicas: ${pool.description}; "replicas" counts every backend that watches with the identity. Counted in the API server's audit log: requests by ${pool.username}, the identity all replicas use.`,
      );
      // Each replica the test starts lists and watches the same kinds: the
      // count grows with replicas.
      const kindsOfStarts = started.map(kinds);
      expect(kindsOfStarts.length).toBe(pool.startsReplicas ? 2 : 0);
      expect(
        kindsOfStarts.filter(
          k => !k.includes('list pods') || !k.includes('watch pods'),
        ),
      ).toEqual([]);
      expect(new Set(kindsOfStarts.map(k => k.join(', '))).size).toBe(
        pool.startsReplicas ? 1 : 0,
      );
      // Open pages add nothing beyond the informers' upkeep, whichever replicas serve them.
      const overruns = rows.flatMap(r =>
        beyondUpkeep(
          r.verbs,
          WINDOW_SECONDS,
          RESOURCE_KINDS.length * r.replicas,
        ).map(problem => `${r.scenario}, ${r.replicas} replica(s): ${problem}`),
      );
      expect(overruns).toEqual([]);
    },
    15 * 60_000,
  );

  it('keeps every plugin of both replicas on the events bus', () => {
    // With events.useEventBus "auto", a plugin that subscribed while the events
    // backend was starting got a 404 and kept its own replica's events only.
    for (const name of ['a', 'b']) {
      expect(
        replicas
          .get(name)!
          .log()
          .split('\n')
          .filter(line => /events backend not found/.test(line)),
      ).toEqual([]);
    }
  });

  let switchMark = 0;
  let switchedAt = 0;

  it(
    '(a) a page on replica A shows a switch made through replica B within 1 s',
    async () => {
      const page = new RolloutsTabViewer(portals.get('a')!);
      // A second user's page on B: both replicas watch the entity for open pages.
      const other = new RolloutsTabViewer(portals.get('b')!);
      let shownAt = 0;
      page.onStatus = (status, at) => {
        if (!shownAt && liveSlot(status) === 'green') shownAt = at;
      };
      await page.open();
      await other.open();
      expect(liveSlot(page.status)).toBe('blue');
      switchMark = audit.mark();
      const requestedAt = Date.now();
      const result = await step('switch blue → green through replica B', () =>
        portals.get('b')!.switchTraffic({
          cluster: pool.clusterName,
          namespace: cluster.namespace,
          service: 'demo-api',
          targetSlot: 'green',
          expectedCurrentSlot: 'blue',
          scaleDownDelaySeconds: SCALE_DOWN_DELAY_SECONDS,
        }),
      );
      const answeredAt = Date.now();
      expect(result).toMatchObject({ from: 'blue', to: 'green' });
      for (let waited = 0; !shownAt && waited < 10_000; waited += 50)
        await sleep(50);
      // The burst's trailing signals (EndpointSlices follow the selector).
      await sleep(2000);
      page.close();
      other.close();
      expect(shownAt).toBeGreaterThan(0);
      // Both replicas watch the entity, so each change reaches the page on A
      // from both; it names its change, and the page reloads for each copy.
      const changes = page.received
        .filter(r => r.at >= requestedAt)
        .map(r => r.signal)
        .filter(signal => signal.type === 'changed');
      const distinct = new Set(
        changes.map(c => (c.type === 'changed' ? c.resourceVersion : '')),
      );
      expect(
        changes.filter(c => c.type === 'changed' && !c.resourceVersion),
      ).toEqual([]);
      expect(page.errors).toEqual([]);
      const patch = (await ownRequests(switchMark)).find(
        r =>
          r.verb === 'patch' &&
          r.resource === 'services' &&
          r.name === 'demo-api',
      );
      expect(patch).toBeDefined();
      switchedAt = patch!.receivedAt.getTime();
      const shownAfterPatchMs = shownAt - switchedAt;
      report(
        'A switch through replica B, seen on a page connected to replica A',
        markdownTable(
          ['measure', 'ms'],
          [
            [
              'switch request → its answer (B waits for the EndpointSlices)',
              answeredAt - requestedAt,
            ],
            [
              "Service patch at the API server (audit log) → page on A shows 'green'",
              shownAfterPatchMs,
            ],
            ["switch request → page on A shows 'green'", shownAt - requestedAt],
          ],
        ),
        `From the switch on, the page on A received ${changes.length} 'changed' signals naming ${distinct.size} changes (a page on B kept replica B watching the entity too), and reloaded ${page.reloads} times since it opened.`,
      );
      expect(shownAfterPatchMs).toBeLessThanOrEqual(SHOW_WITHIN_MS);
    },
    5 * 60_000,
  );

  it('(b) the switch is audited once and patched once', async () => {
    expect(switchMark).toBeGreaterThan(0);
    const writes = (await ownRequests(switchMark, 1000))
      .filter(
        r =>
          WRITE_VERBS.has(r.verb) &&
          r.receivedAt.getTime() < switchedAt + SCALE_DOWN_DELAY_SECONDS * 1000,
      )
      .map(r => `${r.verb} ${r.resource} ${r.name} ${r.code}`);
    const auditorEvents = ['a', 'b'].map(name => ({
      name,
      events: eventsOf(
        replicas.get(name)!.auditorEvents(),
        'rollouts',
        'traffic-switch',
        'succeeded',
      ),
    }));
    report(
      'The switch in the audit records',
      `API server, writes by the replicas' identity: ${writes.join('; ')}`,
      `Auditor records \`rollouts.traffic-switch\` succeeded: ${auditorEvents
        .map(r => `replica ${r.name.toUpperCase()} ${r.events.length}`)
        .join(', ')}`,
    );
    // One patch set: the selector, and the schedule on the slot switched away from.
    expect(writes).toEqual([
      'patch services demo-api 200',
      'patch deployments demo-api-blue 200',
    ]);
    expect(auditorEvents.map(r => r.events.length)).toEqual([0, 1]);
  });

  it(
    '(d) the scheduled scale-down runs once across the replicas',
    async () => {
      expect(switchMark).toBeGreaterThan(0);
      await step('scheduled scale-down of blue', async () => {
        for (let waited = 0; waited < 120_000; waited += 500) {
          const blue = await cluster.apps.readNamespacedDeployment({
            name: 'demo-api-blue',
            namespace: cluster.namespace,
          });
          if (blue.spec?.replicas === 0) return;
          await sleep(500);
        }
        throw new Error('demo-api-blue was not scaled down within 120 s');
      });
      // Three more runs of the task, on either replica, must not patch again.
      await sleep(3 * SCALE_DOWN_CHECK_SECONDS * 1000 + 5000);
      const blueWrites = (await ownRequests(switchMark, 1000))
        .filter(r => WRITE_VERBS.has(r.verb) && r.name === 'demo-api-blue')
        .map(r => `${r.verb} ${r.resource} ${r.name} ${r.code}`);
      // Every replica's task may run it: the ones the test did not take too.
      const ranOn = [
        ...[...replicas.values()].map(r => ({
          label: `replica ${r.name.toUpperCase()}`,
          r,
        })),
        ...pool.bystanders().map(r => ({ label: `pod ${r.name}`, r })),
      ].map(({ label, r }) => ({
        label,
        runs: eventsOf(
          r.auditorEvents(),
          'rollouts',
          'traffic-scale-down',
          'succeeded',
        ).length,
      }));
      const task = pool.rolloutsTasks();
      report(
        'The scheduled scale-down across two replicas',
        `Writes to demo-api-blue by the replicas' identity since the switch: ${blueWrites.join(
          '; ',
        )}`,
        `Auditor records \`rollouts.traffic-scale-down\` succeeded: ${ranOn
          .map(r => `${r.label} ${r.runs}`)
          .join(', ')}`,
        `Tasks in PostgreSQL (backstage_plugin_rollouts): ${task}`,
      );
      expect(blueWrites).toEqual([
        'patch deployments demo-api-blue 200',
        'patch deployments demo-api-blue 200',
      ]);
      expect(ranOn.reduce((n, r) => n + r.runs, 0)).toBe(1);
      expect(task).toMatch(/^rollouts-scheduled-scale-down next run /);
    },
    5 * 60_000,
  );

  it(
    '(e) measures the memory of each replica, cluster-wide and with rollouts.namespaces',
    async () => {
      // Only replicas the test starts can differ in config; the pods of one
      // Deployment cannot.
      if (pool.startsReplicas) {
        await startReplica('c', [cluster.namespace]);
      }
      const memory = await pool.memory();
      const counts = await Promise.all(
        ['pods', 'replicasets', 'deployments', 'services', 'events'].map(
          async kind => {
            const group = ['replicasets', 'deployments'].includes(kind)
              ? '/apis/apps/v1'
              : '/api/v1';
            return `${await objectCount(`${group}/${kind}`)} ${kind}`;
          },
        ),
      );
      report(
        memory.note,
        markdownTable(memory.columns, memory.rows),
        `The cluster held ${counts.join(', ')}.`,
      );
      expect(memory.rows.length).toBeGreaterThanOrEqual(2);
      // With rollouts.namespaces the replica lists only there.
      const uris = (requestsAtStart.get('c') ?? [])
        .filter(r => r.verb === 'list')
        .map(r => r.requestURI);
      expect(uris.length > 0).toBe(pool.startsReplicas);
      expect(
        uris.filter(u => !u.includes(`/namespaces/${cluster.namespace}/`)),
      ).toEqual([]);
    },
    10 * 60_000,
  );
});

/** How many objects of a kind the cluster holds (one small list request). */
async function objectCount(apiPath: string): Promise<number> {
  const list = JSON.parse(await getAsJson(kubeConfig, `${apiPath}?limit=1`));
  return (list.items?.length ?? 0) + (list.metadata?.remainingItemCount ?? 0);
}
