import { expect, Page } from '@playwright/test';

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
