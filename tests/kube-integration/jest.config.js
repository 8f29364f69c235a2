/*
 * Jest config for the Kubernetes integration tests.
 *
 * These tests need a running API server, so they are deliberately NOT a Backstage
 * package (no "backstage.role"): `backstage-cli repo test` skips them. Run them with
 * scripts/test-kube-integration.sh (or `yarn workspace @internal/kube-integration-tests
 * test:integration`).
 *
 * globalSetup starts the local control plane (platform/cluster.sh) unless
 * KUBECONFIG is set; globalTeardown stops it if globalSetup started it.
 *
 * @kubernetes/client-node 1.x is ESM-only; the SWC transform turns it (and its ESM
 * dependencies) into CommonJS for Jest, as `backstage-cli` does for plugins.
 */
const swcTransform = require.resolve('./jest-swc-transform.js');

module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/src/**/*.test.ts'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  transform: {
    '\\.(mjs|cjs|js)$': [
      swcTransform,
      { jsc: { parser: { syntax: 'ecmascript' } } },
    ],
    '\\.ts$': [swcTransform, { jsc: { parser: { syntax: 'typescript' } } }],
  },
  // Transform ESM packages in node_modules too (client-node, openid-client, ...).
  transformIgnorePatterns: ['/node_modules/(?:typescript|jest-.*|@jest/.*)/'],
  globalSetup: '<rootDir>/src/globalSetup.ts',
  globalTeardown: '<rootDir>/src/globalTeardown.ts',
  testTimeout: 180000,
  // One file at a time by default; scripts/test-kube-integration.sh runs two
  // (KUBE_INTEGRATION_WORKERS).
  maxWorkers: 1,
  // it.concurrent tests (generated-templates.test.ts): three at a time on 2 cores, as
  // they mostly wait for the cluster (probe restarts, ConfigMap refreshes).
  maxConcurrency: 3,
  verbose: true,
};
