import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { expect, Page, test } from '@playwright/test';
import yaml from 'yaml';
import { SCREENSHOTS, signIn } from './helpers';
import { checkRolloutsTab, openRolloutsDetails } from './rolloutsTab';

/**
 * TechDocs keeps the page in the DOM but transparent until its stylesheets load (a
 * stylesheet that cannot load keeps it hidden for ever), so Playwright's visibility
 * check alone is not enough: every ancestor, across the shadow root, must be opaque.
 */
async function expectDocsRendered(page: Page, timeout = 180_000) {
  const heading = page
    .locator('[data-testid="techdocs-native-shadowroot"]')
    .getByRole('heading', { level: 1 });
  await expect(heading).toBeVisible({ timeout });
  await expect
    .poll(
      () =>
        heading.evaluate(el => {
          for (let n: Node | null = el; n; ) {
            if (n instanceof Element) {
              const style = getComputedStyle(n);
              if (style.opacity === '0' || style.visibility === 'hidden') {
                return false;
              }
            }
            n = n.parentNode ?? (n instanceof ShadowRoot ? n.host : null);
          }
          return true;
        }),
      { timeout },
    )
    .toBe(true);
}

test.beforeEach(async ({ page }) => {
  await signIn(page);
});

test('the catalog lists the portal’s own entities', async ({ page }) => {
  // The catalog is the portal's home page (app-config.yaml: page:catalog path /).
  await page.goto('/?filters[kind]=component&filters[user]=all');
  for (const title of [
    'Golden Path Portal (app and backend)',
    'FastAPI demo service',
    'Rollouts plugin',
  ]) {
    await expect(
      page.getByRole('link', { name: title, exact: true }),
    ).toBeVisible();
  }
  await page.screenshot({ path: `${SCREENSHOTS}/catalog.png`, fullPage: true });
});

test('the Create page lists every template in templates/', async ({ page }) => {
  const titles = fs
    .readdirSync('templates', { withFileTypes: true })
    .filter(entry => entry.isDirectory())
    .map(
      entry =>
        yaml.parse(
          fs.readFileSync(`templates/${entry.name}/template.yaml`, 'utf8'),
        ).metadata.title as string,
    );
  expect(titles.length).toBeGreaterThanOrEqual(5);
  await page.goto('/create');
  for (const title of titles) {
    await expect(page.getByText(title, { exact: true })).toBeVisible();
  }
  await page.screenshot({ path: `${SCREENSHOTS}/create.png`, fullPage: true });
});

test('TechDocs renders the portal documentation', async ({ page }) => {
  // The first visit builds the site with the local mkdocs generator.
  await page.goto('/docs/default/component/golden-path-portal');
  await expectDocsRendered(page);
  await page.screenshot({
    path: `${SCREENSHOTS}/techdocs.png`,
    fullPage: true,
  });
});

test('TechDocs shows the diagrams as pictures', async ({ page }) => {
  // Every visit of a `dir:` site re-checks the build, so give each page its time.
  test.setTimeout(600_000);
  const pages = [
    'architecture/portal',
    'deployments/fastapi-multi-tier',
    'deployments/fastapi-microservices',
    'deployments/fastapi-blue-green',
    'deployments/fastapi-gitops',
    'theory/q09-architecture',
  ];
  for (const docPath of pages) {
    await page.goto(`/docs/default/component/golden-path-portal/${docPath}/`);
    await expectDocsRendered(page);
    // Graphviz renders at build time: each diagram is an inline SVG with its nodes.
    const diagram = page
      .locator('[data-testid="techdocs-native-shadowroot"]')
      .locator('svg:has(g.node)')
      .first();
    await diagram.scrollIntoViewIfNeeded();
    await expect(diagram).toBeInViewport();
    const box = await diagram.boundingBox();
    expect(box?.width).toBeGreaterThan(200);
    expect(box?.height).toBeGreaterThan(100);
    await page.screenshot({
      path: `${SCREENSHOTS}/techdocs-${docPath.replace('/', '-')}.png`,
      fullPage: true,
    });
  }
});

test('search finds the theory pages', async ({ page }) => {
  // The TechDocs collator re-indexes every 10 s in this run (scripts/test-e2e.sh; every
  // minute in app-config.yaml); the docs were built by the tests above.
  await expect(async () => {
    await page.goto('/search?query=OOMKilled');
    await expect(
      page.getByText(/Resource Management|OOMKilled/i).first(),
    ).toBeVisible({ timeout: 5_000 });
    await expect(page.getByText(/q06|Q6/i).first()).toBeVisible({
      timeout: 5_000,
    });
  }).toPass({ timeout: 180_000, intervals: [3_000] });
  await page.screenshot({ path: `${SCREENSHOTS}/search.png`, fullPage: true });
});

test.describe('the example service’s Kubernetes tab', () => {
  test('without a cluster, it says what to configure', async ({ page }) => {
    await page.goto('/catalog/default/component/fastapi-demo/kubernetes');
    await expect(page.getByText('No Kubernetes resources')).toBeVisible();
    await expect(page.getByText(/set K8S_CLUSTER_URL/)).toBeVisible();
    await page.screenshot({
      path: `${SCREENSHOTS}/kubernetes-tab-no-cluster.png`,
      fullPage: true,
    });
  });

  test('with the demo cluster, it shows the demo pods @cluster', async ({
    page,
  }) => {
    await page.goto('/catalog/default/component/fastapi-demo/kubernetes');
    await expect(page.getByText('Your Clusters')).toBeVisible();
    await expect(page.getByText('No pods with errors')).toBeVisible();
    // 3 pods of fastapi-demo, 2 blue and 2 green: all Ready under KWOK.
    const pods = page.getByText(/^\d+ pods$/);
    await expect(pods).toHaveText('7 pods');
    await pods.click();
    await expect(page.getByText(/demo-api-blue/).first()).toBeVisible();
    await expect(page.getByText(/demo-api-green/).first()).toBeVisible();
    await page.screenshot({
      path: `${SCREENSHOTS}/kubernetes-tab-demo.png`,
      fullPage: true,
    });
  });
});

/** A value of the blue-green pair's summary ("Live slot", "Preview Service", ...). */
function pairSummary(page: Page, term: string) {
  return page
    .locator('dt', { hasText: term })
    .first()
    .locator('xpath=following-sibling::dd[1]');
}

test('the Rollouts tab shows rollouts, probes and quota, and switches traffic @cluster', async ({
  page,
}) => {
  await page.goto('/catalog/default/component/fastapi-demo/rollouts');
  // The summary first, the details in tabs.
  await expect(page.getByText('demo-api-blue').first()).toBeVisible({
    timeout: 60_000,
  });
  await openRolloutsDetails(page, 'Pods & probes');
  await expect(page.getByText(/liveness/i).first()).toBeVisible();
  await openRolloutsDetails(page, 'Resources & quota');
  await expect(page.getByText(/quota/i).first()).toBeVisible();
  await openRolloutsDetails(page, 'Blue-green');
  const liveSlot = pairSummary(page, 'Live slot');
  await expect(liveSlot).toBeVisible();
  // "Live" only once the backend's keepalive arrived over the signals WebSocket.
  await expect(
    page.getByText('Live: the page updates when the cluster changes.'),
  ).toBeVisible({ timeout: 45_000 });
  await page.screenshot({
    path: `${SCREENSHOTS}/rollouts-before.png`,
    fullPage: true,
  });

  await expect(liveSlot).toContainText('blue');
  await page.getByRole('button', { name: 'Switch to green' }).click();
  await expect(page.getByRole('dialog')).toContainText('Switch');
  await page
    .getByRole('dialog')
    .getByRole('button', { name: 'Switch' })
    .click();
  await expect(
    page.getByText(/Traffic moved from blue to green in \d+ ms/),
  ).toBeVisible({
    timeout: 60_000,
  });
  await expect(liveSlot).toContainText('green', { timeout: 30_000 });
  await page.screenshot({
    path: `${SCREENSHOTS}/rollouts-after-switch.png`,
    fullPage: true,
  });

  // And back, so the demo is left as it was.
  await page.getByRole('button', { name: 'Roll back to blue' }).click();
  await page
    .getByRole('dialog')
    .getByRole('button', { name: 'Roll back' })
    .click();
  await expect(liveSlot).toContainText('blue', { timeout: 30_000 });
});

test('the Rollouts tab passes axe (WCAG 2.1 AA) in its summary and every details view, each screenshotted @cluster', async ({
  page,
}) => {
  await checkRolloutsTab(page);
});

test('real pods: the demo actions make the Rollouts tab show an OOMKilled and a liveness restart, and the HPA real CPU @cluster', async ({
  page,
}) => {
  test.setTimeout(240_000);
  // The documented demo actions (README, "Try it"): one fastapi-demo pod allocates past
  // its memory limit; one demo-api-green pod fails its liveness probe.
  const demo = (...args: string[]) =>
    execFileSync('bash', ['platform/demo.sh', 'chaos', ...args], {
      stdio: 'inherit',
      timeout: 60_000,
    });
  demo('oom', 'fastapi-demo');
  demo('restart', 'demo-api-green');

  await page.goto('/catalog/default/component/fastapi-demo/rollouts');
  await openRolloutsDetails(page, 'Pods & probes');
  // Real termination reasons from the kubelet, as the Rollouts tab shows them.
  await expect(page.getByText('OOMKilled (exit 137)').first()).toBeVisible({
    timeout: 60_000,
  });
  await expect(
    page
      .getByText(/Last run was killed for using more memory than its limit/)
      .first(),
  ).toBeVisible();
  // The app drains and exits 0 when the kubelet stops it for failing liveness.
  await expect(page.getByText('Completed (exit 0)').first()).toBeVisible({
    timeout: 120_000,
  });
  // The HPA scales on real CPU, measured by metrics-server from the running pods.
  await openRolloutsDetails(page, 'Autoscaling');
  await expect(page.getByText(/Resource cpu: \d+% \/ 70%/).first()).toBeVisible(
    { timeout: 120_000 },
  );
  await page.screenshot({
    path: `${SCREENSHOTS}/rollouts-real-restarts.png`,
    fullPage: true,
  });
});

test('the generated blue-green service: the Rollouts tab shows its preview Service and switches it after the smoke test @cluster', async ({
  page,
}) => {
  // The fastapi-blue-green template's typical example (component "shop"), running on
  // the real node (scripts/test-e2e.sh).
  await page.goto('/catalog/default/component/shop/rollouts');
  await openRolloutsDetails(page, 'Blue-green');
  const live = pairSummary(page, 'Live slot');
  const preview = pairSummary(page, 'Preview Service');
  const checks = page
    .getByRole('dialog')
    .getByRole('list', { name: 'Checks before the switch' });
  await expect(live).toHaveText('blue', { timeout: 60_000 });
  await expect(pairSummary(page, 'Idle slot')).toHaveText('green');
  await expect(preview).toContainText(
    /shop-preview → green \(2 ready endpoints\)/,
  );

  await page.getByRole('button', { name: 'Switch to green' }).click();
  // The same checks as scripts/bg-switch.sh, the smoke test through the preview
  // Service included, before anything is written.
  await expect(checks.getByLabel('Smoke test: passed')).toBeVisible({
    timeout: 60_000,
  });
  await expect(checks.getByLabel('Target slot: passed')).toBeVisible();
  await expect(checks.getByLabel('Preview Service: passed')).toBeVisible();
  await page.screenshot({
    path: `${SCREENSHOTS}/rollouts-generated-switch-checks.png`,
    fullPage: true,
  });
  await page
    .getByRole('dialog')
    .getByRole('button', { name: 'Switch' })
    .click();
  await expect(
    page.getByText(/Traffic moved from blue to green in \d+ ms/),
  ).toBeVisible({ timeout: 60_000 });
  await expect(live).toHaveText('green', { timeout: 30_000 });
  // As the script does: the preview now selects the slot that was live.
  await expect(preview).toContainText('shop-preview → blue', {
    timeout: 30_000,
  });
  await page.screenshot({
    path: `${SCREENSHOTS}/rollouts-generated-after-switch.png`,
    fullPage: true,
  });

  await page.getByRole('button', { name: 'Roll back to blue' }).click();
  await expect(checks.getByLabel('Smoke test: passed')).toBeVisible({
    timeout: 60_000,
  });
  await page
    .getByRole('dialog')
    .getByRole('button', { name: 'Roll back' })
    .click();
  await expect(live).toHaveText('blue', { timeout: 30_000 });
  await expect(preview).toContainText('shop-preview → green', {
    timeout: 30_000,
  });
});
