/*
 * A node drain against a PodDisruptionBudget, on real nodes (the templates ship one with
 * maxUnavailable: 1 for every Deployment of 2+ replicas; this shows what it does):
 *
 *  - a 3-replica Deployment spread over two real nodes (so one of them holds two
 *    replicas) and a PodDisruptionBudget with maxUnavailable: 1;
 *  - that node is drained the way `kubectl drain` does it: cordoned, then every pod on it
 *    evicted through the Eviction API, all at once, each retried while it is refused;
 *  - the eviction beyond the budget is refused with HTTP 429 ("Cannot evict pod as it
 *    would violate the pod's disruption budget") until the first pod's replacement is
 *    Ready on the other node; the number of Ready replicas never drops below 2; the drain
 *    completes (no pod left on the node, 3 Ready elsewhere); the node is uncordoned.
 *
 * The pods carry a readiness gate the test opens (readinessGate.ts). During the drain
 * it holds a replacement un-Ready until it has seen a refusal: otherwise, on a busy
 * machine, the second eviction can reach the API server after the replacement is Ready
 * (0.9 s here) and the budget rightly lets it through (seen once in CI: no 429).
 *
 * Ready replicas are followed with a watch rather than a poll: the watch sees every change
 * of every pod in the order the API server made them, so a dip shorter than any poll
 * interval cannot slip through, and "the replacement was Ready before the second eviction"
 * is read from that order, not from clocks.
 *
 * Only the test's own pods are evicted: the cluster's add-ons (CoreDNS, metrics-server,
 * the storage provisioner) may run on the same node and other tests need them. The node
 * is uncordoned and the namespace deleted even when the test fails.
 *
 * Runs with 2+ real nodes (KUBE_REAL_NODES; `make test` has a NODES=3 stage for it),
 * skipped otherwise, like the cross-node test of real-node.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ApiException,
  PatchStrategy,
  PolicyV1Api,
  setHeaderOptions,
  V1Pod,
  Watch,
} from '@kubernetes/client-node';
import {
  ApiStatus,
  Clients,
  clients,
  col,
  Collection,
  createTestNamespace,
  deleteTestNamespace,
  isPodReady,
  loadKubeConfig,
  REAL_NODE_LABEL,
  rolloutSucceeded,
  waitForList,
  waitForObject,
} from './kube';
import { gateKeeper, readinessGates } from './readinessGate';
import { expectedRealNodes, recordTiming, webPodSpec } from './realNode';

const APP = 'drained';
const LABELS = { app: APP };
const SELECTOR = `app=${APP}`;
const REPLICAS = 3;
const MAX_UNAVAILABLE = 1;
/** kubectl drain retries a refused eviction every 5 s; 1 s keeps the test short. */
const EVICTION_RETRY_MS = 1000;
const DRAIN_TIMEOUT_MS = 120_000;
const PDB_REFUSAL =
  "Cannot evict pod as it would violate the pod's disruption budget";
const UNSCHEDULABLE_TAINT = 'node.kubernetes.io/unschedulable';

const describeMultiNode = expectedRealNodes >= 2 ? describe : describe.skip;

const pdbs = (namespace: string): Collection => ({
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  plural: 'poddisruptionbudgets',
  namespace,
});
const nodes: Collection = { apiVersion: 'v1', kind: 'Node', plural: 'nodes' };

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** The API server's Status carried by an ApiException (its body is JSON text). */
function statusOf(e: ApiException<unknown>): ApiStatus {
  if (typeof e.body !== 'string') return (e.body ?? {}) as ApiStatus;
  try {
    return JSON.parse(e.body);
  } catch {
    return { message: e.body };
  }
}

/** One state of the test's pods after a change, in the order the API server made them. */
interface PodChange {
  type: string;
  name: string;
  node?: string;
  ready: boolean;
  terminating: boolean;
  /** Ready pods that are not being deleted, after this change. */
  readyCount: number;
}

/** Lists the pods, then watches from that list: every change, in order, until stop(). */
function followPods(namespace: string, c: Clients) {
  const pods = new Map<string, V1Pod>();
  const changes: PodChange[] = [];
  let controller: AbortController | undefined;
  let stopped = false;
  let failure: Error | undefined;
  const readyCount = () => [...pods.values()].filter(isPodReady).length;

  const started = (async () => {
    const list = await c.core.listNamespacedPod({
      namespace,
      labelSelector: SELECTOR,
    });
    for (const p of list.items) pods.set(p.metadata!.name!, p);
    controller = await new Watch(loadKubeConfig()).watch(
      `/api/v1/namespaces/${namespace}/pods`,
      {
        labelSelector: SELECTOR,
        resourceVersion: list.metadata?.resourceVersion,
        allowWatchBookmarks: true,
      },
      (type, obj: V1Pod) => {
        if (type === 'BOOKMARK') return;
        if (type === 'ERROR') {
          failure = new Error(`pod watch error: ${JSON.stringify(obj)}`);
          return;
        }
        const name = obj.metadata!.name!;
        if (type === 'DELETED') pods.delete(name);
        else pods.set(name, obj);
        changes.push({
          type,
          name,
          node: obj.spec?.nodeName,
          ready: isPodReady(obj),
          terminating: Boolean(obj.metadata?.deletionTimestamp),
          readyCount: readyCount(),
        });
      },
      err => {
        if (!stopped) failure = new Error(`the pod watch ended early: ${err}`);
      },
    );
    if (stopped) controller.abort();
  })();

  return {
    started,
    changes,
    readyCount,
    stop() {
      stopped = true;
      controller?.abort();
    },
    /** Throws if the watch failed: its record would be incomplete. */
    check() {
      if (failure) throw failure;
    },
  };
}

interface EvictionAttempt {
  pod: string;
  code: number;
  status?: ApiStatus;
}

describeMultiNode('a node drain against a PodDisruptionBudget', () => {
  let c: Clients;
  let policy: PolicyV1Api;
  let ns: string;
  let cordoned: string | undefined;
  let gate: ReturnType<typeof gateKeeper> | undefined;

  const cordon = async (node: string, unschedulable: boolean) => {
    await c.core.patchNode(
      { name: node, body: { spec: { unschedulable } } },
      merge,
    );
  };
  const uncordon = async () => {
    if (!cordoned) return;
    const node = cordoned;
    await cordon(node, false);
    cordoned = undefined;
  };

  beforeAll(async () => {
    c = clients();
    policy = c.kc.makeApiClient(PolicyV1Api);
    ns = await createTestNamespace(c.core, 'drain');
  }, 60_000);

  afterAll(async () => {
    // Whatever happened: the node takes pods again, and nothing of the test is left.
    await gate?.stop().catch(e =>
      // eslint-disable-next-line no-console
      console.error(`the readiness gate keeper failed: ${e}`),
    );
    await uncordon().catch(e =>
      // eslint-disable-next-line no-console
      console.error(`could not uncordon ${cordoned}: ${e}`),
    );
    if (ns) await deleteTestNamespace(c.core, ns, 120_000);
  }, 150_000);

  it('evicts one replica at a time: 429 until the replacement is Ready elsewhere, never fewer than 2 Ready, then the drain completes', async () => {
    // Two schedulable real nodes: three replicas on two nodes put two on one of them,
    // so draining that node needs two evictions and the budget allows only one at a time.
    const real = (
      await c.core.listNode({ labelSelector: REAL_NODE_LABEL })
    ).items
      .filter(
        n =>
          !n.spec?.unschedulable &&
          n.status?.conditions?.some(
            x => x.type === 'Ready' && x.status === 'True',
          ),
      )
      .map(n => n.metadata!.name!)
      .sort();
    expect(real.length).toBeGreaterThanOrEqual(2);
    const pair = real.slice(0, 2);

    await policy.createNamespacedPodDisruptionBudget({
      namespace: ns,
      body: {
        metadata: { name: APP },
        spec: {
          maxUnavailable: MAX_UNAVAILABLE,
          selector: { matchLabels: LABELS },
        },
      },
    });
    gate = gateKeeper(c.core, ns, SELECTOR);
    await c.apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: APP },
        spec: {
          replicas: REPLICAS,
          selector: { matchLabels: LABELS },
          template: {
            metadata: { labels: LABELS },
            spec: webPodSpec({
              affinity: {
                nodeAffinity: {
                  requiredDuringSchedulingIgnoredDuringExecution: {
                    nodeSelectorTerms: [
                      {
                        matchExpressions: [
                          {
                            key: 'kubernetes.io/hostname',
                            operator: 'In',
                            values: pair,
                          },
                        ],
                      },
                    ],
                  },
                },
              },
              // 2 + 1 over the pair. A cordoned node carries the unschedulable taint;
              // Honor leaves it out of the count, so the replacements may all go to
              // the other node.
              topologySpreadConstraints: [
                {
                  maxSkew: 1,
                  topologyKey: 'kubernetes.io/hostname',
                  whenUnsatisfiable: 'DoNotSchedule',
                  nodeTaintsPolicy: 'Honor',
                  labelSelector: { matchLabels: LABELS },
                },
              ],
              readinessGates,
            }),
          },
        },
      },
    });
    await waitForObject(
      col.deployments(ns),
      APP,
      rolloutSucceeded,
      120_000,
      `${REPLICAS} replicas Ready on ${pair.join(' and ')}`,
    );
    // The budget as the disruption controller sees it: 3 healthy, 1 disruption allowed.
    // Before that, every eviction is refused as "still being processed".
    const budget = await waitForObject(
      pdbs(ns),
      APP,
      p =>
        (p.status?.observedGeneration ?? 0) >= (p.metadata?.generation ?? 1) &&
        p.status?.currentHealthy === REPLICAS &&
        p.status?.disruptionsAllowed === MAX_UNAVAILABLE,
      60_000,
      'the disruption controller to count the healthy pods',
    );
    expect(budget.status).toMatchObject({
      expectedPods: REPLICAS,
      currentHealthy: REPLICAS,
      desiredHealthy: REPLICAS - MAX_UNAVAILABLE,
      disruptionsAllowed: MAX_UNAVAILABLE,
    });

    const before = (
      await c.core.listNamespacedPod({ namespace: ns, labelSelector: SELECTOR })
    ).items;
    expect(before.filter(isPodReady)).toHaveLength(REPLICAS);
    const perNode = new Map<string, string[]>();
    for (const p of before) {
      const node = p.spec!.nodeName!;
      perNode.set(node, [...(perNode.get(node) ?? []), p.metadata!.name!]);
    }
    expect([...perNode.values()].map(v => v.length).sort()).toEqual([1, 2]);
    const [target, onTarget] = [...perNode].find(([, v]) => v.length === 2)!;

    // From now on a new pod stays un-Ready until an eviction has been refused.
    gate.hold();
    const pods = followPods(ns, c);
    await pods.started;
    const attempts: EvictionAttempt[] = [];
    const t0 = Date.now();
    try {
      // kubectl drain, step 1: cordon. Waiting for the unschedulable taint keeps the
      // spread constraint from counting the node while the replacements are placed.
      cordoned = target;
      await cordon(target, true);
      await waitForObject(
        nodes,
        target,
        n =>
          (n.spec?.taints ?? []).some(
            (t: any) => t.key === UNSCHEDULABLE_TAINT,
          ),
        30_000,
        `the ${UNSCHEDULABLE_TAINT} taint on ${target}`,
      );

      // Step 2: evict every pod on the node at once, retrying each refused eviction.
      const deadline = Date.now() + DRAIN_TIMEOUT_MS;
      const evict = async (pod: string) => {
        for (;;) {
          try {
            await c.core.createNamespacedPodEviction({
              name: pod,
              namespace: ns,
              body: {
                apiVersion: 'policy/v1',
                kind: 'Eviction',
                metadata: { name: pod, namespace: ns },
              },
            });
            attempts.push({ pod, code: 201 });
            return;
          } catch (e) {
            if (!(e instanceof ApiException) || e.code !== 429) throw e;
            attempts.push({ pod, code: 429, status: statusOf(e) });
            gate!.release();
            if (Date.now() > deadline) {
              throw new Error(
                `the drain did not finish in ${DRAIN_TIMEOUT_MS} ms: ${pod} is still refused: ${
                  statusOf(e).message
                }`,
              );
            }
            pods.check();
            await sleep(EVICTION_RETRY_MS);
          }
        }
      };
      await Promise.all(onTarget.map(evict));

      // Step 3: wait until the evicted pods are gone, as kubectl drain does; then the
      // Deployment is whole again, on the other node.
      await waitForList(
        col.pods(ns),
        { fieldSelector: `spec.nodeName=${target}` },
        items => items.size === 0,
        60_000,
        `the evicted pods to leave ${target}`,
      );
      await waitForObject(
        col.deployments(ns),
        APP,
        rolloutSucceeded,
        60_000,
        `${REPLICAS} Ready replicas after the drain`,
      );
    } finally {
      pods.stop();
      gate.release();
      await uncordon();
    }
    pods.check();
    const drainMs = Date.now() - t0;

    // The budget refused the eviction beyond it, with the API server's own words.
    const refused = attempts.filter(a => a.code === 429);
    expect(
      attempts
        .filter(a => a.code === 201)
        .map(a => a.pod)
        .sort(),
    ).toEqual([...onTarget].sort());
    if (refused.length === 0) {
      // Seen once in a warm CI run (both evictions accepted at once): what happened.
      // eslint-disable-next-line no-console
      console.log(
        `no eviction was refused: attempts ${JSON.stringify(
          attempts,
        )}; pod changes ${JSON.stringify(pods.changes)}`,
      );
    }
    expect(refused.length).toBeGreaterThan(0);
    for (const { status } of refused) {
      expect(status).toMatchObject({ code: 429, reason: 'TooManyRequests' });
      expect(status?.message).toContain(PDB_REFUSAL);
      expect(status?.details?.causes?.[0]?.reason).toBe('DisruptionBudget');
    }

    // Never fewer Ready replicas than the budget keeps, at any change the server made;
    // and down to exactly that while an evicted pod was being replaced.
    const { changes } = pods;
    expect(changes.length).toBeGreaterThan(0);
    const minReady = Math.min(...changes.map(x => x.readyCount));
    expect(minReady).toBe(REPLICAS - MAX_UNAVAILABLE);

    // In the server's order: each eviction after the first comes after one more
    // replacement turned Ready on another node.
    const original = new Set(before.map(p => p.metadata!.name!));
    const seenReady = new Set<string>();
    const seenTerminating = new Set<string>();
    let replacementsReady = 0;
    let evictions = 0;
    for (const x of changes) {
      if (x.terminating && !seenTerminating.has(x.name)) {
        seenTerminating.add(x.name);
        if (onTarget.includes(x.name)) {
          expect({ eviction: evictions + 1, replacementsReady }).toEqual({
            eviction: evictions + 1,
            replacementsReady: evictions,
          });
          evictions++;
        }
      }
      if (x.ready && !original.has(x.name) && !seenReady.has(x.name)) {
        seenReady.add(x.name);
        expect(x.node).not.toBe(target);
        replacementsReady++;
      }
    }
    expect(evictions).toBe(onTarget.length);
    expect(replacementsReady).toBe(onTarget.length);

    // The drain completed: every replica Ready, none on the drained node.
    const after = (
      await c.core.listNamespacedPod({ namespace: ns, labelSelector: SELECTOR })
    ).items.filter(isPodReady);
    expect(after).toHaveLength(REPLICAS);
    expect(after.map(p => p.spec!.nodeName)).not.toContain(target);
    const node = await c.core.readNode({ name: target });
    expect(node.spec?.unschedulable ?? false).toBe(false);

    recordTiming(
      'drain of a node with 2 of 3 replicas (PodDisruptionBudget maxUnavailable 1)',
      drainMs,
      `${refused.length} evictions refused with 429, at least ${minReady} Ready throughout`,
    );
  }, 300_000);
});
