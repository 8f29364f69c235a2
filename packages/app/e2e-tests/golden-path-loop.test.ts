import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { expect, Page, test } from '@playwright/test';
import {
  chooseTemplate,
  createAndWait,
  fillComponentPage,
  SCREENSHOTS,
  signIn,
} from './helpers';

/*
 * The golden path as a developer walks it (issue 13, item 4): Create → the local Git
 * server → the catalog → Flux → pods Ready on the real node → the entity's Kubernetes
 * and Rollouts tabs; then a commit to the repository reaches the running pods. Runs
 * against what scripts/test-e2e.sh wires exactly as `make start` does
 * (scripts/lib/local-loop.sh): a Gitea at 127.0.0.1:3300, Flux on the local cluster.
 */

const SERVICE = process.env.E2E_LOOP_SERVICE ?? 'golden-loop';
const GITEA_URL = process.env.E2E_GITEA_URL ?? 'http://127.0.0.1:3300';
const GITEA_ORG = process.env.E2E_GITEA_ORG ?? 'golden-path';
const KUBECONFIG = `${
  process.env.PLATFORM_STATE ?? '/tmp/golden-path-platform'
}/kubeconfig`;

function kubectl(args: string[]): string {
  return execFileSync('kubectl', args, {
    env: { ...process.env, KUBECONFIG },
    encoding: 'utf8',
  });
}

/**
 * GET url over a new connection each time: the Service picks a pod per connection, so
 * fetch()'s kept-alive connection would keep asking the same pod.
 */
function getOnNewConnection(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http
      .get(url, { agent: false }, res => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', chunk => {
          body += chunk;
        });
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
    req.setTimeout(5000, () =>
      req.destroy(new Error(`GET ${url}: no answer in 5 s`)),
    );
  });
}

/** The Gitea API with the portal's token (the same identity publish:gitea uses). */
async function gitea(path: string, init: RequestInit = {}) {
  const res = await fetch(`${GITEA_URL}/api/v1${path}`, {
    ...init,
    headers: {
      authorization: `token ${process.env.GITEA_TOKEN}`,
      'content-type': 'application/json',
      ...init.headers,
    },
  });
  if (!res.ok) {
    throw new Error(
      `Gitea ${init.method ?? 'GET'} ${path}: ${
        res.status
      } ${await res.text()}`,
    );
  }
  return res.json();
}

/** A commit on main through Gitea's contents API, as a developer's push lands. */
async function commitFile(
  file: string,
  edit: (text: string) => string,
  message: string,
) {
  const repoPath = `/repos/${GITEA_ORG}/${SERVICE}/contents/${file}`;
  const current = await gitea(`${repoPath}?ref=main`);
  const text = Buffer.from(current.content, 'base64').toString('utf8');
  const changed = edit(text);
  expect(changed).not.toBe(text);
  await gitea(repoPath, {
    method: 'PUT',
    body: JSON.stringify({
      branch: 'main',
      sha: current.sha,
      message,
      content: Buffer.from(changed, 'utf8').toString('base64'),
    }),
  });
}

/** The address the LoadBalancer Service got from the local cluster's pool. */
function serviceAddress(): string {
  return kubectl([
    '-n',
    SERVICE,
    'get',
    'service',
    SERVICE,
    '-o',
    'jsonpath={.status.loadBalancer.ingress[0].ip}',
  ]).trim();
}

async function fillCreateForm(page: Page) {
  await chooseTemplate(page, /^FastAPI static web app/);
  await fillComponentPage(
    page,
    SERVICE,
    'The golden path, walked by the browser test',
  );

  // Web page and Kubernetes
  await page.getByLabel('Replicas').fill('2');
  await page.getByLabel('Deploy with Flux (local cluster)').check();
  await page.getByRole('button', { name: 'Next' }).click();

  // Repository: the local Git server and its organisation are filled in.
  await expect(page.getByRole('textbox', { name: 'Owner' })).toHaveValue(
    GITEA_ORG,
  );
  await page.getByRole('textbox', { name: 'Repository' }).fill(SERVICE);
  // The repository field keeps what was typed when it loses focus (a click on Review
  // straight from the field is taken by that first).
  await page.keyboard.press('Tab');
  await page.getByRole('button', { name: 'Review' }).click();
  await expect(page.getByRole('button', { name: 'Create' })).toBeVisible();
}

test('the golden path: Create publishes to the local Git server, Flux runs it on the real node, a push reaches the pods @cluster', async ({
  page,
}) => {
  test.setTimeout(Number(process.env.E2E_LOOP_TIMEOUT_MS ?? 15 * 60_000));
  await signIn(page);
  await fillCreateForm(page);
  await page.screenshot({
    path: `${SCREENSHOTS}/create-loop-review.png`,
    fullPage: true,
  });

  const createPressed = Date.now();
  // The task's last step waits for the rollout: its links appear once the pods are Ready.
  const openInCatalog = await createAndWait(page);
  const podsReadySeconds = (Date.now() - createPressed) / 1000;
  await page.screenshot({
    path: `${SCREENSHOTS}/create-loop-task.png`,
    fullPage: true,
  });
  const deployment = JSON.parse(
    kubectl(['-n', SERVICE, 'get', 'deployment', SERVICE, '-o', 'json']),
  );
  expect(deployment.status.readyReplicas).toBe(2);

  // The repository is on the Git server, with the service's catalog file.
  const repo = await gitea(`/repos/${GITEA_ORG}/${SERVICE}`);
  expect(repo.default_branch).toBe('main');

  // The entity, registered from the Git server, with its pods on both tabs.
  await openInCatalog.click();
  await expect(page.getByRole('heading', { name: SERVICE })).toBeVisible();
  await page.goto(`/catalog/default/component/${SERVICE}/kubernetes`);
  await expect(page.getByText('No pods with errors')).toBeVisible({
    timeout: 60_000,
  });
  await expect(page.getByText('2 pods')).toBeVisible();
  await page.screenshot({
    path: `${SCREENSHOTS}/create-loop-kubernetes-tab.png`,
    fullPage: true,
  });
  await page.goto(`/catalog/default/component/${SERVICE}/rollouts`);
  // Desired / updated / ready / available, from the plugin's live cache.
  // (The Deployment's row: its description names the namespace and revision.)
  await expect(
    page.getByRole('row').filter({ hasText: `${SERVICE} · revision` }),
  ).toContainText('2 / 2 / 2 / 2', { timeout: 60_000 });
  await page.screenshot({
    path: `${SCREENSHOTS}/create-loop-rollouts-tab.png`,
    fullPage: true,
  });

  // The running page, then a commit that changes it: Flux applies the new ConfigMap,
  // the kubelet refreshes the mounted file, the pods serve the new page.
  const address = serviceAddress();
  expect(address).not.toBe('');
  await page.goto(`http://${address}/`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(
    'Hello from the Golden Path',
  );
  const message = `Changed by a push at ${new Date().toISOString()}`;
  const pushed = Date.now();
  await commitFile(
    'k8s/configmap.yaml',
    text =>
      text.replace(
        /<h1>Hello from the Golden Path<\/h1>/,
        `<h1>Hello from the Golden Path</h1>\n        <p id="pushed">${message}</p>`,
      ),
    'Say hello from a push',
  );
  // The Service spreads requests over both pods, and each pod's kubelet refreshes the
  // mounted ConfigMap on its own sync: the change is served once every pod serves it
  // (one pod serving it while the other still has the old page made the reload below
  // flaky). A pod that served it once keeps serving it.
  const podsServingTheChange = new Set<string>();
  await expect
    .poll(
      async () => {
        const html = await getOnNewConnection(`http://${address}/`);
        const pod = /Served by <strong>([^<]+)<\/strong>/.exec(html)?.[1];
        if (pod && html.includes(message)) podsServingTheChange.add(pod);
        return podsServingTheChange.size;
      },
      { timeout: 5 * 60_000, intervals: [500] },
    )
    .toBe(deployment.status.readyReplicas);
  const pushServedSeconds = (Date.now() - pushed) / 1000;
  await page.reload();
  await expect(page.locator('#pushed')).toHaveText(message);
  await page.screenshot({
    path: `${SCREENSHOTS}/create-loop-page-after-push.png`,
    fullPage: true,
  });

  const times = `Create pressed → pods Ready: ${podsReadySeconds.toFixed(
    1,
  )} s; push → change served by every pod: ${pushServedSeconds.toFixed(1)} s`;
  // eslint-disable-next-line no-console
  console.log(`golden path loop: ${times}`);
  test.info().annotations.push({ type: 'loop times', description: times });
});
