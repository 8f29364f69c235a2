import { expect, test } from '@playwright/test';
import { signIn } from '../../../packages/app/e2e-tests/helpers';

/**
 * The entity scripts/test-fresh-app.sh registers: a Component with
 * `backstage.io/kubernetes-id`, the annotation the Rollouts tab appears for.
 */
const ENTITY = process.env.FRESH_APP_ENTITY ?? 'fresh-app-demo';
const ENTITY_PATH = `/catalog/default/component/${ENTITY}`;
/** The cluster name in the app's config, when the script pointed it at one. */
const CLUSTER = process.env.FRESH_APP_CLUSTER;
const SCREENSHOT = process.env.FRESH_APP_SCREENSHOT;

test('a fresh app shows the Rollouts tab of an entity with backstage.io/kubernetes-id', async ({
  page,
}) => {
  if (!process.env.FRESH_APP_URL) {
    throw new Error(
      'FRESH_APP_URL is not set: run this test through scripts/test-fresh-app.sh',
    );
  }
  // The same guest sign-in as the portal's own browser tests: create-app's default.
  await signIn(page);

  // The overview shows the plugin's card; the tab is in the entity page's navigation,
  // in its "Deployment" group (the extension's group) where the app has one.
  await page.goto(ENTITY_PATH);
  await expect(page.getByRole('heading', { name: ENTITY })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Rollouts' })).toBeVisible();
  const nav = page.getByRole('navigation', { name: 'Content navigation' });
  const group = nav.getByRole('button', { name: 'Deployment' });
  if (await group.isVisible()) await group.click();
  await page
    .getByRole('menuitemradio', { name: 'Rollouts' })
    .or(nav.getByRole('link', { name: 'Rollouts', exact: true }))
    .first()
    .click({ timeout: 30_000 });
  await expect(page).toHaveURL(new RegExp(`${ENTITY_PATH}/rollouts$`));

  const content = page.getByTestId('rollouts-tab');
  await expect(content).toBeVisible();
  if (CLUSTER) {
    // The backend plugin read the cluster: its header says it is connected.
    await expect(content.getByText(CLUSTER).first()).toBeVisible({
      timeout: 60_000,
    });
    await expect(content.getByText('Connected').first()).toBeVisible();
    // ...and found the entity's workloads there: the summary has a row (named
    // by its workload's row header) for at least one.
    await expect(content.getByRole('rowheader').first()).toBeVisible({
      timeout: 60_000,
    });
  } else {
    // No cluster configured: the plugin's own empty state, not an error.
    await expect(content.getByText('No cluster configured')).toBeVisible();
  }
  // Neither the plugin's load error nor the app's error boundary.
  await expect(page.getByText('Could not load rollouts')).toHaveCount(0);
  await expect(page.getByText(/Error: |is not a function/)).toHaveCount(0);
  if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT, fullPage: true });
});
