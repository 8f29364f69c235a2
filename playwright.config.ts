import { defineConfig } from '@playwright/test';
import { generateProjects } from '@backstage/e2e-test-utils/playwright';

/**
 * Browser tests run against a portal that scripts/test-e2e.sh has started (backend on
 * :7007 serving the built app). Chromium is Debian's (/usr/bin/chromium): this machine
 * cannot download Playwright's own browsers.
 */
export default defineConfig({
  timeout: 120_000,
  expect: { timeout: 30_000 },
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 1,
  reporter: [
    ['list'],
    ['html', { open: 'never', outputFolder: 'artifacts/e2e-report' }],
  ],
  use: {
    viewport: { width: 1440, height: 900 },
    baseURL: process.env.PLAYWRIGHT_URL ?? 'http://localhost:7007',
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // The portal deployed on the local cluster (portalOnCluster.test.ts) is
        // reached over plain HTTP where production has HTTPS at the Ingress; the
        // browser withholds APIs the app uses (crypto.randomUUID) from an insecure
        // origin, so that one origin is treated as the secure one it stands for.
        ...(process.env.PORTAL_ON_CLUSTER_URL
          ? [
              `--unsafely-treat-insecure-origin-as-secure=${process.env.PORTAL_ON_CLUSTER_URL}`,
            ]
          : []),
      ],
    },
  },
  outputDir: 'artifacts/e2e-results',
  projects: generateProjects(),
});
