import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, Page, test } from '@playwright/test';
import {
  chooseTemplate,
  createAndWait,
  fillComponentPage,
  SCREENSHOTS,
  signIn,
} from './helpers';
import { expectNoAxeViolations } from './rolloutsTab';

/*
 * The GitOps template's delivery loop (issue 16, item 4), as scripts/test-e2e.sh wires the
 * portal (the local Git server, Flux, the real node): Create runs dev, staging and prod;
 * a commit that changes the service is tested, built and pinned to dev by digest
 * (platform/gitops-loop.sh release: the deploy workflow's jobs, built here); promotion
 * moves that digest to staging, then prod, each checked after deploy; a promotion that
 * breaks the prod overlay is refused by validation. GITOPS_LOOP=full (make gitops-loop)
 * adds a release that reaches dev broken: Flux and the portal show it unhealthy, its
 * promotion is refused, a revert commit heals dev.
 */

const SERVICE = process.env.E2E_GITOPS_SERVICE ?? 'golden-gitops';
const FULL = process.env.GITOPS_LOOP === 'full';
const REPO_ROOT = path.resolve(__dirname, '../../..');
const LOOP = path.join(REPO_ROOT, 'platform/gitops-loop.sh');
const KUBECONFIG = `${
  process.env.PLATFORM_STATE ?? '/tmp/golden-path-platform'
}/kubeconfig`;
const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
type Environment = (typeof ENVIRONMENTS)[number];

function run(
  command: string,
  args: string[],
  cwd?: string,
  env: Record<string, string> = {},
): string {
  return execFileSync(command, args, {
    cwd,
    env: { ...process.env, KUBECONFIG, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * 1024 * 1024,
  }).trim();
}

/** Runs COMMAND expecting it to fail; returns what it printed. */
function runFailing(command: string, args: string[], cwd: string): string {
  try {
    execFileSync(command, args, {
      cwd,
      env: { ...process.env, KUBECONFIG },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const failed = e as { stdout?: string; stderr?: string };
    return `${failed.stdout ?? ''}${failed.stderr ?? ''}`;
  }
  throw new Error(
    `${command} ${args.join(' ')} succeeded; it should have failed`,
  );
}

const loop = (...args: string[]) => run('bash', [LOOP, ...args]);
/**
 * The release: the short loop (make test) skips the repository's pytest, which
 * the template-checks stage already ran on the same rendered files (22-25 s here);
 * the full loop runs it, as the workflow does.
 */
const release = (dir: string) =>
  run('bash', [LOOP, 'release', dir], undefined, {
    RELEASE_SKIP_TESTS: FULL ? '0' : '1',
  });
const git = (dir: string, ...args: string[]) => run('git', args, dir);

/** platform/gitops-loop.sh wait: seconds until Flux applied main's HEAD to ENV. */
function waitFor(
  dir: string,
  env: Environment,
  outcome: 'healthy' | 'unhealthy' = 'healthy',
): number {
  const args = [
    'wait',
    dir,
    env,
    ...(outcome === 'unhealthy' ? ['--unhealthy'] : []),
  ];
  return Number(
    loop(...args)
      .split('\n')
      .pop(),
  );
}

/** GET / of ENV through its Service (the API server's proxy): what the smoke check asks. */
function index(env: Environment): { version: string; environment: string } {
  return JSON.parse(
    run('kubectl', [
      'get',
      '--raw',
      `/api/v1/namespaces/${SERVICE}-${env}/services/http:${SERVICE}:http/proxy/`,
    ]),
  );
}

function imageOf(env: Environment): string {
  return run('kubectl', [
    '-n',
    `${SERVICE}-${env}`,
    'get',
    'deployment',
    SERVICE,
    '-o',
    'jsonpath={.spec.template.spec.containers[0].image}',
  ]);
}

/** Edits FILE in the clone and commits it to main (a developer's merged change). */
function commitChange(
  dir: string,
  file: string,
  edit: (text: string) => string,
  message: string,
) {
  const target = path.join(dir, file);
  const before = readFileSync(target, 'utf8');
  const after = edit(before);
  expect(after).not.toBe(before);
  writeFileSync(target, after);
  git(dir, 'commit', '-q', '-am', message);
  git(dir, 'push', '-q', 'origin', 'HEAD:main');
}

/** The Rollouts tab's row of ENV in the Environments table (one per Kustomization). */
function environmentRow(page: Page, env: Environment) {
  return page
    .getByRole('row')
    .filter({ hasText: `Kustomization flux-system/${SERVICE}-${env}` });
}

/** As the tab shows a digest: sha256: and its first 12 hex digits. */
const shortDigest = (digest: string) => digest.slice(0, 'sha256:'.length + 12);

async function createFromTemplate(page: Page) {
  await chooseTemplate(page, /^FastAPI GitOps pipeline/);
  await fillComponentPage(
    page,
    SERVICE,
    'The GitOps loop, walked by the browser test',
  );
  await page
    .getByLabel('Run dev, staging and prod on the local cluster (Flux)')
    .check();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('textbox', { name: 'Repository' }).fill(SERVICE);
  // The repository field keeps what was typed when it loses focus.
  await page.keyboard.press('Tab');
  await page.getByRole('button', { name: 'Review' }).click();
  // The task ends when Flux reports the three environments healthy.
  await createAndWait(page);
}

test('GitOps: Create runs dev, staging and prod; a release reaches dev and is promoted to staging and prod by digest; validation stops a broken promotion @cluster', async ({
  page,
}) => {
  test.setTimeout(Number(process.env.E2E_GITOPS_TIMEOUT_MS ?? 20 * 60_000));
  const times: string[] = [];
  const time = (label: string, seconds: number) => {
    times.push(`${label}: ${seconds.toFixed(1)} s`);
  };
  const since = (start: number) => (Date.now() - start) / 1000;

  await signIn(page);
  const createPressed = Date.now();
  await createFromTemplate(page);
  time('Create pressed → dev, staging and prod healthy', since(createPressed));
  for (const env of ENVIRONMENTS) {
    expect(index(env)).toMatchObject({ environment: env, version: '0.1.0' });
  }

  const work = mkdtempSync(path.join(os.tmpdir(), 'gitops-loop-'));
  try {
    const clone = path.join(work, SERVICE);
    loop('clone', SERVICE, clone);

    // A commit that changes the service: version 0.2.0.
    const committed = Date.now();
    commitChange(
      clone,
      'app/__init__.py',
      text => text.replace('__version__ = "0.1.0"', '__version__ = "0.2.0"'),
      'Release 0.2.0',
    );
    const digest = release(clone).split('\n').pop()!;
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    waitFor(clone, 'dev');
    time(
      'commit → dev healthy (test, build, digest commit, Flux)',
      since(committed),
    );
    expect(index('dev').version).toBe('0.2.0');
    expect(imageOf('dev')).toBe(`localhost/${SERVICE}@${digest}`);
    // Not promoted yet: staging still runs what Create started.
    expect(index('staging').version).toBe('0.1.0');

    for (const env of ['staging', 'prod'] as const) {
      const promoted = Date.now();
      loop('promote', clone, env);
      waitFor(clone, env);
      time(`promotion → ${env} healthy`, since(promoted));
      expect(index(env).version).toBe('0.2.0');
      expect(imageOf(env)).toBe(`localhost/${SERVICE}@${digest}`);
    }

    // A promotion pull request that pins prod's replicas (its HPA owns them) fails the
    // pre-merge validation the workflow runs: it never reaches Git.
    const prodPatch = path.join(clone, 'overlays/prod/patches/deployment.yaml');
    writeFileSync(
      prodPatch,
      readFileSync(prodPatch, 'utf8').replace(
        /^spec:\n/m,
        'spec:\n  replicas: 3\n',
      ),
    );
    const refused = runFailing(
      'scripts/validate-deployment.sh',
      ['pre-merge', 'prod', '--digest', digest],
      clone,
    );
    expect(refused).toMatch(/FAIL prod\/policy: .*replicas/);
    git(clone, 'checkout', '-q', '--', 'overlays/prod');

    await page.goto(`/catalog/default/component/${SERVICE}/rollouts`);
    for (const env of ENVIRONMENTS) {
      const row = environmentRow(page, env);
      await expect(row).toContainText('Ready ·', { timeout: 60_000 });
      await expect(row).toContainText(shortDigest(digest));
    }
    await expectNoAxeViolations(page, 'GitOps environments');
    await page.screenshot({
      path: `${SCREENSHOTS}/gitops-environments.png`,
      fullPage: true,
    });

    if (FULL) {
      // A release that passes its tests but cannot start: dev shows it unhealthy (the
      // old pods keep serving), its promotion is refused, a revert heals dev.
      const broken = Date.now();
      commitChange(
        clone,
        'Dockerfile',
        text =>
          text.replace(
            'CMD ["python", "-m", "app"]',
            'CMD ["python", "-m", "app.missing"]',
          ),
        'Release with a wrong entrypoint',
      );
      const brokenDigest = release(clone).split('\n').pop()!;
      waitFor(clone, 'dev', 'unhealthy');
      time('broken release → Flux reports dev unhealthy', since(broken));
      expect(index('dev').version).toBe('0.2.0');
      const devRow = environmentRow(page, 'dev');
      await expect(devRow).toContainText('HealthCheckFailed', {
        timeout: 60_000,
      });
      await page.screenshot({
        path: `${SCREENSHOTS}/gitops-environments-dev-unhealthy.png`,
        fullPage: true,
      });
      const gate = runFailing(
        'bash',
        [LOOP, 'promote', clone, 'staging'],
        clone,
      );
      expect(gate).toContain(`dev does not run ${brokenDigest} healthily`);
      expect(imageOf('staging')).toBe(`localhost/${SERVICE}@${digest}`);

      const reverted = Date.now();
      // The digest commit and the change itself, reverted in one push.
      git(clone, 'revert', '--no-edit', 'HEAD', 'HEAD~1');
      git(clone, 'push', '-q', 'origin', 'HEAD:main');
      waitFor(clone, 'dev');
      time('revert → dev healthy', since(reverted));
      expect(imageOf('dev')).toBe(`localhost/${SERVICE}@${digest}`);
      await expect(devRow).toContainText('Ready ·', { timeout: 60_000 });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const summary = times.join('; ');
  // eslint-disable-next-line no-console
  console.log(`gitops loop${FULL ? ' (full)' : ''}: ${summary}`);
  test
    .info()
    .annotations.push({ type: 'gitops loop times', description: summary });
});
