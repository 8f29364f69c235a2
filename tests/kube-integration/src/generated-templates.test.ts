/*
 * The repositories the software templates generate (rendered through the scaffolder by
 * the `templates` stage into artifacts/templates), run on the local cluster's real node:
 * platform/local-repo.sh builds each repository's own Dockerfile(s) here and imports the
 * images; its overlays/local (the generated k8s/ unchanged, local image names) is
 * server-side applied (after the repository's own scripts/create-secret.sh, where it has
 * one) with the platform's PostgreSQL stand-in; every Deployment must
 * become available with real containers, i.e. the app starts, passes its startup,
 * readiness and liveness probes under Pod Security "restricted", its PVC is provisioned
 * and its NetworkPolicies let it reach what it needs. Then the repository's own
 * scripts/verify.sh proves the brief's requirements on those pods (every template must
 * have one; a repository whose services export traces gets a Jaeger next to the cluster
 * for it, see tracing.ts); what it records (results.md/tsv, logs, the static web page's screenshot)
 * stays in artifacts/verify/<template>.
 *
 * With NODES=0 (fake nodes only) the manifests are still applied as generated, their pods
 * placed on KWOK nodes: admission and rollout bookkeeping, nothing runs.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './clusterControl';
import {
  applyServerSide,
  diagnose,
  images,
  importImages,
  KUBECTL,
  parseManifests,
  renderLocal,
  requiredGeneratedRepos,
  run,
} from './generatedRepos';
import {
  clients,
  col,
  deleteTestNamespace,
  rolloutSucceeded,
  uniqueName,
  waitForObject,
  workloadOnKwokNodes,
} from './kube';
import { expectedRealNodes } from './realNode';
import { withJaeger } from './tracing';

const VERIFY_ARTIFACTS = path.join(repoRoot, 'artifacts', 'verify');
/** How long one repository's scripts/verify.sh may take (it waits for ConfigMap
 * refreshes, probe restarts, pod replacements). */
const VERIFY_LIMIT_MS = 15 * 60_000;

/**
 * The repositories whose verify.sh waits longest (probe restarts, the breaker's phases)
 * first: a few run at a time (maxConcurrency), and the suite ends when its last one
 * does, so a long one started last would run alone at the end.
 */
const LONGEST_VERIFY = ['fastapi-microservices', 'fastapi-health-monitoring'];
function longestFirst<T extends { template: string }>(list: T[]): T[] {
  const rank = (r: T) => {
    const i = LONGEST_VERIFY.indexOf(r.template);
    return i < 0 ? LONGEST_VERIFY.length : i;
  };
  return [...list].sort((a, b) => rank(a) - rank(b));
}

// Fails the suite (never skips a template) when `make test` lacks a generated repository.
const repos = longestFirst(requiredGeneratedRepos());
const describeIfRendered = repos.length > 0 ? describe : describe.skip;
const onRealNodes = expectedRealNodes > 0;

/**
 * Runs fn once every lock in keys is free, holding them until it settles: repositories
 * that share a namespace never run at the same time, and image builds (which use both
 * cores) one at a time.
 */
const held = new Map<string, Promise<unknown>>();
async function exclusively<T>(keys: string[], fn: () => Promise<T>) {
  const before = keys.map(key => held.get(key) ?? Promise.resolve());
  const done = Promise.allSettled(before).then(fn);
  const settled = done.catch(() => undefined);
  for (const key of keys) held.set(key, settled);
  return done;
}

/** The manifests as the cluster gets them: overlays/local on real nodes, else k8s/. */
function manifests(dir: string): any[] {
  return parseManifests(
    onRealNodes
      ? renderLocal(dir)
      : run(KUBECTL, ['kustomize', path.join(dir, 'k8s')]),
  );
}

/** The Chromium (or Chrome) on PATH, for the screenshots verify scripts take. */
function chromiumOnPath(): string | undefined {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
      const file = path.join(dir, name);
      try {
        fs.accessSync(file, fs.constants.X_OK);
        return file;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/**
 * Runs the repository's scripts/verify.sh against the cluster the tests use, streaming
 * its output; resolves with its exit status and everything it printed. After
 * VERIFY_LIMIT_MS it is sent SIGTERM (its checks restore what they changed on exit).
 */
function runVerify(
  template: string,
  script: string,
  out: string,
  extraEnv: Record<string, string>,
): Promise<{ status: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...extraEnv,
    KUBECTL,
    VERIFY_OUT: out,
  };
  const chrome = chromiumOnPath();
  if (chrome) env.CHROME = chrome;
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], {
      cwd: path.dirname(path.dirname(script)),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    const show = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      process.stdout.write(text.replace(/^(?=.)/gm, `[verify ${template}] `));
    };
    child.stdout.on('data', show);
    child.stderr.on('data', show);
    const timer = setTimeout(() => {
      output += `\nFAIL: scripts/verify.sh still running after ${
        VERIFY_LIMIT_MS / 1000
      } s: stopped\n`;
      // The whole process group: the script, its checks and their port-forwards.
      if (child.pid) process.kill(-child.pid, 'SIGTERM');
    }, VERIFY_LIMIT_MS);
    child.on('error', e => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', status => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

/** The repository's scripts/verify.sh; every template must generate one. */
function verifyScript(template: string, dir: string): string {
  const script = path.join(dir, 'scripts', 'verify.sh');
  if (!fs.existsSync(script)) {
    throw new Error(
      `${template}: the generated repository has no scripts/verify.sh; every template must generate one that proves the brief's requirements`,
    );
  }
  return script;
}

/**
 * The repository's scripts/verify.sh passes on the deployed pods: exit 0, every
 * requirement in results.tsv PASS; the static web app's screenshot is a PNG.
 */
async function expectVerifyPasses(
  template: string,
  dir: string,
  extraEnv: Record<string, string> = {},
) {
  const script = verifyScript(template, dir);
  const out = path.join(VERIFY_ARTIFACTS, template);
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const { status, output } = await runVerify(template, script, out, extraEnv);
  if (status !== 0) {
    const fails = output
      .split('\n')
      .filter(line => /^\s*(FAIL|verify:)/.test(line))
      .map(line => line.trim());
    throw new Error(
      `${template}: scripts/verify.sh exited with ${
        status ?? 'a signal'
      } (results in ${out}):\n${fails.join('\n')}`,
    );
  }
  const tsv = path.join(out, 'results.tsv');
  const rows = fs.existsSync(tsv)
    ? fs
        .readFileSync(tsv, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map(line => line.split('\t'))
    : [];
  expect(rows.length).toBeGreaterThan(0);
  expect(rows.filter(([, result]) => result !== 'PASS')).toEqual([]);
  if (template === 'fastapi-static-web') {
    // The brief's screenshot of the served page, kept as an artifact.
    const png = path.join(out, 'static-web.png');
    expect(fs.existsSync(png)).toBe(true);
    const magic = fs.readFileSync(png).subarray(0, 8);
    expect(magic.equals(Buffer.from('89504e470d0a1a0a', 'hex'))).toBe(true);
  }
}

describeIfRendered(
  `generated repositories on ${
    onRealNodes ? 'the real node' : 'fake (KWOK) nodes'
  }`,
  () => {
    const c = clients();
    const volumes: string[] = [];

    afterAll(async () => {
      for (const name of volumes) {
        await c.core.deletePersistentVolume({ name }).catch(() => undefined);
      }
    });

    // Three repositories at a time (maxConcurrency in jest.config.js): most of a
    // verify.sh is waiting for the cluster (probe restarts, ConfigMap refreshes).
    it.concurrent.each(repos.map(r => [r.template, r.dir] as const))(
      onRealNodes
        ? '%s: overlays/local is applied, every Deployment becomes available and scripts/verify.sh passes'
        : '%s: overlays/local is applied and every Deployment becomes available',
      async (template, dir) => {
        const objects = manifests(dir);
        expect(objects.length).toBeGreaterThan(0);
        if (onRealNodes) {
          // Before building anything: nothing to prove the requirements with.
          verifyScript(template, dir);
          // Built here from the repository's Dockerfile(s) and imported into the nodes;
          // nothing is pulled from a registry.
          const imported = await exclusively(['image builds'], () =>
            importImages(dir),
          );
          for (const image of images(objects)) {
            expect(image).toMatch(/^localhost\//);
            expect(imported).toContain(image);
          }
        } else {
          // No storage provisioner without real nodes: a PersistentVolume per claim.
          for (const claim of objects.filter(
            o => o.kind === 'PersistentVolumeClaim',
          )) {
            const name = uniqueName('pv');
            volumes.push(name);
            await c.core.createPersistentVolume({
              body: {
                metadata: { name },
                spec: {
                  capacity: { storage: claim.spec.resources.requests.storage },
                  accessModes: claim.spec.accessModes,
                  storageClassName: claim.spec.storageClassName ?? '',
                  hostPath: { path: `/tmp/${name}` },
                  claimRef: {
                    namespace: claim.metadata.namespace,
                    name: claim.metadata.name,
                  },
                },
              },
            });
          }
        }

        const namespaces = objects
          .filter(o => o.kind === 'Namespace')
          .map(o => o.metadata.name);
        await exclusively(
          namespaces.map(ns => `namespace ${ns}`),
          () => deployAndVerify(template, dir, objects, namespaces),
        );
      },
      // A cold run builds the images (pip downloads) before deploying; then
      // scripts/verify.sh runs (at most VERIFY_LIMIT_MS), perhaps after another
      // repository in the same namespace.
      2 * (900_000 + VERIFY_LIMIT_MS),
    );

    /** Applies the repository, waits for its Deployments and runs scripts/verify.sh. */
    async function deployAndVerify(
      template: string,
      dir: string,
      objects: any[],
      namespaces: string[],
    ) {
      try {
        // The step the repository's docs run before applying: credentials that
        // never go into Git (the postgres template's scripts/create-secret.sh).
        const createSecret = path.join(dir, 'scripts', 'create-secret.sh');
        if (fs.existsSync(createSecret)) run(createSecret, []);
        await applyServerSide(c, objects, obj =>
          onRealNodes ? obj : workloadOnKwokNodes(obj),
        );

        const deployments = objects.filter(o => o.kind === 'Deployment');
        expect(deployments.length).toBeGreaterThan(0);
        for (const d of deployments) {
          const done = await waitForObject(
            col.deployments(d.metadata.namespace),
            d.metadata.name,
            rolloutSucceeded,
            240_000,
            `Deployment ${d.metadata.namespace}/${d.metadata.name} to become available`,
          );
          expect(done.status.availableReplicas).toBe(d.spec.replicas ?? 1);
        }

        // The brief's requirements, proven by the repository's own script on the
        // running pods, as its docs and its GitHub workflow run it.
        // With a Jaeger next to the cluster where the repository exports traces.
        if (onRealNodes) {
          await withJaeger(c, objects, env =>
            expectVerifyPasses(template, dir, env),
          );
        }
      } catch (e) {
        throw new Error(`${(e as Error).message}\n${diagnose(namespaces)}`);
      } finally {
        for (const ns of namespaces) {
          await deleteTestNamespace(c.core, ns, 180_000);
        }
      }
    }
  },
);
