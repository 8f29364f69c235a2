import { expect, test } from '@playwright/test';
import { SCREENSHOTS, signIn } from './helpers';

/*
 * Smoke test of the portal deployed from deploy/portal/ on the local cluster's
 * real nodes, through its Service (scripts/test-portal-on-cluster.sh sets
 * PORTAL_ON_CLUSTER_URL and PLAYWRIGHT_URL). The Rollouts tab of the portal's
 * own entity reads its own Deployment through the pod's in-cluster identity
 * (portal-rollouts, deploy/portal/rbac.yaml).
 */
const PORTAL_URL = process.env.PORTAL_ON_CLUSTER_URL;
test.skip(
  !PORTAL_URL,
  'only against the deployed portal: scripts/test-portal-on-cluster.sh',
);

// Chromium treats PORTAL_URL as a secure origin (playwright.config.ts).
test('the deployed portal serves the catalog and its own Rollouts tab, live @portal-on-cluster', async ({
  page,
}) => {
  await signIn(page);
  await page.goto('/?filters[kind]=component&filters[user]=all');
  await expect(
    page.getByRole('link', {
      name: 'Golden Path Portal (app and backend)',
      exact: true,
    }),
  ).toBeVisible();
  await page.screenshot({
    path: `${SCREENSHOTS}/portal-on-cluster-catalog.png`,
    fullPage: true,
  });

  await page.goto('/catalog/default/component/golden-path-portal/rollouts');
  // The portal's own Deployment, as the in-cluster identity (portal-rollouts) reads it.
  await expect(
    page.getByRole('tablist', { name: /^Details of cluster / }).first(),
  ).toBeVisible({ timeout: 60_000 });
  await expect(page.getByText('Connected', { exact: true })).toBeVisible();
  const portalRow = page.getByRole('row', {
    name: 'portal golden-path-portal',
    exact: true,
  });
  await expect(portalRow).toContainText('Healthy');
  await expect(portalRow).toContainText('3 / 3');
  // "Live" only once the backend's keepalive arrived over the signals WebSocket.
  await expect(
    page.getByText('Live: the page updates when the cluster changes.'),
  ).toBeVisible({ timeout: 45_000 });
  await page.screenshot({
    path: `${SCREENSHOTS}/portal-on-cluster-rollouts.png`,
    fullPage: true,
  });
});
