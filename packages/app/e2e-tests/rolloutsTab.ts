import AxeBuilder from '@axe-core/playwright';
import { expect, Page } from '@playwright/test';
import { SCREENSHOTS } from './helpers';

/** The Rollouts tab's details views, in tab order (plugins/rollouts ClusterDetails). */
export const ROLLOUTS_DETAIL_VIEWS = [
  'Deployments',
  'Pods & probes',
  'Resources & quota',
  'Autoscaling',
  'Blue-green',
  'Events',
] as const;

export type RolloutsDetailView = (typeof ROLLOUTS_DETAIL_VIEWS)[number];

/** The tab's own content: axe checks it, not the portal's frame around it. */
const ROLLOUTS_TAB = '[data-testid="rollouts-tab"]';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Opens a details view of the first cluster (tabs may end with a count, as in
 * "Events (3)") and waits until it shows.
 */
export async function openRolloutsDetails(
  page: Page,
  view: RolloutsDetailView,
) {
  const tab = page
    .getByRole('tab', { name: new RegExp(`^${escapeRegExp(view)}`) })
    .first();
  await tab.click();
  await expect(tab).toHaveAttribute('aria-selected', 'true');
}

/** Fails with axe's violations (rule, impact, elements) inside the Rollouts tab. */
export async function expectNoAxeViolations(page: Page, what: string) {
  const results = await new AxeBuilder({ page })
    .include(ROLLOUTS_TAB)
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  const violations = results.violations.map(v => ({
    rule: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map(n => n.target.join(' ')),
  }));
  expect({ what, violations }).toEqual({ what, violations: [] });
}

function screenshotName(view: string): string {
  return view
    .toLowerCase()
    .replace(/&/g, 'and')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

/**
 * Opens an entity's Rollouts tab, checks the summary and every details view
 * with axe (WCAG 2.1 A and AA, colour contrast included: the jsdom test cannot
 * check that), and saves a screenshot of each under the test artifacts:
 * `rollouts-summary.png`, `rollouts-deployments.png`,
 * `rollouts-pods-and-probes.png`, ... `rollouts-events.png`.
 */
export async function checkRolloutsTab(
  page: Page,
  entityPath = '/catalog/default/component/fastapi-demo',
) {
  await page.goto(`${entityPath}/rollouts`);
  await expect(
    page.getByRole('tablist', { name: /^Details of cluster / }).first(),
  ).toBeVisible({ timeout: 60_000 });
  await expectNoAxeViolations(page, 'summary');
  await page.screenshot({
    path: `${SCREENSHOTS}/rollouts-summary.png`,
    fullPage: true,
  });
  for (const view of ROLLOUTS_DETAIL_VIEWS) {
    await openRolloutsDetails(page, view);
    await expectNoAxeViolations(page, view);
    await page.screenshot({
      path: `${SCREENSHOTS}/rollouts-${screenshotName(view)}.png`,
      fullPage: true,
    });
  }
}
