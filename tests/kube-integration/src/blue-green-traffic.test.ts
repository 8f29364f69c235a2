/*
 * The blue-green template's promise, proven with real traffic on the real node: the
 * generated repository (fastapi-blue-green, its "typical" example from the `templates`
 * stage; images from platform/local-repo.sh, one per slot version) runs from its
 * overlays/local in a namespace of its own, and a steady load from the host calls its live
 * Service, with new connections per request and with kept-alive connections. Three
 * phases, each under a fresh load:
 *  1. switch blue → green with the repository's own scripts/bg-switch.sh;
 *  2. roll back with scripts/bg-switch.sh rollback;
 *  3. for comparison, a plain rolling update of the live slot (its Deployment's image
 *     changed in place from blue's version to green's).
 * Each phase counts every non-2xx answer and connection error (the test fails on any),
 * and measures from the PATCH (the moment the API server announced the write, seen by a
 * watch): when new connections stopped reaching the old version, and how long kept-alive
 * connections still reached it. The phases are printed side by side in one table, which
 * also goes to the stage's summary (KUBE_TIMINGS_FILE).
 *
 * BG_TRAFFIC_SECONDS (default 3) is how long each phase keeps the load on after its
 * action finished; `make bench` runs it longer (scripts/bench-platform.sh). With
 * BG_TRAFFIC_SAMPLES_DIR set, every request of phase N goes to phase-N.json there.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  PatchStrategy,
  setHeaderOptions,
  V1Deployment,
} from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  applyServerSide,
  diagnose,
  generatedRepo,
  importImages,
  KUBECTL,
  parseManifests,
  renderLocal,
  run,
} from './generatedRepos';
import {
  Clients,
  clients,
  Collection,
  col,
  deleteTestNamespace,
  rolloutSucceeded,
  TEST_NAMESPACE_LABELS,
  TEST_NAMESPACE_PREFIX,
  uniqueName,
  waitForList,
  waitForObject,
  watchUntil,
} from './kube';
import { LoadResult, steadyLoad } from './load';
import { expectedRealNodes, recordLines } from './realNode';
import { lost, measureShift, shiftTable, TrafficShift } from './trafficShift';

const TEMPLATE = 'fastapi-blue-green';
const SLOT_LABEL = 'app.kubernetes.io/slot';
const PREVIEW_OF = 'rollouts.backstage.io/preview-of';
const HOLD_MS = Number(process.env.BG_TRAFFIC_SECONDS ?? '3') * 1000;
/** Load before each action: the kept-alive connections are open to the old version. */
const WARM_UP_MS = 2000;
const LOAD = { newConnectionClients: 4, keepAliveClients: 2 };
const PHASE_LIMIT_MS = 300_000 + HOLD_MS;

// Fails the suite (never skips it) when `make test` has no generated repository.
const repo = generatedRepo(TEMPLATE);
const describeReal = expectedRealNodes > 0 && repo ? describe : describe.skip;

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** overlays/local in `namespace`: kustomize's namespace transformer, on a temp copy. */
function renderInNamespace(dir: string, namespace: string): any[] {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-traffic-'));
  try {
    fs.writeFileSync(path.join(tmp, 'local.yaml'), renderLocal(dir));
    fs.writeFileSync(
      path.join(tmp, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        `namespace: ${namespace}`,
        'resources:',
        '  - local.yaml',
        '',
      ].join('\n'),
    );
    return parseManifests(run(KUBECTL, ['kustomize', tmp]));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Runs the repository's scripts/bg-switch.sh, streaming its output; throws unless it exits 0. */
function bgSwitch(
  dir: string,
  namespace: string,
  args: string[],
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'bash',
      [path.join(dir, 'scripts', 'bg-switch.sh'), ...args],
      {
        cwd: dir,
        env: { ...process.env, KUBECTL, NAMESPACE: namespace },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    const show = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      process.stdout.write(text.replace(/^(?=.)/gm, '[bg-switch] '));
    };
    child.stdout.on('data', show);
    child.stderr.on('data', show);
    child.on('error', reject);
    child.on('close', status =>
      status === 0
        ? resolve(output)
        : reject(
            new Error(
              `scripts/bg-switch.sh ${args.join(
                ' ',
              )} exited with ${status}:\n${output}`,
            ),
          ),
    );
  });
}

/**
 * Runs `write` with a watch on one object open (so the write cannot be missed) and
 * resolves with the time the API server announced the change that made `written` true.
 */
async function timeOfWrite(
  collection: Collection,
  name: string,
  written: (obj: any) => boolean,
  write: () => Promise<unknown>,
): Promise<number> {
  const stop = new AbortController();
  const watch = watchUntil(
    collection,
    { fieldSelector: `metadata.name=${name}` },
    items => items.has(name) && written(items.get(name)),
    PHASE_LIMIT_MS,
    `the write to ${collection.kind} ${name}`,
    stop.signal,
  );
  const writtenAt = watch.done.then(() => Date.now());
  // Awaited below unless the write fails; then the aborted watch's error is expected.
  writtenAt.catch(() => undefined);
  await watch.started;
  try {
    await write();
    return await writtenAt;
  } finally {
    stop.abort();
  }
}

function expectNothingLost(shift: TrafficShift, result: LoadResult) {
  expect(result.failures).toEqual([]);
  expect({ phase: shift.phase, lost: lost(shift) }).toEqual({
    phase: shift.phase,
    lost: 0,
  });
}

describeReal(
  `${TEMPLATE} on the real node: blue-green switch and rollback under load, against a rolling update`,
  () => {
    let c: Clients;
    let ns: string;
    let url: string;
    let service: string;
    let objects: any[];
    const shifts: TrafficShift[] = [];

    const slotDeployment = (slot: string): V1Deployment =>
      objects.find(
        o => o.kind === 'Deployment' && o.metadata.labels[SLOT_LABEL] === slot,
      );
    const versionOf = (slot: string): string =>
      slotDeployment(slot).metadata!.labels!['app.kubernetes.io/version'];
    const imageOf = (slot: string): string =>
      slotDeployment(slot).spec!.template.spec!.containers[0].image!;

    /**
     * One phase: a fresh load, the warm-up, `act` (which returns when its action has
     * finished, with the PATCH's time), `settle`, the hold; then the numbers.
     */
    async function underLoad(
      phase: string,
      target: string,
      act: () => Promise<number>,
      settle: () => Promise<unknown> = async () => undefined,
    ) {
      const load = steadyLoad(url, LOAD);
      let result: LoadResult;
      let startedAt: number;
      let patchedAt: number;
      let actionMs: number;
      try {
        await sleep(WARM_UP_MS);
        startedAt = Date.now();
        patchedAt = await act();
        actionMs = Date.now() - startedAt;
        await settle();
        await sleep(HOLD_MS);
      } finally {
        result = await load.stop();
      }
      const shift = measureShift({
        phase,
        samples: result.samples,
        patchedAt,
        target,
        actionMs,
      });
      shifts.push(shift);
      if (process.env.BG_TRAFFIC_SAMPLES_DIR) {
        fs.writeFileSync(
          path.join(
            process.env.BG_TRAFFIC_SAMPLES_DIR,
            `phase-${shifts.length}.json`,
          ),
          JSON.stringify({ phase, patchedAt, target, samples: result.samples }),
        );
      }
      // Before the action the load reached the old version only.
      const before = result.samples.filter(s => s.answeredAt < startedAt);
      expect(before.length).toBeGreaterThan(0);
      expect(before.filter(s => s.version === target)).toEqual([]);
      return { shift, result };
    }

    /** A blue-green phase: bg-switch.sh `args` moves the live Service to `slot`. */
    const switchUnderLoad = (phase: string, slot: string, args: string[]) =>
      underLoad(phase, versionOf(slot), () =>
        timeOfWrite(
          col.services(ns),
          service,
          svc => svc.spec?.selector?.[SLOT_LABEL] === slot,
          () => bgSwitch(repo!, ns, args),
        ),
      );

    beforeAll(async () => {
      c = clients();
      ns = uniqueName(`${TEST_NAMESPACE_PREFIX}-bg-traffic`);
      // Built from the repository's Dockerfile (one image per slot version), imported
      // into the nodes; cached after the first build.
      await importImages(repo!);
      objects = renderInNamespace(repo!, ns);
      for (const o of objects.filter(x => x.kind === 'Namespace')) {
        Object.assign(o.metadata.labels, TEST_NAMESPACE_LABELS);
      }
      await applyServerSide(c, objects);
      try {
        for (const slot of ['blue', 'green']) {
          await waitForObject(
            col.deployments(ns),
            slotDeployment(slot).metadata!.name!,
            rolloutSucceeded,
            240_000,
            `the ${slot} slot to roll out`,
          );
        }
      } catch (e) {
        throw new Error(`${(e as Error).message}\n${diagnose([ns])}`);
      }
      const live = objects.find(
        o => o.kind === 'Service' && !o.metadata.annotations?.[PREVIEW_OF],
      );
      service = live.metadata.name;
      if (live.spec.selector[SLOT_LABEL] !== 'blue') {
        throw new Error(
          `the typical example must start with blue live, its Service selects ${live.spec.selector[SLOT_LABEL]}`,
        );
      }
      const svc = await c.core.readNamespacedService({
        name: service,
        namespace: ns,
      });
      url = `http://${svc.spec!.clusterIP}:${svc.spec!.ports![0].port}/`;
    }, 900_000);

    afterAll(async () => {
      if (shifts.length) {
        recordLines([
          `blue-green traffic under load (${LOAD.newConnectionClients} clients with a new connection per request, ${LOAD.keepAliveClients} kept alive; times from the PATCH):`,
          ...shiftTable(shifts).map(line => `  ${line}`),
        ]);
      }
      if (ns) await deleteTestNamespace(c.core, ns, 180_000);
    }, 240_000);

    it(
      'scripts/bg-switch.sh switch green loses no request',
      async () => {
        const { shift, result } = await switchUnderLoad(
          'switch blue → green',
          'green',
          ['switch', 'green'],
        );
        expectNothingLost(shift, result);
        // New connections reach only green once the switch is through.
        expect(shift.newConnectionsMovedMs).toBeDefined();
      },
      PHASE_LIMIT_MS,
    );

    it(
      'scripts/bg-switch.sh rollback loses no request',
      async () => {
        const { shift, result } = await switchUnderLoad(
          'rollback green → blue',
          'blue',
          ['rollback'],
        );
        expectNothingLost(shift, result);
        expect(shift.newConnectionsMovedMs).toBeDefined();
      },
      PHASE_LIMIT_MS,
    );

    it(
      'for comparison: a rolling update of the live slot in place loses no request',
      async () => {
        const deployment = slotDeployment('blue').metadata!.name!;
        const from = imageOf('blue');
        const to = imageOf('green');
        const image = '/spec/template/spec/containers/0/image';
        const version =
          '/spec/template/metadata/labels/app.kubernetes.io~1version';
        const { shift, result } = await underLoad(
          'rolling update of blue',
          versionOf('green'),
          async () => {
            const patchedAt = await timeOfWrite(
              col.deployments(ns),
              deployment,
              d => d.spec.template.spec.containers[0].image === to,
              () =>
                c.apps.patchNamespacedDeployment(
                  {
                    name: deployment,
                    namespace: ns,
                    body: [
                      { op: 'test', path: image, value: from },
                      { op: 'replace', path: image, value: to },
                      {
                        op: 'replace',
                        path: version,
                        value: versionOf('green'),
                      },
                    ],
                  },
                  setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
                ),
            );
            await waitForObject(
              col.deployments(ns),
              deployment,
              d => rolloutSucceeded(d) && d.metadata.generation > 1,
              PHASE_LIMIT_MS,
              `the rolling update of ${deployment}`,
            );
            return patchedAt;
          },
          // Until the old pods have drained and exited: nothing old can answer then.
          () =>
            waitForList(
              col.pods(ns),
              { labelSelector: `${SLOT_LABEL}=blue` },
              pods =>
                [...pods.values()].every(
                  p => p.spec.containers[0].image === to,
                ),
              PHASE_LIMIT_MS,
              'the old pods of the blue slot to exit',
            ),
        );
        expectNothingLost(shift, result);
        expect(shift.newConnectionsMovedMs).toBeDefined();
        // The old pods are gone: every kept-alive client reconnected to the new version.
        expect(shift.keepAliveStillOld).toBe(0);
      },
      PHASE_LIMIT_MS,
    );
  },
);
