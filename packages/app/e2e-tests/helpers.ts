import { expect, Locator, Page } from '@playwright/test';

/** Where the browser tests' screenshots land: test artifacts of `make test`. */
export const SCREENSHOTS = 'artifacts/screenshots';

/** Guest sign-in, as a new user of `make start` does it. */
export async function signIn(page: Page) {
  await page.goto('/');
  const enter = page.getByRole('button', { name: 'Enter' });
  await expect(enter).toBeVisible();
  await enter.click();
  await expect(
    page.getByRole('link', { name: 'Catalog', exact: true }).first(),
  ).toBeVisible();
}

/** Opens the Create page and chooses the template whose card heading matches TITLE. */
export async function chooseTemplate(page: Page, title: RegExp) {
  await page.goto('/create');
  // The card of the template: the nearest ancestor of its heading with a Choose button.
  await page
    .getByRole('heading', { name: title })
    .locator('xpath=ancestor::*[.//button[normalize-space()="Choose"]][1]')
    .getByRole('button', { name: 'Choose' })
    .click();
}

/** The Component page every template starts with, owned by Platform Team; then Next. */
export async function fillComponentPage(
  page: Page,
  name: string,
  description: string,
) {
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Description').fill(description);
  // The owner picker lists the catalog's groups and users by their display names.
  await page.getByRole('textbox', { name: 'Owner' }).click();
  await page.getByRole('option', { name: 'Platform Team' }).click();
  await page.getByRole('button', { name: 'Next' }).click();
}

/**
 * Presses Create and waits until the task's links appear (its last step is done); a
 * failed step shows its error instead: fail with it at once. Returns the catalog link.
 */
export async function createAndWait(page: Page): Promise<Locator> {
  await page.getByRole('button', { name: 'Create' }).click();
  const openInCatalog = page.getByRole('link', { name: 'Open in catalog' });
  const taskError = page.getByText(/^Error: /);
  await expect(openInCatalog.or(taskError)).toBeVisible({
    timeout: 10 * 60_000,
  });
  if (await taskError.isVisible()) {
    throw new Error(`the Create task failed: ${await taskError.innerText()}`);
  }
  return openInCatalog;
}
