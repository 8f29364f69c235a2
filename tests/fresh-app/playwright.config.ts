import { defineConfig } from '@playwright/test';
import portalConfig from '../../playwright.config';

/**
 * The fresh-app browser test. scripts/test-fresh-app.sh starts the app on a free port and
 * passes its address in FRESH_APP_URL. The browser is the portal's own tests' (Debian's
 * Chromium with the flags that work here).
 */
export default defineConfig({
  testDir: 'src',
  testMatch: '*.spec.ts',
  timeout: 120_000,
  expect: { timeout: 30_000 },
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 1,
  reporter: [['list']],
  use: {
    viewport: { width: 1440, height: 900 },
    baseURL: process.env.FRESH_APP_URL,
    screenshot: 'only-on-failure',
    launchOptions: portalConfig.use?.launchOptions,
  },
  outputDir: process.env.FRESH_APP_RESULTS ?? 'test-results',
});
